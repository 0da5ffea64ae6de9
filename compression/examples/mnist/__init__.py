"""MNIST worked example: learned compression of handwritten digits.

Run `python -m compression.examples.mnist --help`. Modules:

  data       IDX (.gz) reader for the four MNIST files
  model      analysis/synthesis transforms on raw TF ops
  container  the .mnz file format holding many compressed digits
  config     config.json of a model directory, validated
  paths      checks of output paths given on the command line
  errors     the errors reported as one line
  train      training graph and loop (checkpoints, metrics.json)
  codec      compress-only and decompress-only graphs
  files      compress/decompress between digits and .mnz files
  evaluate   real coded bits, MAE, PSNR, per class; round-trip check
  metrics    MAE/MSE/PSNR on 8-bit reconstructions
  images     PNG input/output, grids
  plots      rate-distortion and example figures (matplotlib)
  sweep      train/evaluate several lambdas
  sample     decode random bytes: the decoder as a generative model
  demo       the end-to-end demo
  commands   the command line
"""

"""Matplotlib figures for the sweep (Agg backend: files only, no display).

Matplotlib is imported only when a figure is drawn (`_pyplot`), so the rest
of the example works without the examples extra.
"""

import textwrap

import numpy as np

from compression.examples.mnist import errors


# Points to compare with: the TensorFlow Compression MNIST tutorial (same
# transforms, NoisyLogistic prior, 15 epochs), as (bits per digit, MAE).
# Estimated: bits as that model estimates them, at lambda 2000, 500 and 300.
# Coded: actual strings, one per digit, measured by running the tutorial on a
# 2-core machine like this one, at lambda 2000, 1000, 500 and 300.
REFERENCE = (
    ("TFC tutorial (estimated bits)", "x",
     ((41.0, 0.036), (15.0, 0.060), (8.3, 0.077))),
    ("TFC tutorial (coded, one string per digit)", "+",
     ((43.7, 0.0362), (27.2, 0.0481), (17.1, 0.0605), (10.8, 0.0791))),
)


# One colour per prior, in the order the rows name them.
_COLOURS = ("tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown")


def _pyplot():
  """matplotlib.pyplot with the Agg backend, or MissingDependencyError."""
  matplotlib = errors.require("matplotlib", "matplotlib", "drawing figures")
  matplotlib.use("Agg")
  return errors.require("matplotlib.pyplot", "matplotlib", "drawing figures")


def rate_distortion(rows, path):
  """Bits/digit vs MAE and vs PSNR, one point per lambda: coded (one string
  per digit), estimated and, when the rows have shared_file_bits_per_digit,
  whole files coded as one shared string. Rows with a "prior" get one colour
  per prior (no "prior": deep_factorized)."""
  plt = _pyplot()
  by_prior = {}
  for r in rows:
    by_prior.setdefault(str(r.get("prior", "deep_factorized")), []).append(r)
  fig, axes = plt.subplots(1, 2, figsize=(10, 5.5), constrained_layout=True)
  for ax, key, label in ((axes[0], "mae", "MAE (pixels in [0, 1])"),
                         (axes[1], "psnr", "PSNR (dB)")):
    for (prior, group), colour in zip(by_prior.items(), _COLOURS):
      group = sorted(group, key=lambda r: r["coded_bits_per_digit"])
      bits = [r["coded_bits_per_digit"] for r in group]
      values = [r[key] for r in group]
      ax.plot(bits, values, "o-", color=colour,
              label=f"{prior}: coded bits, one string per digit")
      ax.plot([r["estimated_bits_per_digit"] for r in group], values, ".--",
              color=colour, alpha=0.6, label=f"{prior}: estimated bits")
      if all("shared_file_bits_per_digit" in r for r in group):
        ax.plot([r["shared_file_bits_per_digit"] for r in group], values,
                "s:", color=colour, markersize=4,
                label=f"{prior}: file bits, one shared string (files of "
                "1000 digits)")
      for b, v, r in zip(bits, values, group):
        ax.annotate(f"λ={r['lambda']:g}", (b, v), textcoords="offset points",
                    xytext=(4, 4), fontsize=7, color=colour)
    ax.set_xlabel("bits per digit")
    ax.set_ylabel(label)
    ax.grid(True, alpha=0.3)
  for name, marker, points in REFERENCE:
    axes[0].plot(*zip(*points), marker, color="tab:red", markersize=8,
                 label=name)
  # One legend, below both plots.
  fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
             ncol=3, fontsize=7)
  axes[0].set_title("Rate vs MAE")
  axes[1].set_title("Rate vs PSNR")
  fig.savefig(path, dpi=120)
  plt.close(fig)


def examples(originals, reconstructions, strings, bits, labels, title, path):
  """Up to 16 digits: original, reconstruction, bits and the string in hex."""
  plt = _pyplot()
  n = min(16, len(originals))
  rows = (n + 1) // 2
  fig = plt.figure(figsize=(13, 1.3 * rows + 0.6))
  grid = fig.add_gridspec(rows, 6, width_ratios=[1, 1, 3.2, 1, 1, 3.2],
                          wspace=0.08, hspace=0.35)
  for i in range(n):
    r, c = i % rows, 3 * (i // rows)
    for j, (img, name) in enumerate(((originals[i], "original"),
                                     (reconstructions[i], "decoded"))):
      ax = fig.add_subplot(grid[r, c + j])
      ax.imshow(np.asarray(img), cmap="gray_r", vmin=0,
                vmax=255 if np.asarray(img).dtype == np.uint8 else 1)
      ax.set_xticks([])
      ax.set_yticks([])
      if r == 0:
        ax.set_title(name, fontsize=8)
    ax = fig.add_subplot(grid[r, c + 2])
    ax.axis("off")
    hex_text = "\n".join(textwrap.wrap(strings[i].hex(), 32)) or "(empty)"
    label = f"label {labels[i]}, " if labels[i] >= 0 else ""
    ax.text(0.02, 0.95, f"#{i}: {label}{8 * len(strings[i])} bits "
            f"(est. {bits[i]:.1f})\n{hex_text}", va="top", ha="left",
            family="monospace", fontsize=7, transform=ax.transAxes)
  fig.suptitle(title)
  fig.savefig(path, dpi=110, bbox_inches="tight")
  plt.close(fig)

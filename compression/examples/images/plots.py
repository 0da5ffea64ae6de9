"""Rate-distortion figures (matplotlib, Agg backend: files only, no display).

Matplotlib is imported when a figure is drawn, so the rest of the example works
without it.
"""

_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _pyplot():
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ImportError("drawing figures needs matplotlib: pip install matplotlib"
                      ) from None
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def rate_distortion(curves, ylabel, title, path):
  """One line per curve: bits per pixel on x, a quality on y; writes `path` (PNG).

  Args:
    curves: list of (label, [(bpp, quality), ...]) in drawing order; points are
      drawn in the given order (sort them by rate).
    ylabel, title: axis label and title.
    path: the PNG file to write.
  """
  plt = _pyplot()
  fig, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
  for (label, points), marker in zip(curves, _MARKERS * len(curves)):
    if not points:
      continue
    rate, quality = zip(*points)
    ax.plot(rate, quality, marker=marker, markersize=4, label=label)
  ax.set_xlabel("bits per pixel (file size)")
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  ax.grid(True, alpha=0.3)
  ax.legend(fontsize=8, loc="lower right")
  fig.savefig(path, dpi=120)
  plt.close(fig)

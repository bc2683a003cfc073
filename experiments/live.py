"""A live image for video mode: one matplotlib image updated frame by frame.

Where it shows (``mode``):

- ``"window"``: an interactive matplotlib window (a terminal session with a GUI backend);
- ``"notebook"``: an updating output in a Jupyter notebook (IPython display handle; at most
  ``notebook_interval`` s between updates, since each one sends a PNG to the browser);
- ``"offscreen"``: drawn into the figure's canvas all the same, shown nowhere (headless runs,
  benchmarks: the drawing cost is the same as a window's);
- ``"none"``: no figure at all;
- ``"auto"``: ``"notebook"`` inside a Jupyter kernel, ``"window"`` with an interactive backend,
  else ``"none"``.

Only the image and a status line are redrawn per frame (blitting onto the saved background),
not the whole figure; the colour scale follows the frames (2nd to 98th percentile).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt

MODES = ("auto", "window", "notebook", "offscreen", "none")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def resolve_mode(mode: str) -> str:
    """``mode`` with ``"auto"`` decided for this session (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"display must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return mode
    if _in_notebook():
        return "notebook"
    import matplotlib

    backend = matplotlib.get_backend().lower()
    interactive = backend not in ("agg", "pdf", "ps", "svg", "cairo", "template") and \
        not backend.startswith("module://matplotlib_inline")
    return "window" if interactive else "none"


class LiveImage:
    """An image of ``(len(y), len(x))`` pixels at coordinates ``x``, ``y`` (V), updated live."""

    def __init__(self, x: npt.ArrayLike, y: npt.ArrayLike, *, xlabel: str, ylabel: str,
                 title: str = "", mode: str = "auto", notebook_interval: float = 0.25) -> None:
        self.mode = resolve_mode(mode)
        self.frames = 0
        self._last_notebook = self._last_status = -np.inf
        #: s between updates of the status line (its text is laid out anew when it changes)
        self.status_interval = 0.5
        self.notebook_interval = float(notebook_interval)
        self.fig: Any = None
        if self.mode == "none":
            return
        xa, ya = np.asarray(x, float), np.asarray(y, float)
        if self.mode == "window":
            import matplotlib.pyplot as plt

            plt.ion()
            self.fig, self.ax = plt.subplots(figsize=(5.5, 4.5))
        else:
            from matplotlib.figure import Figure

            self.fig = Figure(figsize=(5.5, 4.5))
            self.ax = self.fig.add_subplot()
            if self.mode == "offscreen":
                from matplotlib.backends.backend_agg import FigureCanvasAgg

                FigureCanvasAgg(self.fig)
        dx = (xa[-1] - xa[0]) / max(len(xa) - 1, 1) / 2
        dy = (ya[-1] - ya[0]) / max(len(ya) - 1, 1) / 2
        extent = (1e3 * (xa[0] - dx), 1e3 * (xa[-1] + dx), 1e3 * (ya[0] - dy), 1e3 * (ya[-1] + dy))
        self.im = self.ax.imshow(np.zeros((len(ya), len(xa))), origin="lower", aspect="auto",
                                 extent=extent, cmap="viridis", interpolation="nearest",
                                 animated=True)
        self.ax.set_xlabel(f"{xlabel} (mV)")
        self.ax.set_ylabel(f"{ylabel} (mV)")
        self.ax.set_title(title)
        self.text = self.ax.text(0.02, 0.97, "", transform=self.ax.transAxes, va="top",
                                 color="white", fontsize=8, animated=True)
        self._bg: Any = None
        self._handle: Any = None
        if self.mode == "notebook":
            from IPython.display import display

            self.fig.canvas.draw()
            self._handle = display(self.fig, display_id=True)

    def update(self, frame: npt.ArrayLike, status: str = "") -> None:
        """Show ``frame`` (``(len(y), len(x))`` values) with a ``status`` line."""
        self.frames += 1
        if self.mode == "none":
            return
        z = np.asarray(frame, float)
        finite = z[np.isfinite(z)]
        if finite.size:
            lo, hi = np.percentile(finite, (2, 98))
            self.im.set_clim(lo, hi if hi > lo else lo + 1e-12)
        self.im.set_data(z)
        now = time.monotonic()
        if now - self._last_status >= self.status_interval:  # a new text costs a new layout
            self._last_status = now
            self.text.set_text(status)
        if self.mode == "notebook":
            now = time.monotonic()
            if now - self._last_notebook >= self.notebook_interval:
                self._last_notebook = now
                self.fig.canvas.draw()
                self._handle.update(self.fig)
            return
        canvas = self.fig.canvas
        if self._bg is None:  # the axes, labels and ticks once; then only the image and text
            canvas.draw()
            self._bg = canvas.copy_from_bbox(self.fig.bbox)
        canvas.restore_region(self._bg)
        self.ax.draw_artist(self.im)
        self.ax.draw_artist(self.text)
        canvas.blit(self.fig.bbox)
        if self.mode == "window":
            canvas.flush_events()

    def close(self) -> None:
        """Close the window (a notebook keeps the last image shown)."""
        if self.mode == "notebook" and self._handle is not None and self.fig is not None:
            self.fig.canvas.draw()
            self._handle.update(self.fig)
        if self.mode == "window" and self.fig is not None:
            import matplotlib.pyplot as plt

            plt.close(self.fig)

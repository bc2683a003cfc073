"""Plot a stored run with matplotlib, in engineering units, with its fit overlaid.

Labels come from the dataset's attributes (``long_name``, ``units``).  Quantities in SI units
are drawn with SI prefixes (`matplotlib.ticker.EngFormatter`: "250 pA", "-40 mV", never "A" with
a 1e-10 offset); the fit's numbers are written the same way, with their standard errors.
Fitted curves: the pinch-off logistic, the sensor's Coulomb peak (sech²) with the operating
point, the transition-line segments of a charge-stability map along the fitted slopes and the
virtual-gate matrix.  Figures are made without pyplot (no global state, no window, no
backend switch): `draw_run` returns a `matplotlib.figure.Figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: units that take SI prefixes on axes and in the fit's text
SI_UNITS = frozenset({"A", "V", "s", "Hz", "W", "F", "S", "T", "Ohm", "Ω", "A/V", "V/V"})
_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
#: the gid of every fitted artist (curves, lines, markers), for finding them in a figure
FIT_GID = "fit"


def format_eng(value: float, unit: str, stderr: float | None = None) -> str:
    """``value`` (± ``stderr``) with an SI prefix: ``format_eng(-0.01234, "V", 4e-4)`` is
    ``"-12.3 ± 0.4 mV"``.  The digits follow the error, as the Particle Data Group rounds it:
    two significant digits of it when its first three are 100-354 or 950-999, else one;
    without a finite error, four significant digits."""
    if not math.isfinite(value):
        return f"{value} {unit}".strip()
    ref = abs(value) if value != 0 else abs(stderr or 0.0)
    exp3 = 0 if ref == 0 or unit not in SI_UNITS else int(math.floor(math.log10(ref) / 3) * 3)
    exp3 = min(max(exp3, -15), 12)
    scale = 10.0**exp3
    prefix = _PREFIXES[exp3] + unit
    if stderr is not None and math.isfinite(stderr) and stderr > 0:
        e = stderr / scale
        lead = math.floor(math.log10(e))
        first3 = round(e / 10.0 ** (lead - 2))
        if first3 >= 950:  # rounds up to 1.0 x 10^(lead + 1)
            lead += 1
        digits = 1 if 355 <= first3 < 950 else 2
        decimals = min(max(0, digits - 1 - lead), 9)
        return f"{value / scale:.{decimals}f} ± {e:.{decimals}f} {prefix}".strip()
    return f"{value / scale:.4g} {prefix}".strip()


def _label(da: Any) -> str:
    """Axis label: the long name, with the unit when the ticks do not carry it."""
    name = da.attrs.get("long_name", da.name)
    units = str(da.attrs.get("units", ""))
    return str(name) if units in SI_UNITS or not units or units == "1" else f"{name} ({units})"


def _format_axis(axis: Any, da: Any, nbins: int | None = None) -> None:
    """SI-prefixed tick labels for SI units; at most ``nbins`` intervals (wide labels)."""
    from matplotlib.ticker import EngFormatter, MaxNLocator

    units = str(da.attrs.get("units", ""))
    if units in SI_UNITS:
        axis.set_major_formatter(EngFormatter(unit=units))
        if nbins is not None:
            axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))


def plotted_variable(ds: Any) -> Any:
    """The variable a run's plot (and its fit) is about: the first data variable, or for video
    frames (a ``frame`` dimension and a ``signal``) the mean image over the frames."""
    if "frame" in ds.dims and "signal" in ds.data_vars:
        frames = int(ds.sizes["frame"])
        da = ds["signal"].mean("frame", keep_attrs=True)
        da.attrs["long_name"] = f"{ds['signal'].attrs.get('long_name', 'signal')} " \
                                f"(mean of {frames} frames)"
        return da
    return ds[next(iter(ds.data_vars))]


def draw_run(ds: Any, fit: Mapping[str, Any] | None = None) -> Any:
    """A run's dataset as a `matplotlib.figure.Figure`: 1-D runs as points with the fitted
    curve, 2-D runs (and the mean of video frames) as an image with the fitted lines."""
    from matplotlib.figure import Figure

    fit = dict(fit or {})
    da = plotted_variable(ds)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    attrs = ds.attrs
    title = f"{attrs.get('name', '')}  [{attrs.get('status', '')}]  {str(attrs.get('run_id', ''))[:8]}"
    if da.ndim == 1:
        x = ds[da.dims[0]]
        ax.plot(x.values, da.values, ".", ms=3, label="data")
        _overlay_1d(ax, np.asarray(x.values, float), fit, str(da.attrs.get("units", "")))
        ax.set_xlabel(_label(x))
        ax.set_ylabel(_label(da))
        _format_axis(ax.xaxis, x, nbins=6)
        _format_axis(ax.yaxis, da)
        if len(ax.get_legend_handles_labels()[0]) > 1:
            ax.legend(fontsize="small")
    elif da.ndim == 2:
        y, x = ds[da.dims[0]], ds[da.dims[1]]
        mesh = ax.pcolormesh(x.values, y.values, np.asarray(da.values), shading="nearest")
        bar = fig.colorbar(mesh, ax=ax, label=_label(da))
        _format_axis(bar.ax.yaxis, da)
        ax.set_xlabel(_label(x))
        ax.set_ylabel(_label(y))
        _format_axis(ax.xaxis, x, nbins=4)
        _format_axis(ax.yaxis, y)
        if "slope_dot1" in fit and "slope_dot2" in fit:
            _overlay_stability(ax, np.asarray(x.values, float), np.asarray(y.values, float), fit)
    else:
        raise ValueError(f"plot_run draws 1-D and 2-D runs, {da.name!r} has dims {da.dims}")
    if "error" in fit:
        ax.text(0.02, 0.02, f"fit failed: {fit['error']}"[:100], transform=ax.transAxes,
                fontsize="x-small", color="C3")
    ax.set_title(title, fontsize="small")
    return fig


def save_figure(fig: Any, target: str | Path,
                storage_options: Mapping[str, Any] | None = None) -> Path | str:
    """Write ``fig`` as a PNG to a path (returned as a `Path`) or an fsspec URL (a str)."""
    from dotstack.store.location import is_url

    if is_url(str(target)):
        import fsspec

        with fsspec.open(str(target), "wb", **dict(storage_options or {})) as f:
            fig.savefig(f, format="png", dpi=110)
        return str(target)
    fig.savefig(str(target), format="png", dpi=110)
    return Path(target)


def default_png(ds: Any, location: str) -> str:
    """Where a run's PNG goes: beside the store, ``<store>.png``."""
    return str(ds.attrs.get("path", location)).rstrip("/") + ".png"


def plot_run(run: Any, *, fit: Mapping[str, Any] | None = None, out: str | Path | None = None,
             storage_options: Mapping[str, Any] | None = None) -> Path | str:
    """Plot a run (path, or anything `dotstack.load` takes) to a PNG; returns its path.

    See `draw_run`.  The PNG goes beside the store (``<store>.png``) unless ``out`` is given.
    The run and the PNG may be at fsspec URLs (``s3://...``), opened with ``storage_options``:
    a URL is returned as a str.
    """
    from dotstack.store import load, resolve_run

    location = resolve_run(run, storage_options=storage_options)
    ds = load(location, storage_options=storage_options)
    fig = draw_run(ds, fit)
    return save_figure(fig, str(out) if out is not None else default_png(ds, location),
                       storage_options)


def _overlay_1d(ax: Any, x: np.ndarray, fit: Mapping[str, Any], y_units: str) -> None:
    """The fitted curve and the fitted voltages of a 1-D run (pinch-off or sensor scan)."""
    from dotstack.experiments.fits import PinchOffFit, SensorFit

    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return
    dense = np.linspace(float(finite.min()), float(finite.max()), 600)
    if "pinch_off_V" in fit and "open_current_A" in fit:
        p = PinchOffFit.from_dict(fit)
        ax.plot(dense, p.model(dense), "-", color="C1", lw=1.2, gid=FIT_GID,
                label=f"logistic fit, w = {format_eng(p.width, 'V', p.width_stderr)}")
        ax.axvline(p.pinch_off, ls="--", color="C3", gid=FIT_GID,
                   label=f"pinch-off {format_eng(p.pinch_off, 'V', p.pinch_off_stderr)}")
    elif "operating_point_V" in fit and "peak_V" in fit:
        s = SensorFit.from_dict(fit)
        lo, hi = max(s.fit_range[0], dense[0]), min(s.fit_range[1], dense[-1])
        span = np.linspace(lo, hi, 400) if hi > lo else dense
        ax.plot(span, s.model(span), "-", color="C1", lw=1.2, gid=FIT_GID,
                label=f"sech² fit, peak {format_eng(s.peak, 'V', s.stderr.get('peak_V'))}")
        slope_unit = f"{y_units}/V" if y_units else "1/V"
        ax.plot([s.operating_point], s.model(np.array([s.operating_point])), "o", color="C3",
                gid=FIT_GID, label=f"operating point "
                f"{format_eng(s.operating_point, 'V', s.stderr.get('operating_point_V'))}, "
                f"dI/dV {format_eng(s.slope, slope_unit, s.stderr.get('slope_A_per_V'))}")
        ax.axvline(s.operating_point, ls="-", lw=0.8, color="C3", gid=FIT_GID)
    else:  # other 1-D fits: mark the voltages they name
        for key, style, label in (("pinch_off_V", "--", "pinch-off"),
                                  ("operating_point_V", "-", "operating point"),
                                  ("peak_V", ":", "fitted peak")):
            if isinstance(fit.get(key), int | float):
                ax.axvline(float(fit[key]), ls=style, color="C3", gid=FIT_GID,
                           label=f"{label} {format_eng(float(fit[key]), 'V', fit.get(f'{key}_stderr'))}")


def _overlay_stability(ax: Any, x: np.ndarray, y: np.ndarray, fit: Mapping[str, Any]) -> None:
    """Transition-line segments along the fitted slopes (or, for fits that did not record
    them, one line per family through the map's centre) and the virtual-gate matrix."""
    from dotstack.experiments.fits import StabilityFit

    f = StabilityFit.from_dict(fit)
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    xc, yc = float(np.nanmean(x)), float(np.nanmean(y))
    for lines, slope, color, name in ((f.lines_dot1, f.slope_dot1, "w", "dot 1"),
                                      (f.lines_dot2, f.slope_dot2, "C1", "dot 2")):
        if not lines and math.isfinite(slope):  # through the centre, across the map
            if abs(slope) > 1:
                lines = ((xc + (ylim[0] - yc) / slope, ylim[0], xc + (ylim[1] - yc) / slope, ylim[1]),)
            else:
                lines = ((xlim[0], yc + slope * (xlim[0] - xc), xlim[1], yc + slope * (xlim[1] - xc)),)
        for k, (x0, y0, x1, y1) in enumerate(lines):
            ax.plot([x0, x1], [y0, y1], "-", color=color, lw=1.0, alpha=0.8, gid=FIT_GID,
                    label=f"{name} lines" if k == 0 else None)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    m, e = f.virtual_gate_matrix, f.virtual_gate_matrix_stderr
    text = (f"dot-1 lines dP2/dP1 = {format_eng(f.slope_dot1, '', f.slope_dot1_stderr)}\n"
            f"dot-2 lines dP2/dP1 = {format_eng(f.slope_dot2, '', f.slope_dot2_stderr)}\n"
            "virtual gates M =\n"
            f"  [1, {format_eng(m[0, 1], '', e[0, 1])}]\n"
            f"  [{format_eng(m[1, 0], '', e[1, 0])}, 1]")
    ax.text(0.02, 0.98, text, transform=ax.transAxes, va="top", fontsize="small", color="w",
            family="monospace", gid=FIT_GID,
            bbox={"facecolor": "black", "alpha": 0.4, "edgecolor": "none"})
    ax.legend(fontsize="x-small", loc="lower right")

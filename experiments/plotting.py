"""Plot a stored run with matplotlib: labels and units come from the dataset's attributes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def _label(da: Any) -> str:
    name = da.attrs.get("long_name", da.name)
    units = da.attrs.get("units", "")
    return f"{name} ({units})" if units else str(name)


def plot_run(run: Any, *, fit: Mapping[str, Any] | None = None, out: str | Path | None = None,
             storage_options: Mapping[str, Any] | None = None) -> Path | str:
    """Plot a run (path, or anything `dotstack.load` takes) to a PNG; returns its path.

    1-D runs are drawn as a line (with fitted features marked), 2-D runs as an image.  The PNG
    goes beside the store (``<store>.png``) unless ``out`` is given.  The run and the PNG may be
    at fsspec URLs (``s3://...``), opened with ``storage_options``: a URL is returned as a str.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from dotstack.store import load, resolve_run
    from dotstack.store.location import is_url

    location = resolve_run(run, storage_options=storage_options)
    ds = load(location, storage_options=storage_options)
    target = str(out) if out is not None else str(ds.attrs.get("path", location)).rstrip("/") + ".png"
    var = next(iter(ds.data_vars))
    da = ds[var]
    if "frame" in ds.dims and "signal" in ds.data_vars:  # video frames: their mean image
        var = "signal"
        frames = int(ds.sizes["frame"])
        da = ds["signal"].mean("frame", keep_attrs=True)
        da.attrs["long_name"] = f"{ds['signal'].attrs.get('long_name', 'signal')} " \
                                f"(mean of {frames} frames)"
    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    attrs = ds.attrs
    title = f"{attrs.get('name', '')}  [{attrs.get('status', '')}]  {str(attrs.get('run_id', ''))[:8]}"
    if da.ndim == 1:
        x = ds[da.dims[0]]
        ax.plot(x.values, da.values, ".", ms=3, label="data")
        _mark_fit(ax, fit or {})
        ax.set_xlabel(_label(x))
        ax.set_ylabel(_label(da))
        if fit:
            ax.legend(fontsize="small")
    elif da.ndim == 2:
        y, x = ds[da.dims[0]], ds[da.dims[1]]
        mesh = ax.pcolormesh(x.values, y.values, np.asarray(da.values), shading="nearest")
        fig.colorbar(mesh, ax=ax, label=_label(da))
        ax.set_xlabel(_label(x))
        ax.set_ylabel(_label(y))
        if fit and "slope_dot1" in fit:
            ax.text(0.02, 0.98, _stability_text(fit), transform=ax.transAxes, va="top",
                    fontsize="small", color="w")
    else:
        raise ValueError(f"plot_run draws 1-D and 2-D runs, {var!r} has dims {da.dims}")
    ax.set_title(title, fontsize="small")
    if is_url(target):
        import fsspec

        with fsspec.open(target, "wb", **dict(storage_options or {})) as f:
            fig.savefig(f, format="png", dpi=110)
        plt.close(fig)
        return target
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return Path(target)


def _mark_fit(ax: Any, fit: Mapping[str, Any]) -> None:
    for key, style, label in (("pinch_off_V", "--", "pinch-off"),
                              ("operating_point_V", "-", "operating point"),
                              ("peak_V", ":", "fitted peak")):
        if key in fit:
            ax.axvline(float(fit[key]), ls=style, color="C3", label=f"{label} {float(fit[key]):+.4g} V")


def _stability_text(fit: Mapping[str, Any]) -> str:
    return (f"dot-1 lines dP2/dP1 = {fit['slope_dot1']:.3g}\n"
            f"dot-2 lines dP2/dP1 = {fit['slope_dot2']:.3g}\n"
            f"virtual gates {np.round(np.asarray(fit['virtual_gate_matrix']), 3).tolist()}")

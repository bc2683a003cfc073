"""`RunResult`: what an experiment returns — where its data is, how it ended, its fit and plot.

- ``result.fit``: the fit as the JSON-able dict stored in the run's ``meta/fit`` (values in SI
  units, ``<key>_stderr`` standard errors, a ``fit_quality`` block; ``{"error": ...}`` if the fit
  failed).
- ``result.dataset``: the run as an `xarray.Dataset` (``dotstack.load(path)``, loaded on first
  use), with the fit summary in its attributes: ``attrs["fit"]`` is the whole fit as JSON, and
  the measured variable (``current``, or ``signal`` for video frames) carries ``fit_<key>`` for
  every scalar of the fit (``fit_pinch_off_V``, ``fit_pinch_off_V_stderr``, ...) and
  ``fit_quality_<key>`` for the goodness of fit (``fit_quality_reduced_chi_square``, ...).  The
  store itself keeps the fit in ``meta/fit`` only (its root attributes stay small), so a plain
  ``dotstack.load``/``xarray.open_zarr`` shows the same data without these attributes.
- ``result.fit_result``: the fit object (`PinchOffFit`, `SensorFit`, `StabilityFit`), refitted
  from the stored data on first use; ``result.model_result`` its lmfit `ModelResult` (1-D
  fits: parameters with uncertainties and correlations, chi-square, reduced chi-square, R²,
  AIC, BIC, ``fit_report()``), None for the charge-stability fit (bootstrap errors, not least
  squares) and for runs without a fit.
- ``result.plot``: the path of the PNG drawn when the run ended (a str; ``""`` if none), and
  callable: ``result.plot()`` draws the data with the fitted curves and lines in engineering
  units, saves the PNG (beside the store, or ``out``) and returns the `Figure`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

#: fit keys whose values are written as attributes of the measured variable (scalars only)
_ATTR_TYPES = (int, float, str, bool)


class PlotFile(str):
    """A run's PNG path that can also draw the run: ``result.plot()`` (see `RunResult.draw`)."""

    _owner: RunResult

    def __new__(cls, path: str, owner: RunResult) -> PlotFile:
        self = super().__new__(cls, path)
        self._owner = owner
        return self

    def __call__(self, out: str | Path | None = None, *, save: bool = True) -> Any:
        return self._owner.draw(out, save=save)

    def __reduce__(self) -> Any:
        return (PlotFile, (str(self), self._owner))


@dataclass(frozen=True)
class RunResult:
    """What an experiment returns: where its data is, how it ended, and its fit (module doc)."""

    path: str
    run_id: str
    name: str
    status: str
    fit: Mapping[str, Any] = field(default_factory=dict)
    #: the PNG drawn when the run ended ("" if none); call it to draw the fit (`draw`)
    plot: str | None = None
    #: fsspec options of the store's location (``path`` is then a URL); kept out of the repr
    storage_options: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plot", PlotFile(str(self.plot or ""), self))

    def __getstate__(self) -> dict[str, Any]:  # the fields, not the cached dataset and fit
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    def load(self) -> Any:
        """The run as an `xarray.Dataset` (valid points only), as stored."""
        from dotstack.store import load

        return load(self.path, storage_options=self.storage_options)

    @cached_property
    def dataset(self) -> Any:
        """The run as an `xarray.Dataset` with the fit summary in its attributes (module doc)."""
        return with_fit_attrs(self.load(), self.fit)

    @cached_property
    def fit_result(self) -> Any:
        """The fit object refitted from the stored data (None without a fit); see module doc."""
        if not self.fit or "error" in self.fit:  # nothing to redo: the data are not read
            return None
        return refit(self.dataset, self.fit)

    @property
    def model_result(self) -> Any:
        """The lmfit `ModelResult` of a 1-D fit (None otherwise)."""
        return getattr(self.fit_result, "model_result", None)

    def draw(self, out: str | Path | None = None, *, save: bool = True) -> Any:
        """Draw the run with its fit overlaid (`dotstack.experiments.plotting.draw_run`); save
        the PNG to ``out`` (default beside the store) if ``save``; return the `Figure`."""
        from dotstack.experiments.plotting import default_png, draw_run, save_figure

        fig = draw_run(self.dataset, self.fit)
        if save:
            save_figure(fig, out if out is not None else default_png(self.dataset, self.path),
                        self.storage_options)
        return fig


def with_fit_attrs(ds: Any, fit: Mapping[str, Any]) -> Any:
    """A shallow copy of ``ds`` with the fit summary in its attributes (see the module doc)."""
    from dotstack.experiments.plotting import plotted_variable

    out = ds.copy()
    if not fit:
        return out
    out.attrs["fit"] = json.dumps(fit, default=_json_default)
    name = plotted_variable(ds).name
    if name not in out.data_vars:
        return out
    var = out[name]
    attrs = dict(var.attrs)
    for key, value in fit.items():
        if isinstance(value, _ATTR_TYPES):
            attrs[f"fit_{key}"] = value
    for key, value in (fit.get("fit_quality") or {}).items():
        if isinstance(value, _ATTR_TYPES):
            attrs[f"fit_quality_{key}"] = value
    var.attrs = attrs
    out[name] = var
    return out


def refit(ds: Any, fit: Mapping[str, Any]) -> Any:
    """The fit ``fit`` (a run's ``meta/fit``) describes, redone on ``ds``: a `PinchOffFit`
    (with its lmfit `ModelResult`), a `SensorFit` (the flank chosen as the stored slope's sign)
    or a `StabilityFit`; None for a run without one of these fits (or whose fit failed)."""
    from dotstack.experiments.fits import fit_charge_stability, fit_pinchoff, fit_sensor_peaks
    from dotstack.experiments.plotting import plotted_variable

    if not fit or "error" in fit:
        return None
    da = plotted_variable(ds)
    if da.ndim == 1 and "pinch_off_V" in fit:
        return fit_pinchoff(ds[da.dims[0]].values, da.values)
    if da.ndim == 1 and "operating_point_V" in fit and "slope_A_per_V" in fit:
        slope = float(fit["slope_A_per_V"])
        prefer = "rising" if not math.isfinite(slope) or slope >= 0 else "falling"
        return fit_sensor_peaks(ds[da.dims[0]].values, da.values, prefer=prefer)
    if da.ndim == 2 and "slope_dot1" in fit:
        quality = fit.get("fit_quality") or {}
        kwargs = {k: quality[k] for k in ("seed",) if isinstance(quality.get(k), int)}
        if isinstance(quality.get("n_bootstrap"), int):
            kwargs["bootstrap"] = quality["n_bootstrap"]
        return fit_charge_stability(ds[da.dims[1]].values, ds[da.dims[0]].values, da.values,
                                    **kwargs)
    return None


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return repr(obj)

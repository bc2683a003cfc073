"""`fast_charge_stability`: the charge-stability diagram from averaged video frames.

The two plungers are rastered by the AWG around their DC levels (`video_mode`), ``frames``
frames are averaged, and the transition lines of the mean image are fitted as in the DC scan
(`fit_charge_stability`): slopes, cross-capacitance ratios, the virtual-gate matrix.  Seconds
instead of the DC scan's minutes; the AWG's reach (its amplitude through the line's
attenuation) bounds the window.  With ``reference`` (a DC `charge_stability` run), the fit also
holds the largest difference between the two virtual-gate matrices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.experiments.fits import fit_charge_stability
from dotstack.experiments.plotting import plot_run
from dotstack.experiments.sweep import RunResult
from dotstack.experiments.video import video_mode
from dotstack.station import LabStation


def reference_matrix(run: str, storage_options: Mapping[str, Any] | None = None
                     ) -> npt.NDArray[np.float64]:
    """The virtual-gate matrix a (DC) charge-stability run fitted (its ``meta/fit``)."""
    from dotstack.store import load_meta

    fit = load_meta(run, storage_options=storage_options).get("fit")
    if not isinstance(fit, Mapping) or "virtual_gate_matrix" not in fit:
        raise ValueError(f"run {run}: its fit has no virtual_gate_matrix (not a fitted "
                         "charge-stability run?)")
    return np.asarray(fit["virtual_gate_matrix"], dtype=float)


def fast_charge_stability(
    station: LabStation,
    p1: tuple[float, float, int] = (-0.05, 0.05, 100),
    p2: tuple[float, float, int] = (-0.05, 0.05, 100),
    *,
    gates: tuple[str, str] = ("P1", "P2"),
    frames: int = 20,
    dwell: float = 1e-6,
    settle: float = 10e-6,
    set_gates: Mapping[str, float] | None = None,
    compensation: Any = None,
    reference: str | None = None,
    display: str = "none",
    data_dir: str | Path | None = None,
    storage_options: Mapping[str, Any] | None = None,
    plot: bool = True,
) -> RunResult:
    """Video frames of ``gates`` over ``p1`` (fast) x ``p2`` (slow), (start, stop, points) in
    volts at the gates around their DC levels (``set_gates`` sets those first), averaged and
    fitted; see the module docstring.

    Args:
        station: The station, with pulse lines on both plungers and a digitizer.
        p1: ``(start, stop, points)`` of the fast plunger, V at the gate around its DC level.
        p2: ``(start, stop, points)`` of the slow plunger, likewise.
        gates: The two plunger gates.
        frames: Frames to average.
        dwell: Time per pixel (s).
        settle: Time per row before its ramp (s).
        set_gates: DC levels set first (ramped back at the end).
        compensation: A sensor compensation (the sensor gate follows the plungers).
        reference: A DC `charge_stability` run (path, URL or id) whose virtual-gate matrix the
            fit is compared with.
        display: As for `video_mode`.
        data_dir: Folder or fsspec URL for the run (default: ``$DOTSTACK_DATA_DIR`` or ``./data``).
        storage_options: fsspec options of a URL ``data_dir`` (and of ``reference``).
        plot: Write a PNG of the run beside its store.

    Returns:
        The run; its fit is `fit_charge_stability`'s on the mean image (slopes,
        cross-capacitance ratios, ``virtual_gate_matrix``), plus the largest difference from
        the reference's matrix when ``reference`` is given.
    """
    g1, g2 = gates
    ref = reference_matrix(reference, storage_options) if reference is not None else None

    def analysis(image: npt.NDArray[np.float64], coords: dict[str, npt.NDArray[np.float64]]
                 ) -> dict[str, Any]:
        fit: dict[str, Any] = dict(fit_charge_stability(coords[g1], coords[g2], image).as_dict())
        if ref is not None:
            diff = np.abs(np.asarray(fit["virtual_gate_matrix"]) - ref)
            fit["reference"] = reference
            fit["reference_matrix"] = ref.tolist()
            fit["matrix_difference_max"] = float(diff.max())
        return fit

    result = video_mode(station, (g1, *p1), (g2, *p2), frames=frames, dwell=dwell,
                        settle=settle, set_gates=set_gates, compensation=compensation,
                        display=display, analysis=analysis, data_dir=data_dir,
                        storage_options=storage_options, name="fast_charge_stability")
    if not plot:
        return result
    png = plot_run(result.path, fit=result.fit, storage_options=result.storage_options)
    return replace(result, plot=str(png))

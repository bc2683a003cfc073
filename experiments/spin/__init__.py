"""Pulsed spin-qubit experiments on a station (PSB readout, Rabi, Ramsey, echo, T1).

Each is a function ``(station, ...) -> RunResult`` streamed to a zarr run, with its compiled
program in ``meta/program``, its ground truth (mock mode) in ``meta/ground_truth`` and its
lmfit result in ``meta/fit`` under the ground truth's key names, so that a run checks itself:

- ``psb_readout``: ``readout_fidelity`` (and ``readout_threshold_V``, ``readout_level_V``);
- ``rabi``: ``f_rabi_Hz``, ``f_resonance_Hz``;
- ``ramsey``: ``t2star_s``;
- ``hahn_echo``: ``t2_echo_s``;
- ``t1``: ``t1_s``.

Each fitted value has ``<key>_stderr``.  `SPIN_EXPERIMENTS` maps the names to the functions.
"""

from collections.abc import Callable
from typing import Any

from dotstack.experiments.spin.calibration import psb_readout, rabi
from dotstack.experiments.spin.coherence import hahn_echo, ramsey, t1

SPIN_EXPERIMENTS: dict[str, Callable[..., Any]] = {
    "psb_readout": psb_readout, "rabi": rabi, "ramsey": ramsey, "hahn_echo": hahn_echo, "t1": t1,
}

__all__ = ["SPIN_EXPERIMENTS", "hahn_echo", "psb_readout", "rabi", "ramsey", "t1"]

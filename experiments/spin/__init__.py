"""Pulsed spin-qubit experiments on a station (PSB readout, Rabi, Ramsey, echo, T1, CPMG, AC
magnetometry).

Each is a function ``(station, ...) -> RunResult`` streamed to a zarr run, with its compiled
program in ``meta/program``, its ground truth (mock mode) in ``meta/ground_truth`` and its
lmfit result in ``meta/fit`` under the ground truth's key names, so that a run checks itself:

- ``psb_readout``: ``readout_fidelity`` (and ``readout_threshold_V``, ``readout_level_V``);
- ``rabi``: ``f_rabi_Hz``, ``f_resonance_Hz``;
- ``ramsey``: ``t2star_s``;
- ``hahn_echo``: ``t2_echo_s``;
- ``t1``: ``t1_s``;
- ``cpmg``: ``cpmg_exponent`` (and ``cpmg_t2_s`` per ``cpmg_pulses``);
- ``ac_magnetometry``: ``ac_field_T``, ``ac_frequency_Hz`` (and ``ac_phase_rad``,
  ``sensitivity_T_per_sqrtHz``).

Each fitted value has ``<key>_stderr``.  `SPIN_EXPERIMENTS` maps the names to the functions.
"""

from collections.abc import Callable
from typing import Any

from dotstack.experiments.spin.calibration import psb_readout, rabi
from dotstack.experiments.spin.coherence import hahn_echo, ramsey, t1
from dotstack.experiments.spin.dynamical import ac_magnetometry, cpmg

SPIN_EXPERIMENTS: dict[str, Callable[..., Any]] = {
    "psb_readout": psb_readout, "rabi": rabi, "ramsey": ramsey, "hahn_echo": hahn_echo, "t1": t1,
    "cpmg": cpmg, "ac_magnetometry": ac_magnetometry,
}

__all__ = ["SPIN_EXPERIMENTS", "ac_magnetometry", "cpmg", "hahn_echo", "psb_readout", "rabi",
           "ramsey", "t1"]

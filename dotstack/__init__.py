"""dotstack: hardware control for quantum-dot and quantum-sensor labs.

One station file chooses real instruments or the mock lab; the same experiment code runs on
both, and every run streams to a zarr v3 store in xarray layout.

Quick start (on the mock lab, no hardware):

    import dotstack
    from dotstack.experiments.dc import charge_stability, sensor_scan
    from dotstack.stations import MOCK

    with dotstack.LabStation.from_file(MOCK) as station:
        sensor_scan(station)                    # park the charge sensor on a flank
        run = charge_stability(station, p1=(-0.2, 0.2, 81), p2=(-0.2, 0.2, 81))
    ds = dotstack.load(run.path)                # xarray.Dataset (also mid-run, after a crash)

Subpackages and modules (import each as ``dotstack.<name>``):

- ``station``: `LabStation`, the one place that chooses real or mock instruments;
  ``station_config``: the station file (QCoDeS Station YAML plus a ``dotstack:`` section);
  ``stations``: the packaged ``mock.yaml`` and ``real-template.yaml``.
- ``store``: the run store (``RunWriter``, ``load``, ``load_meta``, ``list_runs``).
- ``drivers``: role protocols (DAC, Readout, AWG, Digitizer), gate safety, the QDevil QDAC-II,
  Keysight 344xxA, Tektronix AWG5208 and AlazarTech ATS9360 drivers.
- ``sequencer``: the pulse language and its compiler to hardware programs (pure: no I/O).
- ``experiments``: ``gate_sweep``, pinch-off, sensor scan, charge stability, video mode, fits.
- ``mocks``: the mock lab (simulated instruments speaking the real protocols, device physics
  with its ground truth).
- ``labclock``: how a script waits (the wall clock, or the mock lab's clock);
  ``interop`` and ``qcodes_params``: runs and gates for QCoDeS; ``cli``: the ``dotstack``
  command.

The names below are imported on first use, so ``import dotstack`` (or a light subpackage such
as the sequencer) does not load QCoDeS, zarr or xarray.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("dotstack")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

if TYPE_CHECKING:  # for type checkers and the API docs; imported on first use below
    from dotstack.station import LabStation
    from dotstack.store import list_runs, load, load_meta

#: public name -> the module it is imported from on first use
_LAZY = {
    "LabStation": "dotstack.station",
    "list_runs": "dotstack.store",
    "load": "dotstack.store",
    "load_meta": "dotstack.store",
}

__all__ = ["LabStation", "__version__", "list_runs", "load", "load_meta"]


def __getattr__(name: str) -> Any:
    """Import a public name (``LabStation``, ``load``, ``load_meta``, ``list_runs``) on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dotstack' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (imported or not yet), the module's dunders and its loaded subpackages."""
    own = {n for n, v in globals().items()
           if n.startswith("__") or getattr(v, "__name__", "").startswith("dotstack.")}
    return sorted(own | set(__all__))

"""Shared helpers of the AWG5208 tests (imported by name; the folder is not a package)."""

import numpy as np

from dotstack.sequencer import AWG5208 as AWG5208_LIMITS
from dotstack.sequencer import (
    AwgTarget,
    Hold,
    Param,
    VirtualGateLayer,
    VirtualGates,
    compile_schedule,
    par,
    sweep,
)

LIM = AWG5208_LIMITS.with_(sample_rate=1e9)  # min length 2400: 1 us raster steps get packed
#: Cabling of the test lab: a pulse source on the AWG's trigger A, its marker 1 on a probe.
LINES = {"gen.out": ["awg.trigA"], "awg.marker1": ["probe.in"], "awg.ch2_marker1": ["probe.in2"]}


def gates(sensor_row=(-0.1, -0.05)) -> VirtualGates:
    """Virtual plungers, then a sensor-compensation layer (row ``sensor_row`` for S)."""
    plungers = VirtualGateLayer(("vP1", "vP2"), ("P1", "P2"), [[1.0, -0.2], [-0.3, 1.0]])
    sensor = VirtualGateLayer(("P1", "P2", "S"), ("P1", "P2", "S"),
                              [[1, 0, 0], [0, 1, 0], [sensor_row[0], sensor_row[1], 1]])
    return VirtualGates((plungers, sensor))


def raster(n1: int, n2: int, vg: VirtualGates | None = None, *, channels=("P1", "P2", "S"),
           lim=LIM, trigger="none"):
    """A (p2 rows) x (p1 columns) raster of 1 us steps on virtual plungers (S held at 0.1 V
    and compensated, if S is one of ``channels``)."""
    lanes = {"vP1": Hold(1e-6, Param("p1")), "vP2": Hold(1e-6, Param("p2"))}
    if "S" in channels:
        lanes["S"] = Hold(1e-6, 0.1)
    elif vg is None:
        vg = VirtualGates(gates().layers[:1])
    sw = sweep(par(**lanes), ("p2", np.linspace(-0.2, 0.2, n2)),
               ("p1", np.linspace(-0.3, 0.3, n1)), trigger=trigger)
    target = AwgTarget("awg", lim, channels)
    return compile_schedule(sw, [target], virtual_gates=vg if vg is not None else gates()
                            ).programs["awg"]

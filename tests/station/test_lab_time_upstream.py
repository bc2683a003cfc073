"""Hardware timing with the unmodified upstream drivers against `dotstack mock-lab serve`.

A QDAC-II timed list read by a DMM time trace shows every level at its time; chained sweeps
(``end_marker`` -> ``start_on``) follow each other without a gap; a QDAC marker routed to a
trigger output triggers the DMM through the lab's trigger cabling.  Both clock modes.  The
signal is the double dot's transport current (DMM ``dmm_transport``), set by barrier B1 on
QDAC channel 3.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from qcodes.instrument import Instrument

from dotstack.drivers.transport import enable_nodelay

B1_LEVELS = np.linspace(-0.10, 0.0, 9)  # B1 from nearly closed to mostly open


@pytest.fixture(scope="module", params=["virtual", "realtime"])
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        serve) -> Iterator[dict[str, str]]:
    with serve(tmp_path_factory.mktemp("serve"), clock=request.param, seed=5) as addresses:
        yield addresses


@pytest.fixture
def rig(lab: dict[str, str]) -> Iterator[tuple]:
    from qcodes.instrument_drivers.Keysight import Keysight34465A
    from qcodes_contrib_drivers.drivers.QDevil.QDAC2 import QDac2

    qdac = QDac2("lt_qdac", lab["qdac"], visalib="@py")
    dmm = Keysight34465A("lt_dmm", lab["dmm_transport"], visalib="@py")
    for inst in (qdac, dmm):
        enable_nodelay(inst.visa_handle)
    for ch in (qdac.ch02, qdac.ch03, qdac.ch04, qdac.ch05):
        ch.dc_constant_V(0.3)  # every barrier open: the current follows what B1 does
    qdac.ch03.dc_constant_V(float(B1_LEVELS[0]))
    try:
        yield qdac, dmm
    finally:
        qdac.write("abor")
        Instrument.close_all()


def _plateaus(trace: np.ndarray) -> list[int]:
    """Indices where the trace jumps: steps far above the sample-to-sample noise (MAD)."""
    d = np.diff(trace)
    noise = 1.4826 * np.median(np.abs(d - np.median(d)))
    return [int(i) + 1 for i in np.flatnonzero(np.abs(d) > 6 * noise)]


def test_timed_list_read_by_a_time_trace_shows_every_level_at_its_time(rig: tuple) -> None:
    qdac, dmm = rig
    dmm.NPLC(0.02)
    dmm.autozero("OFF")
    dmm.timetrace_dt(0.005)
    dmm.timetrace_npts(300)
    # the list starts 0.5 s after its start command: time for the DMM to set up its trace
    levels = qdac.ch03.dc_list(voltages=list(B1_LEVELS), dwell_s=0.05, delay_s=0.5)
    levels.start()
    trace = dmm.timetrace() / 1e8
    jumps = _plateaus(trace)
    assert len(jumps) == 8, f"expected 8 steps between 9 levels, got jumps at {jumps}"
    assert np.all(np.abs(np.diff(jumps) - 10) <= 1)  # one level per 0.05 s = 10 samples
    plateau = [np.median(trace[a + 1: b - 1]) for a, b in zip([0, *jumps], [*jumps, 300], strict=True)]
    assert np.all(np.diff(plateau) > 0)  # each B1 level opens the barrier further


def test_chained_sweeps_start_when_the_previous_one_ends(rig: tuple) -> None:
    qdac, dmm = rig
    dmm.NPLC(0.02)
    dmm.autozero("OFF")
    dmm.timetrace_dt(0.005)
    dmm.timetrace_npts(200)
    qdac.ch03.dc_constant_V(-0.08)
    qdac.ch05.dc_constant_V(-0.05)  # B3 partly closed too: the current is T(B1) x T(B3)
    first = qdac.ch03.dc_sweep(start_V=-0.08, stop_V=0.0, points=5, dwell_s=0.03, delay_s=0.5)
    second = qdac.ch05.dc_list(voltages=[-0.035, -0.02, -0.005, 0.01], dwell_s=0.03)
    second.start_on(first.end_marker())  # B3's list waits for the end of B1's sweep
    first.start()
    trace = dmm.timetrace() / 1e8
    jumps = _plateaus(trace)
    assert len(jumps) == 8, f"expected 4 + 4 steps, got jumps at {jumps}"
    assert np.all(np.abs(np.diff(jumps) - 6) <= 1)  # 0.03 s apart, no gap between the two
    assert float(qdac.ch05.dc_last_V()) == pytest.approx(0.01, abs=1e-6)


def test_qdac_marker_triggers_the_dmm_through_the_cabling(rig: tuple) -> None:
    qdac, dmm = rig
    dmm.NPLC(0.2)
    dmm.trigger.source("EXT")
    dmm.trigger.count(9)
    dmm.trigger.delay(0.005)
    dmm.sample.count(1)
    dmm.timeout(30)
    steps = qdac.ch03.dc_list(voltages=list(B1_LEVELS), dwell_s=0.02)
    qdac.connect_external_trigger(1, steps.step_start_marker())  # cabled to both DMMs' Ext Trig
    dmm.init_measurement()
    dmm.ask("TRIG:SOUR?")  # the meter has taken INIT before the list starts
    steps.start()
    readings = dmm.fetch() / 1e8
    assert readings.shape == (9,)
    assert np.all(np.diff(readings) > 0)  # one reading per level, in order
    assert "No error" in qdac.errors()  # nothing the driver sent was refused

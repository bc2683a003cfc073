"""Safety fuzz (issue 10 point 3): random gate requests and AWG programs; no value outside a
gate's limits, and no step above its ``max_step``, ever reaches a mock instrument.

The harness (``safety_harness.py``) records every output where it reaches the mock.  The six
holes the fuzz found (``test_hole_*``) are fixed in the drivers; their reproducers stay as
regression tests, and the fuzz runs every request pattern.
``benchmarks/safety_fuzz.py`` runs the large seeded version (>= 10,000 DAC requests).
"""

import math
import random
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safety_harness import (
    AWG_LIM,
    DacRig,
    awg_session,
    dac_request,
    dac_session,
)

from dotstack.drivers.protocols import ChannelLimits, LimitError
from dotstack.drivers.qdac2 import QDac2
from dotstack.drivers.transport import InProcessTransport
from dotstack.mocks.instruments import QDac2Model
from dotstack.mocks.physics import VirtualClock, VirtualLab
from dotstack.sequencer import Program, SequenceTable, WaveStore


def fuzz(n):
    return settings(
        max_examples=n, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )


@fuzz(150)
@given(seed=st.integers(0, 2**32 - 1), command_time=st.sampled_from([0.0, 2e-5, 1e-3]))
def test_dac_fuzz_no_output_outside_the_limits(seed, command_time):
    counts = dac_session(seed, 25, command_time=command_time, known_holes=True)
    assert counts.violations == []
    assert counts.requests == counts.refused + counts.reached


@fuzz(100)
@given(seed=st.integers(0, 2**32 - 1))
def test_awg_fuzz_refuses_or_plays_within_the_limits(seed):
    counts = awg_session(seed, 6)
    assert counts.violations == []


def test_the_fuzz_reaches_and_refuses():
    """The fuzz is not vacuous: requests go through, hostile ones are refused, outputs checked."""
    dac = dac_session(7, 300, known_holes=True)
    assert dac.reached > 50 and dac.refused > 50 and dac.outputs > 100
    awg = awg_session(7, 60)
    assert awg.reached > 5 and awg.refused > 5 and awg.outputs > 10_000


def test_the_checker_sees_a_violation():
    """A raw SCPI write past the driver is caught (the recorder is wired to the mock)."""
    rig = DacRig(seed=1)
    try:
        rig.set_limits(1, ChannelLimits(-0.5, 0.5, 10.0, 0.1))
        rig.qdac.write("sour1:volt:mode fix;:sour1:volt:slew inf;:sour1:volt 1.0")
        assert len(rig.counts.violations) == 2  # outside the limits, and a step > max_step
        dac_request(rig, random.Random(0))  # and the fuzz keeps going on the same rig
    finally:
        rig.close()


# ============================================================================ holes found
def hole(reason):
    """A safety hole the fuzz found, pinned by its reproducer (the assertion it breaks)."""
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)


def _qdac(command_time=0.0):
    clock = VirtualClock()
    lab = VirtualLab(seed=1, clock=clock)
    model = QDac2Model(lab, name="qdac")
    model.command_time = command_time
    name = f"qdac_{uuid.uuid4().hex[:8]}"
    q = QDac2(name, transport=InProcessTransport(model, name=name), sleep=clock.advance)
    return clock, lab, q


def _steps(lab, channel=1):
    """(start, end, duration) of every move the lab's output history holds."""
    out = lab._outputs[("qdac", channel)]
    return list(zip(out._v0, out._v1, out._dur, strict=True))


def test_hole_max_step_ignored_when_max_ramp_rate_is_infinite():
    _, lab, q = _qdac()
    try:
        q.set_limits(1, ChannelLimits(-1.0, 1.0, max_step=0.1))  # max_ramp_rate defaults to inf
        q.set_voltage(1, 1.0)
        jumps = [abs(b - a) for a, b, dur in _steps(lab) if dur == 0.0]
        assert max(jumps, default=0.0) <= 0.1 + 1e-12, f"one step of {max(jumps)} V"
        assert q.get_voltage(1) == pytest.approx(1.0)  # it got there: slewed, not stepped
    finally:
        q.close()


def test_hole_generator_started_after_the_limits_narrowed():
    clock, _, q = _qdac()
    try:
        q.set_limits(1, ChannelLimits(-1.0, 1.0, 10.0, 0.1))
        gen = q.dc_sweep(1, 0.0, 0.5, 11, 1e-3)
        q.set_limits(1, ChannelLimits(-0.2, 0.2, 10.0, 0.1))
        with pytest.raises(LimitError, match="outside the limits"):
            gen.start()  # checked against the limits of now, not of when it was set up
        clock.advance(0.1)
        assert q.get_voltage(1) <= 0.2
    finally:
        q.close()


def test_hole_stale_generator_plays_the_newer_list():
    clock, lab, q = _qdac()
    try:
        q.set_limits(1, ChannelLimits(-1.0, 1.0, 10.0, 0.1))
        old = q.dc_list(1, [0.85, 0.9], 1e-3)
        q.dc_list(1, [0.0, 0.05, 0.1], 1e-3)  # a newer list on the same channel (output 0 V)
        old.start()  # ramps to 0.85 V, then INIT: the instrument plays the newer list from 0.0
        clock.advance(0.1)
        jumps = [abs(b - a) for a, b, dur in _steps(lab) if dur == 0.0]
        assert max(jumps) <= 0.1 + 1e-12, f"one step of {max(jumps)} V"  # 0.85 -> 0.0 V
    finally:
        q.close()


def test_hole_restarting_a_running_generator():
    clock, lab, q = _qdac(command_time=1e-3)  # each query keeps the QDAC busy 1 ms
    try:
        q.set_limits(1, ChannelLimits(-1.0, 1.0, 10.0, 0.08))
        gen = q.dc_sweep(1, 0.0, 1.0, 201, 1e-4)  # 5 mV every 0.1 ms
        gen.start()  # INIT;*OPC? keeps the QDAC busy 1 ms: the sweep is at 0.05 V
        gen.start()  # reads 0.05 V (within max_step of 0), 1 ms more (0.1 V), INIT: back to 0
        clock.advance(0.1)
        jumps = [abs(b - a) for a, b, dur in _steps(lab) if dur == 0.0]
        assert max(jumps) <= 0.08 + 1e-12, f"one step of {max(jumps)} V"
    finally:
        q.close()


def test_hole_sweep_end_at_the_limit_is_computed_past_it():
    clock, _, q = _qdac()
    try:
        q.set_limits(1, ChannelLimits(-1.0, -0.5))
        with pytest.raises(LimitError, match="as the instrument computes it"):
            q.dc_sweep(1, -0.9, -0.5, 4, 1e-3)  # -0.9 + 0.4 * 3 / 3 = -0.49999999999999994
        clock.advance(0.1)
        assert q.get_voltage(1) <= -0.5 or q.get_voltage(1) == 0.0  # nothing was played
    finally:
        q.close()


def test_hole_awg_float32_rounding_crosses_the_limit_by_one_code():
    from dotstack.drivers.awg5208 import AWG5208
    from dotstack.mocks.instruments.awg5208 import AWG5208Model

    clock = VirtualClock()
    model = AWG5208Model(VirtualLab(seed=1, clock=clock), name="awg")
    name = f"awg_{uuid.uuid4().hex[:8]}"
    awg = AWG5208(name, transport=InProcessTransport(model, name=name), sleep=clock.advance)
    try:
        level = np.float32(0.5781388282775879)  # /0.75*32767 = 25258.4999..., as float32 .5000..
        table = SequenceTable(
            ("P1",),
            np.zeros((1, 1), np.int64),
            np.ones(1, np.int64),
            np.zeros(1, bool),
            np.full(1, -1),
            np.full(1, -1),
        )
        prog = Program(
            "awg",
            AWG_LIM,
            ("P1",),
            "float32",
            WaveStore.from_arrays([np.full(2400, level, np.float32)]),
            table,
            (),
            np.array([0, 2400], np.int64),
        )
        awg.set_channel_limits(1, -0.75, 0.57813)  # code 25258 is 0.5781274 V: allowed
        with pytest.raises(LimitError, match="outside the limits"):
            awg.prepare(prog)  # the float32 sample sent rounds to code 25259: refused
        assert not model.waveforms  # nothing uploaded
    finally:
        awg.close()


def test_slow_ramp_with_unlimited_step_is_a_fine_staircase_not_a_jump():
    """Below the QDAC's slowest slew (0.01 V/s) the driver ramps in software: with max_step inf
    this was one instantaneous 0.5 V jump, then a wait; now steps of at most rate x 0.1 s."""
    clock, lab, q = _qdac()
    try:
        q.set_limits(1, ChannelLimits(-1.0, 1.0, 1.0))  # max_step inf
        q.ramp(1, 0.5, rate=0.005)
        jumps = [abs(b - a) for a, b, dur in _steps(lab) if dur == 0.0]
        assert max(jumps) <= 0.005 * 0.1 + 1e-9, max(jumps)
        assert q.get_voltage(1) == pytest.approx(0.5, abs=1e-6)
        assert math.isclose(clock.now(), 100.0, rel_tol=0.01)
    finally:
        q.close()

"""The lab clock: scheduled actions in time order, waits in lab time, both modes, trigger lines."""

from __future__ import annotations

import threading
import time

import pytest

from dotstack.mocks.physics import NoiseParams, RealtimeClock, TriggerLines, VirtualClock, VirtualLab
from dotstack.mocks.physics.clock import ClockDeadlock, make_clock


def test_virtual_clock_runs_actions_in_time_order_at_their_times() -> None:
    clock = VirtualClock()
    seen: list[tuple[str, float, float]] = []
    for name, t in (("c", 0.3), ("a", 0.1), ("b", 0.2), ("b2", 0.2)):
        clock.schedule(t, lambda when, n=name: seen.append((n, when, clock.now())), name)
    assert clock.now() == 0.0 and clock.pending == 4  # nothing runs ahead of the clock
    clock.advance(0.25)
    assert [s[0] for s in seen] == ["a", "b", "b2"]  # ties in the order they were scheduled
    assert all(when == now for _, when, now in seen)  # each ran with the clock at its time
    assert clock.now() == 0.25
    clock.advance(1.0)
    assert [s[0] for s in seen] == ["a", "b", "b2", "c"] and clock.now() == 1.25


def test_actions_may_schedule_more_and_cancel() -> None:
    clock = VirtualClock()
    ticks: list[float] = []

    def tick(t: float) -> None:
        ticks.append(t)
        if len(ticks) < 5:
            clock.schedule(t + 0.1, tick)

    clock.schedule(0.0, tick)
    dropped = clock.schedule(0.15, lambda t: ticks.append(-1.0))
    dropped.cancel()
    clock.advance(10.0)
    assert ticks == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_wait_for_stops_at_the_event_that_satisfies_it() -> None:
    clock = VirtualClock()
    state = {"done": False}
    clock.schedule(2.5, lambda t: state.update(done=True))
    clock.schedule(7.0, lambda t: None)
    assert clock.wait_for(lambda: state["done"])
    assert clock.now() == 2.5  # not beyond: the later action has not run
    assert clock.pending == 1
    assert not clock.wait_for(lambda: False, deadline=5.0) and clock.now() == 5.0


def test_a_wait_nothing_can_satisfy_is_a_deadlock_not_a_hang() -> None:
    clock = VirtualClock(idle_grace=0.05)
    with pytest.raises(ClockDeadlock):
        clock.wait_for(lambda: False)


def test_another_thread_can_satisfy_a_virtual_wait() -> None:
    clock = VirtualClock(idle_grace=5.0)
    state = {"done": False}

    def later() -> None:
        time.sleep(0.05)
        clock.schedule(clock.now() + 1.0, lambda t: state.update(done=True))

    threading.Thread(target=later).start()
    assert clock.wait_for(lambda: state["done"]) and clock.now() == 1.0


def test_virtual_clock_refuses_bad_times() -> None:
    clock = VirtualClock(1.0)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            clock.schedule(bad, lambda t: None)
    with pytest.raises(ValueError, match="back"):
        clock.set(0.5)
    with pytest.raises(ValueError, match="dt"):
        clock.sleep(-1.0)
    with pytest.raises(ValueError, match="mode"):
        make_clock("sundial")


def test_realtime_clock_runs_actions_whether_or_not_anyone_waits() -> None:
    clock = RealtimeClock()
    try:
        fired = threading.Event()
        stamp: list[float] = []
        t0 = clock.now()
        clock.schedule(t0 + 0.05, lambda t: (stamp.append(t), fired.set()))
        assert fired.wait(10.0)  # the dispatcher ran it: nobody polled
        assert stamp == [pytest.approx(t0 + 0.05)]  # dated with its lab time
        start = time.monotonic()
        assert clock.sleep(0.05)
        assert time.monotonic() - start >= 0.05  # a real wait (a lower bound only)
        assert not clock.sleep(5.0, interrupt=lambda: True)  # an interrupt ends a wait early
    finally:
        clock.close()


def test_lab_shares_its_lock_and_routes_trigger_pulses() -> None:
    clock = VirtualClock()
    lines = TriggerLines({"qdac.trig1": ["dmm.ext", "other.ext"]})
    lab = VirtualLab(seed=1, noise=NoiseParams.none(), clock=clock, triggers=lines)
    assert lab.lock is clock.lock
    got: list[float] = []
    lab.add_trigger_input("dmm.ext", got.append)
    lab.pulse("qdac.trig1", 0.25)
    lab.pulse("qdac.trig2", 0.5)  # not cabled: goes nowhere
    assert got == [0.25]
    assert list(lab.trigger_log) == [(0.25, "qdac.trig1", "dmm.ext")]
    assert lab.ground_truth()["trigger_lines"] == {"qdac.trig1": ["dmm.ext", "other.ext"]}


@pytest.mark.parametrize("lines", [
    {"qdac.trig1": "qdac.trig1"},
    {"qdac.trig1": "dmm.ext", "qdac.trig2": "dmm.ext"},
    {"qdac": "dmm.ext"},
    {"qdac.trig1": []},
])
def test_bad_trigger_lines_are_refused(lines: dict) -> None:
    with pytest.raises(ValueError, match="TriggerLines"):
        TriggerLines(lines)

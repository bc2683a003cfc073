"""Fault injection: the plan's semantics, and each fault kind once through a real experiment."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from harness import START, run_case

from dotstack.drivers.transport import TransportError, VisaTransport
from dotstack.experiments.shield import GatesNotRestored
from dotstack.mocks.lab import MockLab
from dotstack.mocks.scpi import Call, Fault, FaultInjector, FaultPlan, ScpiModel, command, serve_tcp

SWEEP = "gate_sweep_software"


# -- the plan ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kind": "melt"}, "must be one of"),
    ({"at": 0}, "at: must be >= 1"),
    ({"at": True}, "at: must be an integer"),
    ({"at": 2.5}, "at: must be an integer"),
    ({"count": 0}, "count: must be >= 1"),
    ({"match": "sour[1"}, "not a regular expression"),
    ({"probability": math.nan}, "probability: must be finite"),
    ({"probability": 1.5}, r"probability must be in \(0, 1\]"),
    ({"kind": "slow"}, "delay must be > 0"),
    ({"kind": "slow", "delay": math.inf}, "delay: must be finite"),
    ({"code": -50}, "code must be an SCPI error code"),
    ({"instrument": ""}, "instrument must be a name"),
])
def test_hostile_faults_are_refused_naming_the_field(kwargs: dict, match: str) -> None:
    args = {"kind": "timeout", "instrument": "qdac", **kwargs}
    with pytest.raises(ValueError, match=match):
        Fault(**args)


def test_numpy_integers_are_accepted() -> None:
    f = Fault("error", "dmm", at=np.int64(3), count=np.int32(2), code=np.int16(-222))
    assert (f.at, f.count, f.code) == (3, 2, -222) and type(f.at) is int


def test_from_dict_rejects_unknown_keys() -> None:
    assert Fault.from_dict({"kind": "drop", "at": 4}, instrument="qdac") == Fault("drop", "qdac", 4)
    with pytest.raises(ValueError, match=r"unknown key.*'when'"):
        Fault.from_dict({"kind": "drop", "instrument": "qdac", "when": 4})


def _fires(fault: Fault, messages: list[bytes], seed: int = 0) -> list[int]:
    inj = FaultInjector([(0, fault)], seed)
    return [i for i, m in enumerate(messages) if inj.decide(m) is not None]


def test_at_match_count_and_queries_only() -> None:
    msgs = [b"sour1:volt 0.1", b"sour1:volt:last?", b"sour2:volt 0.2", b"sour2:volt:last?"] * 3
    assert _fires(Fault("drop", "q", at=3), msgs) == [2]  # every message counts
    assert _fires(Fault("timeout", "q", at=2), msgs) == [3]  # only queries count
    assert _fires(Fault("error", "q", at=2, match=r"sour2:volt "), msgs) == [6]
    assert _fires(Fault("garble", "q", at=1, count=2), msgs) == [1, 3]
    assert _fires(Fault("timeout", "q", at=5, count=None), msgs) == [9, 11]  # stays broken


def test_random_faults_are_seeded() -> None:
    msgs = [b"x?"] * 200
    fault = Fault("garble", "q", probability=0.05)
    first = _fires(fault, msgs, seed=1)
    assert len(first) == 1 and first == _fires(fault, msgs, seed=1)
    assert {_fires(fault, msgs, seed=s)[0] for s in range(10)} != {first[0]}


def test_mock_lab_refuses_unknown_instruments() -> None:
    with MockLab.create() as lab:
        with pytest.raises(ValueError, match=r"no instrument 'psu'.*qdac"):
            lab.inject(FaultPlan.of(Fault("drop", "psu")))
        lab.inject(Fault("reset", "qdac"))
        assert lab.models["qdac"].faults is not None
        lab.inject(None)
        assert all(m.faults is None for m in lab.models.values())


# -- each kind once, through an experiment -----------------------------------------------------
def _failed_cleanly(v, instrument: str) -> None:
    assert not v.hang and not v.completed, v
    assert v.names_instrument_and_command, v.error
    assert f"{instrument}: '" in v.error
    assert v.failed_in_store and v.data_readable, v.notes
    assert v.written > 0 and v.lost == 0
    assert v.gates_restored and v.gates_in_limits


@pytest.mark.parametrize(("kind", "instrument", "reason"), [
    ("timeout", "dmm", "timeout after"),
    ("drop", "qdac", "connection closed by the instrument"),
    ("garble", "dmm", "garbled reply"),
    ("garble", "qdac", "garbled reply"),
    ("error", "qdac", "error queue: -300"),
    ("reset", "qdac", "changed outside the run"),
    ("reset", "dmm", "lost its settings"),
])
def test_fault_ends_the_run_failed_with_data_and_gates_back(tmp_path: Path, kind: str,
                                                            instrument: str, reason: str) -> None:
    # the 10th point's reading, the 10th move of P1, or a read-back of P1 past its first ramp
    match = r"READ\?" if instrument == "dmm" else (r"sour1:volt:mode" if kind == "reset"
                                                   else r"sour1:volt:last\?")
    fault = Fault(kind, instrument, at=10 if instrument == "dmm" or kind == "reset" else 80,
                  match=match)
    v = run_case(fault, SWEEP, tmp_path)
    assert v.fired
    _failed_cleanly(v, instrument)
    assert reason in v.error


def test_slow_reply_waits_in_lab_time_and_the_run_completes(tmp_path: Path) -> None:
    v = run_case(Fault("slow", "dmm", at=5, delay=30.0), SWEEP, tmp_path)
    assert v.fired and v.completed and v.gates_restored and v.lost == 0
    plain = run_case(Fault("slow", "dmm", at=10_000, delay=30.0), SWEEP, tmp_path / "plain")
    assert not plain.fired
    assert v.lab_elapsed - plain.lab_elapsed == pytest.approx(30.0, abs=1e-6)


def test_dead_dac_the_error_says_which_gates_are_where(tmp_path: Path) -> None:
    v = run_case(Fault("timeout", "qdac", at=80, count=None, match=r"sour1:volt:last\?"), SWEEP,
                 tmp_path)
    assert v.fired and not v.completed and not v.hang
    assert "gates NOT all restored" in v.error and "qdac does not respond" in v.error
    for gate in ("P1", "P2", "SB1"):  # the swept and set gates, each with its position
        assert gate in v.error
    assert isinstance(v.cause, GatesNotRestored)
    assert v.failed_in_store and v.data_readable and v.lost == 0
    assert v.gates_reported and v.gates_in_limits
    assert set(START) >= {"P1", "P2", "SB1"}


def test_dropped_dac_is_reconnected_for_the_restore(tmp_path: Path) -> None:
    v = run_case(Fault("drop", "qdac", at=150, match="sour7"), "pinch_off", tmp_path)
    _failed_cleanly(v, "qdac")


# -- the socket transport ----------------------------------------------------------------------
class _Counter(ScpiModel):
    """Each ``N?`` answers the next integer."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    @command("N?")
    def _n(self, call: Call) -> str:
        self.n += 1
        return str(self.n)


def test_late_reply_after_a_timeout_is_never_taken_for_the_next_one() -> None:
    model = _Counter()
    model.faults = FaultPlan.of(Fault("slow", "c", at=2, delay=0.6)).injector("c")
    with serve_tcp(model) as server:
        t = VisaTransport(server.address, name="c", timeout=0.2)
        try:
            assert t.query("N?") == "1"
            with pytest.raises(TransportError, match=r"^c: 'N\?' -> timeout after 0.2 s"):
                t.query("N?")  # answered "2", 0.6 s late
            assert t.query("N?") == "3"  # a new connection: "2" never arrives here
            assert t.query("N?") == "4"
        finally:
            t.close()


def test_dropped_socket_fails_at_once_naming_the_command() -> None:
    model = _Counter()
    model.faults = FaultPlan.of(Fault("drop", "c", at=2)).injector("c")
    with serve_tcp(model) as server:
        t = VisaTransport(server.address, name="c", timeout=30.0)
        try:
            assert t.query("N?") == "1"
            with pytest.raises(TransportError, match="'N\\?' -> connection closed"):
                t.query("N?")  # not after the 30 s timeout: the EOF is seen
            with pytest.raises(TransportError, match="connection closed"):
                t.write("N?")  # stays closed ...
            t.reopen()  # ... until the caller reconnects
            assert t.query("N?") == "2"
        finally:
            t.close()

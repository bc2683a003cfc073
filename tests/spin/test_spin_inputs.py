"""Hostile input to the spin engine gets a clear error naming the thing; numpy scalars work."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dotstack.mocks.physics.spin import (
    KEYS,
    AcField,
    ElzermanReadout,
    PsbReadout,
    SpinNoise,
    SpinParams,
    SpinSegment,
    SpinSequence,
    SpinSimulator,
)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"duration": 0.0}, "duration must be > 0"),
    ({"duration": math.nan}, "duration must be finite"),
    ({"duration": 1e-6, "drive_i": math.inf}, "drive_i must be finite"),
    ({"duration": 1e-6, "frequency": -1.0}, "frequency must be >= 0"),
    ({"duration": True}, "duration must be a real number"),
    ({"duration": "1e-6"}, "duration must be a real number"),
    ({"duration": 1e-6, "phase": 1j}, "phase must be a real number"),
])
def test_segment_refuses(kwargs: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        SpinSegment(**kwargs)


def test_segment_takes_numpy_scalars() -> None:
    seg = SpinSegment(np.float32(1e-6), np.float64(-1e-3), np.int64(0), np.float16(0.0),
                      np.float64(8e9), np.float32(0.5))
    assert type(seg.duration) is float and seg.duration == pytest.approx(1e-6)
    assert type(seg.drive_i) is float


def test_sequence_columns_are_checked() -> None:
    ok = SpinSequence.of([SpinSegment(1e-6), SpinSegment(2e-6, drive_i=1e-3, frequency=8e9)])
    assert ok.size == 2 and ok.total == pytest.approx(3e-6)
    assert ok.start.tolist() == pytest.approx([0.0, 1e-6])
    assert ok.segments()[1] == SpinSegment(2e-6, drive_i=1e-3, frequency=8e9)
    with pytest.raises(ValueError, match="different lengths"):
        SpinSequence([1e-6, 1e-6], [0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"drive_q\[1\] is not finite"):
        SpinSequence([1e-6, 1e-6], 0.0, 0.0, [0.0, np.nan], 0.0, 0.0)
    with pytest.raises(ValueError, match=r"duration\[0\] must be > 0"):
        SpinSequence([-1e-6], 0.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(TypeError, match="phase must be real numbers"):
        SpinSequence([1e-6], 0.0, 0.0, 0.0, 0.0, [True])
    with pytest.raises(TypeError, match="segment 1 is a tuple"):
        SpinSequence.of([SpinSegment(1e-6), (1e-6, 0.0)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least one segment"):
        SpinSequence.of([])
    assert not ok.duration.flags.writeable


@pytest.mark.parametrize(("factory", "match"), [
    (lambda: SpinParams(t1=0.0), "SpinParams.t1 must be > 0"),
    (lambda: SpinParams(g_factor=(2.0,)), "g_factor must have 2 entries"),
    (lambda: SpinParams(rabi_per_volt=(1e9, -1.0)), r"rabi_per_volt\[1\] must be >= 0"),
    (lambda: SpinParams(field=-1.0), "Zeeman frequencies must be > 0"),
    (lambda: SpinNoise(band=(10.0, 1.0)), "low < high"),
    (lambda: SpinNoise(per_decade=1.5), "per_decade must be an integer"),
    (lambda: SpinNoise(amplitude_ev=math.nan), "amplitude_ev must be finite"),
    (lambda: AcField(1e-6, 0.0), "AcField.frequency must be > 0"),
    (lambda: PsbReadout(singlet_level=0.1, blocked_level=0.1), "must differ"),
    (lambda: ElzermanReadout(spin=3), "spin must be 1 or 2"),
    (lambda: ElzermanReadout(spin=np.bool_(True)), "spin must be an integer"),
])
def test_params_refuse(factory: object, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        factory()  # type: ignore[operator]


def test_run_refuses_bad_shot_counts_and_keys() -> None:
    sim = SpinSimulator(seed=1)
    seq = [SpinSegment(1e-6)]
    for bad in (0, 2.5, True, "10"):
        with pytest.raises((ValueError, TypeError), match="shots"):
            sim.run(seq, bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="key"):
        sim.run(seq, 10, key=[1.5])  # type: ignore[list-item]
    rec = sim.run(seq, np.int64(7), key=np.int32(3))
    assert rec.shots == 7 and rec.up.shape == (7, 2) and rec.p_up.shape == (7, 2)
    with pytest.raises(ValueError, match="spin must be 1 or 2"):
        sim.ground_truth(drive_amplitude=1e-3, spin=3)
    with pytest.raises(ValueError, match="cpmg_pulses"):
        sim.ground_truth(drive_amplitude=1e-3, cpmg_pulses=(4, 4))
    with pytest.raises(ValueError, match="drive_amplitude"):
        sim.ground_truth(drive_amplitude=math.nan)


def test_ground_truth_is_json_with_every_key() -> None:
    sim = SpinSimulator(ac_field=AcField(1e-7, 1e5, 0.3), seed=2)
    truth = json.loads(json.dumps(sim.ground_truth(drive_amplitude=np.float64(2e-3))))
    assert set(KEYS) <= set(truth)
    assert truth["f_rabi_Hz"] == pytest.approx(1e7)
    assert truth["ac_field_T"] == 1e-7 and truth["ac_frequency_Hz"] == 1e5
    assert truth["t2star_s"] < truth["t2_echo_s"] < truth["cpmg_t2_s"][-1]

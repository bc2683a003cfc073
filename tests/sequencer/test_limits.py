"""Things that cannot be played raise errors naming the segment, the channel and the limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dotstack.sequencer import (
    AWG5208,
    AwgLimits,
    AwgTarget,
    Burst,
    Hold,
    LimitError,
    Param,
    Ramp,
    SequencerError,
    compile_schedule,
    par,
    seq,
    sweep,
)

LIM = AwgLimits(sample_rate=1e9, min_length=16, amplitude_range=(-0.5, 0.5))


def _compile(item, lim=LIM, chans=("P1", "P2")):
    return compile_schedule(item, [AwgTarget("awg", lim, chans)])


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5001, 5.0), st.sampled_from([1, -1]), st.sampled_from(["hold", "ramp"]))
def test_amplitude_violation_names_segment_channel_limit(level, sign, kind) -> None:
    seg = Hold(100e-9, sign * level) if kind == "hold" else Ramp(100e-9, sign * level, 0.0)
    with pytest.raises(LimitError) as err:
        _compile(seq(par(P1=Hold(50e-9, 0.1)), par(P2=seg)))
    e = err.value
    assert e.channel == "P2" and e.limit == "amplitude_range"
    assert type(seg).__name__ in e.segment and "P2" in str(e) and "amplitude" in str(e)


def test_swept_amplitude_violation_only_for_bad_points() -> None:
    ok = sweep(par(P1=Hold(100e-9, Param("v"))), ("v", [0.1, 0.4]))
    _compile(ok)
    with pytest.raises(LimitError, match="amplitude"):
        _compile(sweep(par(P1=Hold(100e-9, Param("v"))), ("v", [0.1, 0.6])))


def test_nyquist() -> None:
    with pytest.raises(LimitError) as err:
        _compile(par(P1=Burst(100e-9, 6e8, 0.1)))
    assert err.value.limit == "sample_rate" and err.value.channel == "P1"
    assert "Burst" in err.value.segment


def test_max_steps_and_waveforms_and_memory() -> None:
    sw = sweep(par(P1=Ramp(32e-9, 0.0, Param("v"))), ("v", np.linspace(0, 0.4, 50)))
    with pytest.raises(LimitError) as err:
        _compile(sw, LIM.with_(max_steps=10))
    assert err.value.limit == "max_steps"
    with pytest.raises(LimitError) as err:
        _compile(sw, LIM.with_(max_waveforms=20))
    assert err.value.limit == "max_waveforms"
    with pytest.raises(LimitError) as err:
        _compile(sw, LIM.with_(memory_per_channel=1000))
    assert err.value.limit == "memory_per_channel" and err.value.channel == "P1"


def test_features_as_flags() -> None:
    trig = sweep(par(P1=Hold(100e-9, Param("v"))), ("v", [0.1, 0.2]), trigger="point")
    with pytest.raises(LimitError, match="trigger"):
        _compile(trig, LIM.with_(supports_trigger_wait=False))
    loop = sweep(par(P1=Hold(100e-9, Param("v"))), ("v", [0.1, 0.2]), loop=True)
    with pytest.raises(LimitError, match="jump back"):
        _compile(loop, LIM.with_(supports_goto=False))
    # without repeat counts, long plateaus are stored in full
    prog = _compile(par(P1=Hold(10e-6, 0.1)), LIM.with_(supports_repeat=False)).programs["awg"]
    assert prog.table.repeat.tolist() == [1] and len(prog.waveforms[0]) == 10000


def test_max_repeat_splits_rows() -> None:
    prog = _compile(par(P1=Hold(10e-6, 0.1)), LIM.with_(max_repeat=100)).programs["awg"]
    assert prog.table.repeat.max() <= 100
    lengths = np.array([len(w) for w in prog.waveforms])[prog.table.waveform[:, 0]]
    assert int((lengths * prog.table.repeat).sum()) == 10000


def test_unpackable_short_steps() -> None:
    sw = sweep(par(P1=Hold(1e-6, Param("v"))), ("v", [0.1, 0.2, 0.3]), trigger="point")
    with pytest.raises(LimitError) as err:
        _compile(sw, AWG5208.with_(sample_rate=1e9))
    assert err.value.limit == "min_length" and err.value.channel == "P1"
    assert "Hold" in err.value.segment


def test_unwired_channel_and_bad_values() -> None:
    with pytest.raises(SequencerError, match="not wired"):
        _compile(par(P9=Hold(1e-6, 0.1)))
    with pytest.raises(SequencerError, match="negative"):
        _compile(par(P1=Hold(-1e-6, 0.1)))
    with pytest.raises(SequencerError, match="not bound"):
        sweep(par(P1=Hold(1e-6, Param("v"))), ("w", [1.0]))

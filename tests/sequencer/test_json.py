"""JSON: schedules and sweeps load back exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dotstack.sequencer import (
    Acquire,
    Arbitrary,
    Burst,
    Chirp,
    Hold,
    Marker,
    Param,
    Ramp,
    SequencerError,
    UnregisteredFunctionError,
    axis,
    from_json,
    iq_burst,
    par,
    register_function,
    repeat,
    seq,
    sweep,
    to_json,
)

finite = st.floats(allow_nan=False, allow_infinity=False)


def _ramp_up(t, d):
    return np.sqrt(t / d)


register_function("test_sqrt_ramp", _ramp_up)


@settings(max_examples=60, deadline=None)
@given(finite, finite, finite, finite, st.lists(finite, min_size=1, max_size=5))
def test_round_trip_exact(a, b, c, d, values) -> None:
    sched = seq(
        par(P1=[Hold(abs(a), b), Ramp(abs(c), d, a)], M1=Marker(1e-6), DIG=Acquire(2e-6, "sig")),
        repeat(par(P2=Burst(Param("t"), c, d, a, b, "gauss", 0.125)), 3),
        iq_burst("I", "Q", 1e-7, 1.5e8, 0.1, phase=c),
        par(P1=Chirp(1e-6, a, b, c, d, a), P2=Arbitrary(1e-6, "test_sqrt_ramp", b, c)),
    )
    sw = sweep(sched, axis("t", values, other=values), ("u", [a, b]), trigger="row",
               loop=True, constants={"k": c})
    for item in (sched, sw):
        text = to_json(item)
        back = from_json(text)
        assert back == item
        assert to_json(back) == text


def test_floats_are_bit_exact() -> None:
    x = 0.1 + 0.2
    back = from_json(to_json(par(P1=Hold(x, np.nextafter(x, 1)))))
    seg = back.items[0].lanes[0][1][0]
    assert seg.duration.hex() == x.hex() and seg.level == np.nextafter(x, 1)


def test_unregistered_callable_refused() -> None:
    with pytest.raises(UnregisteredFunctionError, match="register"):
        Arbitrary(1e-6, lambda t, d: t)  # type: ignore[arg-type]
    arb = Arbitrary(1e-6, _ramp_up)  # registered callables become their name
    assert arb.function == "test_sqrt_ramp"
    text = to_json(par(P1=arb)).replace("test_sqrt_ramp", "nobody_registered_this")
    with pytest.raises(UnregisteredFunctionError):
        from_json(text)


def test_non_finite_refused() -> None:
    with pytest.raises(SequencerError, match="non-finite"):
        to_json(par(P1=Hold(1e-6, float("nan"))))

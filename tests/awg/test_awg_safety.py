"""Safety: `prepare` refuses, sending nothing, programs a channel could not play within its
limits (instrument range, station limits, amplitude/offset window, DAC resolution)."""

import math

import numpy as np
import pytest
from awgtest_helpers import LIM, raster

from dotstack.drivers.protocols import LimitError
from dotstack.sequencer import (
    AwgTarget,
    Hold,
    Program,
    SequenceTable,
    WaveStore,
    compile_schedule,
    par,
)


def hand_program(*waves, output="float32", channels=("P1",)):
    """One step per waveform (float32 volts), every channel playing the same one."""
    data = [np.asarray(w, np.float32 if output == "float32" else np.int16) for w in waves]
    n = len(data)
    table = SequenceTable(channels, np.repeat(np.arange(n)[:, None], len(channels), axis=1),
                          np.ones(n, np.int64), np.zeros(n, bool), np.full(n, -1),
                          np.full(n, -1))
    starts = np.concatenate([[0], np.cumsum([len(d) for d in data])])
    return Program("awg", LIM, channels, output, WaveStore.from_arrays(data), table, (),
                   starts.astype(np.int64))


def hold(volts, channel="P1"):
    return compile_schedule(par(**{channel: Hold(3e-6, volts)}),
                            [AwgTarget("awg", LIM, (channel,))]).programs["awg"]


def assert_refused(awg, model, program, match):
    n, counts = len(model.log), dict(model.counts)
    with pytest.raises(LimitError, match=match):
        awg.prepare(program)
    assert len(model.log) == n and dict(model.counts) == counts  # not one byte went out


def test_station_limits_refuse_before_anything_is_sent(awg, model):
    awg.set_channel_limits(1, -0.2, 0.2)
    # (0.3 V as a DAC code of the AWG5208 range is 0.300005 V)
    assert_refused(awg, model, hold(0.3),
                   r"channel 1 \(P1\): \+0\.300\d* V is outside the limits \[-0\.2, \+0\.2\]")
    assert_refused(awg, model, hold(-0.25), r"-0\.24999\d* V is outside")
    awg.prepare(hold(0.15))  # within: uploaded
    assert model.counts["WLISt:WAVeform:DATA"] == 1


def test_every_waveform_of_a_raster_is_checked(awg, model):
    prog = raster(6, 4)  # P1 spans about +-0.34 V after the virtual-gate mixing
    awg.set_channel_limits(2, -0.5, 0.5)
    awg.set_channel_limits(1, -0.3, 0.3)
    assert_refused(awg, model, prog, r"channel 1 \(P1\)")


def test_limits_may_only_narrow(awg):
    with pytest.raises(LimitError, match="narrow"):
        awg.set_channel_limits(1, -1.0, 0.5)  # the AWG5208 puts out at most +-0.75 V
    with pytest.raises(LimitError):
        awg.set_channel_limits(9, -0.1, 0.1)
    with pytest.raises(LimitError):
        awg.set_channel_limits(1, 0.2, 0.1)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_are_refused(awg, model, bad):
    wave = np.full(2400, 0.1)
    wave[1234] = bad
    assert_refused(awg, model, hand_program(np.full(2400, 0.0), wave), "NaN or infinite")


def test_output_beyond_the_amplitude_window_is_refused(awg, model):
    awg.set_channel_scaling(1, 0.5)  # 0.5 Vpp: +-0.25 V
    assert_refused(awg, model, hold(0.3), r"outside the channel's range \[-0\.25, \+0\.25\]")
    awg.set_channel_scaling(1, 0.5, offset=0.2)  # -0.05 .. 0.45 V
    awg.prepare(hold(0.3))
    assert model.channels[1].offset == 0.2 and model.channels[1].amplitude == 0.5
    np.testing.assert_allclose(model.channels[1].scale(np.array([1.0])), 0.45)


def test_amplitude_outside_the_instrument_is_refused(awg, model):
    awg.set_channel_scaling(1, 3.0)
    assert_refused(awg, model, hold(0.1), "amplitude 3 Vpp outside")


def test_quantised_extreme_is_what_is_checked(awg, model):
    # with four markers the DAC keeps 12 bits: a level just inside the limit would come out
    # above it after quantisation (1.5 V / 4094 steps)
    lim = 0.1
    awg.set_channel_limits(1, -0.75, lim)
    prog = hand_program(np.full(2400, lim - 1e-6), channels=("P1",))
    prog = Program(prog.awg, prog.limits, prog.channels, prog.output, prog.waves, prog.table,
                   (("M", "P1", 3),), prog.point_starts)
    assert_refused(awg, model, prog, r"outside the limits")


def test_too_short_waveform_is_refused(awg, model):
    assert_refused(awg, model, hand_program(np.zeros(100)), "fewer than the instrument's minimum")


def test_refused_program_leaves_the_previous_one_playing(awg, model, clock):
    awg.prepare(hold(0.1))
    awg.arm()
    awg.set_channel_limits(1, -0.05, 0.05)
    assert_refused(awg, model, hold(0.2), "outside")
    assert awg.run_state() == "running"

"""The unmodified QCoDeS AlazarTechATS9360 driver on the mock ATS API, fed by the lab."""

import math
import uuid

import numpy as np
import pytest
from atstest_helpers import (
    LINES,
    RawController,
    SignalLab,
    configure,
    expected_codes,
    pulses,
    records,
    sine,
    volts,
)
from qcodes.instrument_drivers.AlazarTech import AlazarTechATS9360

from dotstack.mocks.instruments.ats9360 import ATS9360API, FALLBACK_GAIN
from dotstack.mocks.physics import NoiseParams, VirtualClock, VirtualLab
from dotstack.mocks.physics.wiring import TriggerLines

RATE = 1e9


def acquire(alazar, controller, *, spr=1024, rpb=2, buffers=2, channels="AB", timeout=1000,
            allocated=None, mode="NPT"):
    return alazar.acquire(mode=mode, samples_per_record=spr, records_per_buffer=rpb,
                          buffers_per_acquisition=buffers, channel_selection=channels,
                          allocated_buffers=allocated or buffers, buffer_timeout=timeout,
                          acquisition_controller=controller)


def test_identity_and_settings_reach_the_board(alazar, api):
    idn = alazar.get_idn()
    assert (idn["model"], idn["bits_per_sample"], idn["firmware"]) == ("ATS9360", 12, "21.09")
    assert alazar.trigger_holdoff() is True
    alazar.trigger_holdoff(False)
    assert not api.registers[58] & (1 << 26) and alazar.trigger_holdoff() is False
    configure(alazar, rate=500_000_000, delay=64, level=200, slope="TRIG_SLOPE_NEGATIVE")
    s = api.settings
    assert s.sample_rate == 5e8 and s.trigger_delay == 64 and s.engines[0].level == 200
    assert s.engines[0].slope == 2 and s.engines[1].source == 3  # DISABLE
    assert {"AlazarSetCaptureClock", "AlazarInputControl", "AlazarSetBWLimit",
            "AlazarSetTriggerOperation", "AlazarSetExternalTrigger", "AlazarSetTriggerDelay",
            "AlazarSetTriggerTimeOut", "AlazarConfigureAuxIO"} <= set(api.calls)


def test_records_hold_the_signal_at_trigger_plus_delay(alazar, api, lab, clock):
    configure(alazar, delay=16)
    times = [1e-3, 1.5e-3, 2e-3 + 0.3e-9, 3e-3]  # the third is between two sample-clock ticks
    pulses(lab, times)
    words = acquire(alazar, RawController())
    codes = records(words, 2, 2, 1024)
    k = np.arange(1024)
    for r, t in enumerate(times):
        first = math.ceil(t * RATE - 1e-6) + 16  # next sample-clock tick, then the delay
        assert 0 <= first / RATE - (t + 16 / RATE) < 1 / RATE
        tk = first / RATE + k / RATE  # the times the seam is asked for
        np.testing.assert_array_equal(codes[0, r] >> 4, expected_codes(0.3 * np.cos(2e7 * np.pi * tk)))
        np.testing.assert_array_equal(codes[1, r] >> 4, expected_codes(np.full(1024, -0.05)))
    assert api.capture.trigger_times == times
    assert len(lab.asked) == 2 * len(times)  # one request per record and channel
    for _port, t0, n, rate, now in lab.asked:  # computed only once the lab clock had passed them
        assert now >= t0 + n / rate - 1e-15
    assert clock.now() == pytest.approx((math.ceil(3e-3 * RATE) + 16 + 1024) / RATE, abs=1e-15)


def test_records_appear_only_after_the_trigger_pulses(alazar, api, lab, clock):
    configure(alazar)
    times = [0.2e-3, 0.4e-3, 0.6e-3, 0.8e-3]
    pulses(lab, times)
    seen = []

    def on_buffer(i):
        seen.append((i, clock.now(), len(api.capture.starts)))

    ctrl = RawController(api, on_buffer)
    acquire(alazar, ctrl, channels="A")
    assert ctrl.at_pre_acquire == {"records": 0, "busy": 1, "t": 0.0}
    # buffer 0 completes when record 1 (trigger 0.4 ms) ends, buffer 1 when record 3 ends
    assert seen == [(0, pytest.approx(0.4e-3 + 1024 / RATE), 2),
                    (1, pytest.approx(0.8e-3 + 1024 / RATE), 4)]
    assert api.capture.busy() == 0


def test_no_trigger_gives_the_api_wait_timeout(alazar, api, clock):
    configure(alazar)
    with pytest.raises(RuntimeError, match=r"error 579: ApiWaitTimeout.*AlazarWaitAsyncBuffer"):
        acquire(alazar, RawController(), timeout=250)
    assert clock.now() == pytest.approx(0.25)  # gave up after the timeout, in lab time
    assert api.capture.busy() == 0 and api.capture.pending == 0  # the driver aborted


def test_trigger_level_and_slope(alazar, api, lab):
    configure(alazar, level=255)  # +2.5 V: above the 1 V pulse, never fires
    pulses(lab, [1e-4])
    with pytest.raises(RuntimeError, match="ApiWaitTimeout"):
        acquire(alazar, RawController(), rpb=1, buffers=1, timeout=10)
    configure(alazar, level=160, slope="TRIG_SLOPE_NEGATIVE")  # +0.63 V, falling edge
    pulses(lab, [0.1])
    acquire(alazar, RawController(), rpb=1, buffers=1)
    assert api.capture.starts == [math.ceil((0.1 + 100e-9) * RATE - 1e-6)]


def test_quantisation_and_clipping(lab, alazar):
    lab.signal = lambda port, t: np.interp(t % 1e-3, [0, 1024e-9], [-0.6, 0.6])
    configure(alazar)
    pulses(lab, [1e-3])
    words = acquire(alazar, RawController(), rpb=1, buffers=1, channels="B")
    assert words.dtype == np.uint16 and not np.any(words & 0xF)  # 12 bits in the upper bits
    v_in = np.interp(np.arange(1024) * 1e-9, [0, 1024e-9], [-0.6, 0.6])
    v = volts(words[0])
    inside = np.abs(v_in) < 0.4 - 1e-3
    assert np.all(np.abs(v[inside] - v_in[inside]) <= 0.4 / 2047.5 / 2 * 1.001)  # half a code
    np.testing.assert_array_equal(v[v_in <= -0.4], -0.4)
    np.testing.assert_array_equal(v[v_in >= 0.4], 0.4)
    assert (words[0] >> 4).min() == 0 and (words[0] >> 4).max() == 4095


def test_averaging_reduces_white_noise_as_one_over_sqrt_n(clock):
    lab = SignalLab(lambda port, t: np.full(t.shape, 0.1), seed=4, clock=clock,
                    noise=NoiseParams.none(), triggers=TriggerLines(LINES))
    api = ATS9360API(lab, input_noise=2e-3)
    alazar = AlazarTechATS9360(f"ats_{uuid.uuid4().hex[:8]}", api=api)
    try:
        configure(alazar)
        spread = {}
        for n in (1, 16, 64):
            start = clock.now() + 1e-3
            pulses(lab, start + 10e-6 * np.arange(n))
            words = acquire(alazar, RawController(), spr=2048, rpb=n, buffers=1, channels="A")
            mean = volts(records(words, 1, n, 2048)[0]).mean(axis=0)
            spread[n] = mean.std()
        assert spread[1] == pytest.approx(2e-3, rel=0.1)
        for n in (16, 64):
            assert spread[n] * math.sqrt(n) == pytest.approx(spread[1], rel=0.15)
    finally:
        alazar.close()


def _fallback_records(seed):
    clock = VirtualClock()
    lab = VirtualLab(seed=seed, clock=clock, triggers=TriggerLines(LINES))
    alazar = AlazarTechATS9360(f"ats_{uuid.uuid4().hex[:8]}", api=ATS9360API(lab))
    try:
        configure(alazar)
        pulses(lab, [1e-3, 2e-3])
        return acquire(alazar, RawController(), rpb=1)
    finally:
        alazar.close()


def test_same_seed_same_records():
    a, b, c = _fallback_records(7), _fallback_records(7), _fallback_records(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fallback_sees_the_sensor_current(clock):
    lab = VirtualLab(seed=2, clock=clock, noise=NoiseParams.none(), triggers=TriggerLines(LINES))
    api = ATS9360API(lab, input_noise=0.0)
    alazar = AlazarTechATS9360(f"ats_{uuid.uuid4().hex[:8]}", api=api)
    try:
        configure(alazar)
        pulses(lab, [1e-3])
        words = acquire(alazar, RawController(), rpb=1, buffers=1)
        a, b = volts(records(words, 2, 1, 1024)[:, 0])
        expected = FALLBACK_GAIN * lab.sensor_current(1e-6, t=1e-3)
        assert 0.005 < abs(expected) < 0.4
        assert np.all(np.abs(a - expected) <= 0.4 / 2047.5 / 2 * 1.001)
        assert np.all(np.abs(b) <= 0.4 / 2047.5 / 2 * 1.001)  # channel B is open
    finally:
        alazar.close()


def test_trigger_timeout_ticks_make_the_board_trigger_itself(alazar, api):
    configure(alazar, timeout_ticks=10)  # 100 µs
    acquire(alazar, RawController(), rpb=1, buffers=2)
    first = 100_000  # ticks: 100 µs after arming at t = 0 ...
    assert api.capture.starts == [first, first + 1024 + 100_000]  # ... and after the record


def test_triggers_during_a_record_are_ignored(alazar, api, lab):
    configure(alazar)
    pulses(lab, [1e-3, 1e-3 + 500e-9, 1e-3 + 2e-6])  # the second falls inside the first record
    acquire(alazar, RawController(), rpb=1, buffers=2)
    assert api.capture.trigger_times == [1e-3, 1e-3 + 2e-6]
    assert api.capture.missed_triggers == 1


def test_buffers_are_recycled(alazar, api, lab):
    configure(alazar)
    times = 1e-3 + 5e-6 * np.arange(12)
    pulses(lab, times)
    words = acquire(alazar, RawController(), rpb=2, buffers=6, allocated=2, channels="A")
    assert words.shape == (6, 2048)
    assert api.capture.buffers_done == 6 and api.calls.count("AlazarPostAsyncBuffer") == 2 + 6


def test_triggered_streaming(alazar, api, lab):
    configure(alazar)
    pulses(lab, [1e-3, 1.2e-3])
    words = acquire(alazar, RawController(), mode="TS", spr=4096, rpb=1, buffers=4, channels="A")
    stream = np.concatenate(list(words))  # one trigger, four back-to-back buffers of 1024
    tk = np.concatenate([(math.ceil(1e-3 * RATE) + 1024 * b) / RATE + np.arange(1024) / RATE
                         for b in range(4)])
    np.testing.assert_array_equal(stream >> 4, expected_codes(0.3 * np.cos(2e7 * np.pi * tk)))
    assert api.capture.trigger_times == [1e-3]


def test_refused_settings_raise_as_the_api_does(alazar):
    configure(alazar)
    alazar.coupling1("AC")  # the ATS9360 is DC coupled only
    with pytest.raises(RuntimeError, match=r"error 513: ApiFailed from function AlazarInputControl"):
        alazar.sync_settings_to_card()


def test_default_cabling_reaches_the_mock_lab_board():
    from dotstack.mocks.lab import MockLab

    with MockLab.create(seed=3) as mock:
        api = mock.ats_api()
        assert mock.ats_api() is api
        alazar = AlazarTechATS9360(f"ats_{uuid.uuid4().hex[:8]}", api=api)
        try:
            configure(alazar)
            pulses(mock.lab, [1e-3], port="awg.marker1")  # the AWG's marker 1 -> ats.trigA
            words = acquire(alazar, RawController(), rpb=1, buffers=1, channels="A")
            assert words.shape == (1, 1024) and api.capture.trigger_times == [1e-3]
        finally:
            alazar.close()


def test_realtime_clock_records_wall_clock_triggers():
    from dotstack.mocks.physics import RealtimeClock

    clock = RealtimeClock()
    lab = SignalLab(sine(), seed=1, clock=clock, noise=NoiseParams.none(),
                    triggers=TriggerLines(LINES))
    api = ATS9360API(lab, input_noise=0.0)
    alazar = AlazarTechATS9360(f"ats_{uuid.uuid4().hex[:8]}", api=api)
    try:
        configure(alazar)
        t = clock.now() + 0.02
        pulses(lab, [t])  # the clock's dispatcher delivers it at its wall-clock time
        words = acquire(alazar, RawController(), rpb=1, buffers=1, channels="A", timeout=5000)
        assert api.capture.trigger_times == [t] and clock.now() >= t
        first = math.ceil(t * RATE - 1e-6)
        tk = first / RATE + np.arange(1024) / RATE
        np.testing.assert_array_equal(words[0] >> 4, expected_codes(0.3 * np.cos(2e7 * np.pi * tk)))
    finally:
        alazar.close()
        clock.close()

"""The 34465A mock model in-process: defaults, timing model, memory, formats and SCPI errors."""

from __future__ import annotations

import math
import re

import pytest

from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.physics import ManualClock, NoiseParams, VirtualLab

NR3 = re.compile(r"^[+-]\d\.\d{8}E[+-]\d{2}$")


def ask(model: Keysight34465AModel, message: str) -> str:
    reply = model.handle(message.encode())
    assert reply is not None, f"no reply to {message!r}: {model.pop_error()}"
    return reply.decode()


def errors(model: Keysight34465AModel) -> list[int]:
    codes = []
    while (code := model.pop_error()[0]) != 0:
        codes.append(code)
    return codes


def floats(reply: str) -> list[float]:
    return [float(x) for x in reply.split(",")]


def test_reset_defaults(model: Keysight34465AModel) -> None:
    model.handle(b"SENS:VOLT:NPLC 1;:TRIG:SOUR BUS;:SAMP:COUN 7;:DISP:TEXT 'x'")
    model.handle(b"*RST")
    replies = ask(model, "FUNC?;:VOLT:NPLC?;RANG?;:VOLT:RANG:AUTO?;:VOLT:ZERO:AUTO?;"
                         ":VOLT:APER:ENAB?;:TRIG:SOUR?;COUN?;:TRIG:DEL:AUTO?;:TRIG:SLOP?;"
                         ":SAMP:COUN?;SOUR?;:DISP?;:DISP:TEXT?")
    assert replies.split(";") == [
        '"VOLT"', "+1.00000000E+01", "+1.00000000E+01", "1", "1", "0",
        "IMM", "+1.00000000E+00", "1", "NEG", "+1", "IMM", "1", '""',
    ]  # fmt: skip
    assert errors(model) == []


def test_identification_and_options(model: Keysight34465AModel) -> None:
    vendor, name, _serial, firmware = ask(model, "*IDN?").split(",")
    assert (vendor, name) == ("Keysight Technologies", "34465A")
    assert firmware.startswith("A.03")
    assert ask(model, "*OPT?") == "DIG,MEM"
    assert ask(model, "SYST:LIC:CAT?") == '"DIG","MEM"'
    assert ask(model, "SYST:LFR?") == "+50"
    bare = Keysight34465AModel(VirtualLab(), options=(), line_frequency=60)
    assert ask(bare, "*OPT?") == "0"
    assert ask(bare, "SYST:LFR?") == "+60"


def test_reading_is_amplified_sensor_current(model: Keysight34465AModel, lab: VirtualLab) -> None:
    reading = float(ask(model, "READ?"))
    expected = 1e8 * lab.sensor_current(0.2, lab.time())
    assert reading == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert NR3.match(ask(model, "FETC?"))


def test_samples_are_taken_at_their_lab_times(clock: ManualClock) -> None:
    """While S ramps, each reading is the lab's current averaged over that sample's window."""
    lab = VirtualLab(seed=2, noise=NoiseParams.none(), clock=clock)
    model = Keysight34465AModel(lab, own_noise=0.0)
    model.handle(b"SENS:VOLT:NPLC 1;ZERO:AUTO OFF;:TRIG:DEL 0.01;COUN 2;:SAMP:COUN 3")
    clock.set(5.0)
    lab.set_output("qdac", 6, 0.004, slew=0.01)  # S ramps 0 -> 4 mV over 0.4 s
    readings = floats(ask(model, "READ?"))
    T = 1 / 50  # NPLC 1 at 50 Hz; back-to-back samples, auto-zero off
    times = [5.0 + 0.01 + k * T for k in range(3)]  # trigger 1
    times += [times[-1] + T + 0.01 + k * T for k in range(3)]  # trigger 2 follows at once
    expected = [1e8 * lab.sensor_current(T, t) for t in times]
    assert readings == pytest.approx(expected, rel=1e-7)
    assert len(set(readings)) == 6  # the ramp shows in every sample
    assert model.busy_until == pytest.approx(times[-1] + T)


def test_back_to_back_reads_do_not_overlap(model: Keysight34465AModel) -> None:
    model.handle(b"SENS:VOLT:NPLC 10;ZERO:AUTO ON")
    ask(model, "READ?")
    first_end = model.busy_until
    ask(model, "READ?")  # the lab clock moved to the end of the first: the second follows it
    assert model.busy_until == pytest.approx(first_end + 1.5e-3 + 0.4)
    assert model.lab.time() == pytest.approx(model.busy_until)


def test_timed_sampling_uses_the_timer(model: Keysight34465AModel, lab: VirtualLab) -> None:
    model.handle(b"SENS:VOLT:NPLC 0.02;:SAMP:SOUR TIM;TIM 0.05;COUN 4;:TRIG:DEL 0")
    assert ask(model, "SAMP:TIM?") == "+5.00000000E-02"
    ask(model, "READ?")  # the lab clock advances to the end of the acquisition
    assert model.busy_until == pytest.approx(lab.time()) and lab.time() == pytest.approx(4 * 0.05)
    assert float(ask(model, "SAMP:TIM? MIN")) == pytest.approx(2 * 0.02 / 50)
    model.handle(b"SAMP:TIM 1e-5")  # below the integration time
    assert errors(model) == [-222]


def test_bus_and_external_triggers(model: Keysight34465AModel) -> None:
    model.handle(b"TRIG:SOUR BUS;COUN 2;:SAMP:COUN 2")
    model.handle(b"*TRG")
    assert errors(model) == [-211]  # not initiated
    model.handle(b"INIT")
    model.handle(b"INIT")
    assert errors(model) == [-213]
    model.handle(b"*TRG")
    assert model.handle(b"FETC?") is None  # one trigger still missing, and none will come
    assert errors(model) == [-214]
    assert ask(model, "DATA:POIN?") == "+2"  # the deadlock aborted it: the first set stays
    model.handle(b"INIT;*TRG;*TRG")  # the second comes while the meter measures
    assert errors(model) == [-211]
    model.lab.clock.advance(1.0)
    model.handle(b"*TRG")
    assert len(floats(ask(model, "FETC?"))) == 4 and model.missed_triggers == 1
    assert model.handle(b"READ?") is None  # READ? cannot be triggered by the bus
    assert errors(model) == [-214]
    model.handle(b"TRIG:SOUR EXT;COUN 1;:INIT")  # the deadlock aborted the acquisition
    assert ask(model, "DATA:POIN?") == "+0"
    assert model.trigger_external() is True
    assert model.trigger_external() is False  # idle again
    assert len(floats(ask(model, "FETC?"))) == 2


def test_abort_and_stale_data(model: Keysight34465AModel) -> None:
    assert model.handle(b"FETC?") is None
    assert errors(model) == [-230]
    model.handle(b"TRIG:SOUR BUS;:INIT;:ABOR")
    assert model.handle(b"FETC?") is None
    assert errors(model) == [-230]


def test_reading_memory(model: Keysight34465AModel) -> None:
    model.handle(b"SAMP:COUN 5;:SENS:VOLT:NPLC 0.02;:INIT")
    values = floats(ask(model, "FETC?"))
    assert ask(model, "DATA:POIN?") == "+5"
    assert floats(ask(model, "DATA:LAST?").removesuffix(" VDC")) == values[-1:]
    block = ask(model, "R? 2")
    assert block.startswith("#2")
    payload = block[2 + int(block[1]) :]
    assert len(payload) == int(block[2 : 2 + int(block[1])])
    assert floats(payload) == values[:2]
    assert floats(ask(model, "DATA:REM? 2")) == values[2:4]
    assert model.handle(b"DATA:REM? 2") is None  # only one left
    assert errors(model) == [-222]
    assert floats(ask(model, "DATA:POIN?")) == [1]


def test_range_autorange_and_overload(lab: VirtualLab) -> None:
    model = Keysight34465AModel(lab, gain=1e12)  # ~10 V behind the amplifier
    value = float(ask(model, "READ?"))
    assert 0.1 < abs(value) < 1200
    auto_range = float(ask(model, "VOLT:RANG?"))
    assert abs(value) <= 1.2 * auto_range and (auto_range == 0.1 or abs(value) > 0.12 * auto_range)
    model.handle(b"VOLT:RANG 0.1")
    assert ask(model, "VOLT:RANG:AUTO?") == "0"
    assert ask(model, "READ?") == ("+" if value > 0 else "-") + "9.90000000E+37"
    model.handle(b"VOLT:RANG 5")  # rounds up to the 10 V range
    assert ask(model, "VOLT:RANG?") == "+1.00000000E+01"
    model.handle(b"VOLT:RANG 2000")
    assert errors(model) == [-222]


def test_nplc_resolution_and_aperture(model: Keysight34465AModel) -> None:
    model.handle(b"VOLT:RANG 1;:VOLT:NPLC 0.5")  # rounds up to 1 PLC
    assert ask(model, "VOLT:NPLC?") == "+1.00000000E+00"
    assert ask(model, "VOLT:RES?") == "+3.00000000E-07"
    model.handle(b"VOLT:DC:RES 3.0e-06")
    assert ask(model, "VOLT:NPLC?") == "+2.00000000E-02"
    model.handle(b"VOLT:APER 0.0100001")
    assert ask(model, "VOLT:APER?;APER:ENAB?") == "+1.00000000E-02;1"
    assert model.integration_time() == pytest.approx(0.01)
    model.handle(b"VOLT:NPLC MAX")
    assert ask(model, "VOLT:NPLC?;APER:ENAB?") == "+1.00000000E+02;0"
    assert ask(model, "VOLT:NPLC? MIN") == "+1.00000000E-03"


def test_other_functions_and_configure(model: Keysight34465AModel) -> None:
    model.handle(b'FUNC "CURR"')
    assert abs(float(ask(model, "READ?"))) < 1e-6  # current input open
    assert ask(model, "CURR:NPLC?") == "+1.00000000E+01"
    model.handle(b'FUNC "RES"')
    assert ask(model, "READ?") == "+9.90000000E+37"  # open input
    model.handle(b'FUNC "FREQ"')
    assert errors(model) == [-224]
    model.handle(b"CONF:VOLT:DC 1,3e-6")
    assert ask(model, "CONF?") == '"VOLT +1.00000000E+00,+3.00000000E-06"'
    assert NR3.match(ask(model, "MEAS:VOLT?"))
    assert errors(model) == []


def test_compound_relative_headers(model: Keysight34465AModel) -> None:
    model.handle(b"SENS:CURR:NPLC 1;RANG 0.01;:SENS:VOLT:AC:RANG 100")
    assert ask(model, "CURR:NPLC?;RANG?;:VOLT:AC:RANG?") == (
        "+1.00000000E+00;+1.00000000E-02;+1.00000000E+02"
    )
    assert ask(model, "VOLT:NPLC?") == "+1.00000000E+01"  # untouched


def test_display(model: Keysight34465AModel) -> None:
    model.handle(b'DISP:TEXT "Hello dot"')
    assert ask(model, "DISP:TEXT?") == '"Hello dot"'
    model.handle(b"DISP:TEXT:CLE;:DISP OFF")
    assert ask(model, "DISP:TEXT?;:DISP?") == '"";0'
    model.handle(b'DISP:TEXT "' + b"x" * 41 + b'"')
    assert errors(model) == [-223]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("VOLT:FOO 1", -113),
        ("SENS:VOLT:NPLC 1000", -222),
        ("SENS:VOLT:NPLC 1.2.3", -120),
        ("SENS:VOLT:NPLC abc", -104),
        ("TRIG:SOUR NOWHERE", -224),
        ("TRIG:COUN 0", -222),
        ("SAMP:COUN", -109),
        ("INIT 5", -108),
        ("DISP:TEXT unquoted", -151),
    ],
)
def test_bad_input_gives_scpi_errors(model: Keysight34465AModel, message: str, code: int) -> None:
    assert model.handle(message.encode()) is None
    assert errors(model) == [code]
    assert ask(model, "*IDN?").startswith("Keysight")


def test_settings_the_mock_cannot_run(model: Keysight34465AModel) -> None:
    model.handle(b"TRIG:COUN INF")
    assert ask(model, "TRIG:COUN?") == "+9.90000000E+37"
    model.handle(b"INIT")
    model.handle(b"TRIG:COUN 1;:SAMP:COUN 3;COUN:PRET 3;:INIT")
    model.handle(b"SAMP:COUN 60000;:INIT")  # fits the 2 M MEM option
    model.handle(b"TRIG:COUN 100;:INIT")  # 6 M readings do not
    assert errors(model) == [-221, -221, -221]


def test_pretrigger_samples_precede_the_trigger(model: Keysight34465AModel) -> None:
    model.handle(b"SENS:VOLT:NPLC 1;ZERO:AUTO OFF;:TRIG:SOUR BUS;DEL 0;:SAMP:COUN 4;COUN:PRET 2")
    model.handle(b"INIT;*TRG")
    assert len(floats(ask(model, "FETC?"))) == 4
    assert model.busy_until == pytest.approx(model.lab.time()) == pytest.approx(2 * 0.02)


def test_own_noise_and_standalone_model() -> None:
    model = Keysight34465AModel(seed=3)  # its own lab
    assert math.isfinite(float(ask(model, "READ?")))
    with pytest.raises(ValueError, match="gain"):
        Keysight34465AModel(gain=0)


def test_ac_readings_are_rms_never_negative() -> None:
    model = Keysight34465AModel(seed=3)  # the meter's own noise on an open input
    for query in ("MEAS:VOLT:AC?", "MEAS:CURR:AC?"):
        values = [float(ask(model, query)) for _ in range(20)]
        assert min(values) >= 0.0 and max(values) > 0.0

"""Call accessors and value parsing: numbers, suffixes, MIN/MAX/DEF, choices, booleans, lists."""

from __future__ import annotations

import pytest
from scpi_toy import ToyPSU, ask, errors

from dotstack.mocks.scpi import Call, ScpiError, format_block, format_float
from dotstack.mocks.scpi.parser import split_units


def _call(*args: str | bytes) -> Call:
    return Call("TEST", (), args)


def _code(excinfo: pytest.ExceptionInfo[ScpiError]) -> int:
    return excinfo.value.code


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0), ("-2.5", -2.5), ("+.5", 0.5), ("1e-3", 1e-3), ("1.5E+2", 150.0),
        ("100mV", 0.1), ("100 MV", 0.1), ("2 V", 2.0), ("3 kHz", 3000.0), ("1MHZ", 1e6),
        ("5 ms", 5e-3), ("20us", 20e-6), ("7 nA", 7e-9), ("1MA", 1e-3), ("#H1F", 31.0),
        ("#B101", 5.0), ("#Q17", 15.0), (" 4 ", 4.0),
    ],
)  # fmt: skip
def test_float_parsing(text: str, value: float) -> None:
    assert _call(text).float(0) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "code"),
    [("abc", -104), ("1.2.3", -120), ("--1", -120), ("1 furlong", -131), ("", -109), ("1e", -131)],
)
def test_float_errors(text: str, code: int) -> None:
    with pytest.raises(ScpiError) as excinfo:
        _call(text).float(0)
    assert _code(excinfo) == code


def test_float_unit_mismatch_is_invalid_suffix() -> None:
    assert _call("2 mV").float(0, unit="V") == pytest.approx(2e-3)
    with pytest.raises(ScpiError) as excinfo:
        _call("2 mA").float(0, unit="V")
    assert _code(excinfo) == -131


def test_min_max_def_and_range() -> None:
    assert _call("MIN").float(0, min=-1.0, max=1.0) == -1.0
    assert _call("maximum").float(0, min=-1.0, max=1.0) == 1.0
    assert _call("DEF").float(0, default=0.25) == 0.25
    for text, kwargs in [("MAX", {}), ("DEF", {"min": 0.0})]:
        with pytest.raises(ScpiError) as excinfo:
            _call(text).float(0, **kwargs)
        assert _code(excinfo) == -104
    with pytest.raises(ScpiError) as excinfo:
        _call("1.5").float(0, min=-1.0, max=1.0)
    assert _code(excinfo) == -222
    assert "1.5" in str(excinfo.value)


def test_int() -> None:
    assert _call("7").int(0) == 7
    assert _call("2.6").int(0) == 3
    assert _call("#HFF").int(0, min=0, max=255) == 255
    assert _call("MAX").int(0, min=0, max=255) == 255
    with pytest.raises(ScpiError) as excinfo:
        _call("256").int(0, min=0, max=255)
    assert _code(excinfo) == -222


def test_choice_bool_string_block_channels() -> None:
    call = _call("swe", "ON", "'name'", b"\x00\n", "(@2:4)", "0")
    assert call.choice(0, ("FIXed", "LIST", "SWEep")) == "SWEep"
    assert call.bool(1) is True and call.bool(5) is False
    assert call.string(2) == "name"
    assert call.block(3) == b"\x00\n"
    assert call.channels(4) == [2, 3, 4]
    assert call.nargs == 6
    for method, arg, code in [
        (lambda: call.choice(1, ("FIXed",)), None, -224),
        (lambda: call.block(0), None, -104),
        (lambda: call.float(3), None, -104),
        (lambda: call.string(1), None, -151),
        (lambda: call.channels(0), None, -104),
        (lambda: call.bool(2), None, -224),
        (lambda: call.float(9), None, -109),
        (lambda: call.require(7), None, -109),
        (lambda: call.allow(2), None, -108),
    ]:
        del arg
        with pytest.raises(ScpiError) as excinfo:
            method()
        assert _code(excinfo) == code


def test_suffix_range() -> None:
    call = Call("SOUR9:VOLT", (9,), ())
    assert call.suffix(0, max=24) == 9
    with pytest.raises(ScpiError) as excinfo:
        call.suffix(0, max=8)
    assert _code(excinfo) == -114


def test_format_float_and_block() -> None:
    assert format_float(0.1) == "+1.00000000E-01"
    assert format_float(-2.0) == "-2.00000000E+00"
    assert format_float(float("nan")) == "+9.91000000E+37"
    assert format_float(float("inf")) == "+9.90000000E+37"
    assert format_block(b"") == b"#10"
    assert format_block(b"hello") == b"#15hello"
    assert format_block(b"x" * 1234) == b"#41234" + b"x" * 1234


def test_error_text_format() -> None:
    err = ScpiError(-222, "Data out of range", "11 V")
    assert str(err) == '-222,"Data out of range;11 V"'
    assert ScpiError(-113).message == "Undefined header"
    assert ScpiError.out_of_range().code == -222
    assert ScpiError.queue_overflow().code == -350
    assert ScpiError.query_unterminated().code == -420


def test_split_units_paths() -> None:
    units = list(split_units(b"A 1,2 ; B;C? 'x;y',(@1,2)\r"))
    assert units == [("A", ("1", "2")), ("B", ()), ("C?", ("'x;y'", "(@1,2)"))]
    assert list(split_units(b"")) == []
    assert list(split_units(b"A;")) == [("A", ())]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("VOLT abc", -104), ("VOLT 1.2.3", -120), ("VOLT 11", -222), ("VOLT -11", -222),
        ("CURR 2 A", -222), ("VOLT 1 A", -131), ("MODE BOGUS", -224), ("VOLT", -109),
        ("DISP:TEXT 'unterminated", -151), ("ROUT:CLOS (@1,2", -102), ("VOLT 1;;VOLT 2", -102),
        ("NOPE", -113), ("OUTP1 MAYBE", -224),
    ],
)  # fmt: skip
def test_bad_input_gives_the_scpi_error(psu: ToyPSU, message: str, code: int) -> None:
    assert ask(psu, message) is None
    assert errors(psu) == [code]


def test_range_error_leaves_value(psu: ToyPSU) -> None:
    ask(psu, "VOLT 2;VOLT 20")
    assert psu.volts[1] == 2.0
    assert ask(psu, "SYST:ERR?") == '-222,"Data out of range;VOLT: 20 not in [-10.0, 10.0]"'

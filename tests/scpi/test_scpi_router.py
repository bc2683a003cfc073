"""Router: mnemonic forms, case, optional nodes, suffixes, ';' path rules, parameters, blocks."""

from __future__ import annotations

import pytest
from scpi_toy import ToyPSU, ask, errors

from dotstack.mocks.scpi import Call, ScpiModel, command, format_block
from dotstack.mocks.scpi.router import Router, compile_pattern


@pytest.mark.parametrize(
    "header",
    [
        "SOURce1:VOLTage:LEVel:IMMediate:AMPLitude",
        "SOUR1:VOLT:LEV:IMM:AMPL",
        "sour1:volt",
        "SoUrCe:VoLt",
        "VOLT",
        ":VOLTAGE:LEVEL",
        "VOLT:IMM",
        "source:volt:lev:ampl",
    ],
)
def test_long_short_case_and_optional_nodes(psu: ToyPSU, header: str) -> None:
    assert ask(psu, f"{header} 1.5") is None
    assert errors(psu) == []
    assert psu.volts[1] == 1.5


@pytest.mark.parametrize(
    "header", ["SOURC1:VOLT", "SOU:VOLT", "VOLTA", "VOLT:LEVE", "SOUR:VOLT:FOO"]
)
def test_partial_mnemonics_are_undefined(psu: ToyPSU, header: str) -> None:
    assert ask(psu, f"{header} 1") is None
    assert errors(psu) == [-113]
    assert psu.volts == {1: 0.0, 2: 0.0}


def test_numeric_suffix_default_and_value(psu: ToyPSU) -> None:
    ask(psu, "SOUR2:VOLT 2;:SOURCE1:VOLT 1")
    assert psu.volts == {1: 1.0, 2: 2.0}
    assert ask(psu, "SOUR2:VOLT?") == "+2.00000000E+00"
    assert ask(psu, "VOLT?") == "+1.00000000E+00"
    ask(psu, "SOUR3:VOLT 1")
    assert errors(psu) == [-114]


def test_suffix_on_a_node_without_hash_is_undefined(psu: ToyPSU) -> None:
    ask(psu, "SOUR1:VOLT2 1")
    assert errors(psu) == [-113]


def test_query_and_set_forms_are_distinct(psu: ToyPSU) -> None:
    ask(psu, "*IDN")  # no set form
    ask(psu, "OUTP1?;OUTP1 ON;OUTP1?")
    assert errors(psu) == [-113]
    assert ask(psu, "OUTP1?;OUTP1:STAT?") == "1;1"


def test_semicolon_relative_paths(psu: ToyPSU) -> None:
    # after SOUR2:VOLT the path is SOUR2, so CURR means SOUR2:CURR
    ask(psu, "SOUR2:VOLT 3;CURR 0.5")
    assert psu.volts[2] == 3.0 and psu.amps == {1: 0.1, 2: 0.5}
    # a leading ':' goes back to the root: :CURR is SOUR1
    ask(psu, "SOUR2:VOLT 4;:CURR 0.25")
    assert psu.amps == {1: 0.25, 2: 0.5}
    # common commands do not change the path
    assert ask(psu, "SOUR2:VOLT 5;*OPC?;VOLT?") == "1;+5.00000000E+00"
    assert errors(psu) == []


def test_relative_path_uses_the_nodes_as_sent(psu: ToyPSU) -> None:
    # DISP:TEXT:DATA leaves path DISP:TEXT; the next TEXT? resolves as DISP:TEXT:TEXT? which
    # does not exist, so the lenient default retries from the root: also undefined -> -113
    ask(psu, "DISP:TEXT:DATA 'a';TEXT?")
    assert errors(psu) == [-113]
    assert ask(psu, "DISP:TEXT 'b';:DISP:TEXT?") == '"b"'


def test_lenient_and_strict_path_resolution(psu: ToyPSU) -> None:
    assert ask(psu, "SOUR2:VOLT 1;OUTP2 ON;OUTP2?") == "1"
    assert errors(psu) == []

    class Strict(ToyPSU):
        strict_paths = True

    strict = Strict()
    assert ask(strict, "SOUR2:VOLT 1;OUTP2 ON;OUTP2?") is None
    assert errors(strict) == [-113]


def test_new_message_starts_at_root(psu: ToyPSU) -> None:
    ask(psu, "SOUR2:VOLT 1")
    ask(psu, "CURR 0.3")
    assert psu.amps == {1: 0.3, 2: 0.1}


def test_several_queries_join_with_semicolon(psu: ToyPSU) -> None:
    assert ask(psu, "*IDN?;VOLT?;SOUR2:CURR?") == (
        "Toy Instruments,PSU-2,SN001,1.0;+0.00000000E+00;+1.00000000E-01"
    )


def test_channel_list(psu: ToyPSU) -> None:
    ask(psu, "ROUT:CLOS (@1,3:5,9:7)")
    assert psu.routed == [1, 3, 4, 5, 9, 8, 7]
    assert ask(psu, "ROUT:CLOS?") == "1,3,4,5,9,8,7"


def test_quoted_strings_keep_commas_and_semicolons(psu: ToyPSU) -> None:
    ask(psu, "DISP:TEXT \"a,b;c 'd'\";*CLS")
    assert psu.label == "a,b;c 'd'"
    ask(psu, "DISP:TEXT 'it''s'")
    assert psu.label == "it's"
    assert errors(psu) == []


def test_parameters_split_at_top_level_commas(psu: ToyPSU) -> None:
    ask(psu, "LIST:VOLT 1, 2.5 ,-3e-1,4 mV")
    call = psu.calls[-1]
    assert call.args == ("1", "2.5", "-3e-1", "4 mV")
    assert call.floats() == pytest.approx([1.0, 2.5, -0.3, 0.004])


@pytest.mark.parametrize("data", [b"", b"abc", b"a\nb;c,d\"e'f#1x", bytes(range(256)) * 5])
def test_definite_block_argument(psu: ToyPSU, data: bytes) -> None:
    message = b"TRAC:DATA 'w1'," + format_block(data) + b";:TRAC:DATA? 'w1'"
    assert psu.handle(message) == format_block(data)
    assert psu.memory["w1"] == data
    assert errors(psu) == []


def test_indefinite_block_runs_to_the_end(psu: ToyPSU) -> None:
    psu.handle(b"TRAC:DATA 'w2',#0ab;c,d\n\x00")
    assert psu.memory["w2"] == b"ab;c,d\n\x00"


@pytest.mark.parametrize(
    "bad", [b"TRAC:DATA 'w',#15abc", b"TRAC:DATA 'w',#2x1abc", b"TRAC:DATA 'w',#13abcd"]
)
def test_malformed_blocks(psu: ToyPSU, bad: bytes) -> None:
    psu.handle(bad)
    assert errors(psu) in ([-161], [-102])
    assert psu.memory == {}


def test_block_reply_and_header_as_sent(psu: ToyPSU) -> None:
    ask(psu, "sour2:Volt:lev 1")
    call = psu.calls[-1]
    assert call == Call("sour2:Volt:lev", (2,), ("1",))
    assert not call.is_query


def test_subclass_handler_overrides_base() -> None:
    class Custom(ToyPSU):
        idn = ("X", "Y", "Z", "W")

        @command("[SOURce#]:VOLTage?")
        def my_volt(self, call: Call) -> str:
            return f"custom{call.suffixes[0]}"

    m = Custom()
    assert ask(m, "SOUR2:VOLT?;*IDN?") == "custom2;X,Y,Z,W"
    assert ask(m, "SOUR2:VOLT:LEV?") == "+0.00000000E+00"  # the base pattern still serves this


def test_overriding_method_without_decorator_keeps_the_route() -> None:
    class Quiet(ToyPSU):
        def get_volt(self, call: Call) -> str:
            return "42"

    assert ask(Quiet(), "VOLT?") == "42"


@pytest.mark.parametrize("pattern", ["", "?", "[VOLT", "VOLT]", "VOLT:[]", "VO-LT", "*I D N?"])
def test_malformed_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(ValueError):
        compile_pattern(pattern)
    with pytest.raises(ValueError):
        command(pattern)


def test_router_prefixed_optional_node_notation() -> None:
    router = Router([("[SENSe:]VOLTage[:DC]:NPLCycles?", "nplc"), ("INITiate[:IMMediate]", "init")])
    assert router.match(":SENS:VOLT:DC:NPLC?") is not None
    assert router.match(":VOLT:NPLCYCLES?") is not None
    assert router.match(":VOLT:NPLC") is None
    assert router.match(":INIT") is not None
    route = router.match(":INIT:IMM")
    assert route is not None and route.method == "init"


def test_model_without_init_call_still_works() -> None:
    class Bare(ScpiModel):
        def __init__(self) -> None:  # forgets super().__init__()
            self.x = 1

    m = Bare()
    assert ask(m, "*IDN?") == "dotstack,ScpiModel,0,0.1"
    ask(m, "FOO")
    assert errors(m) == [-113]

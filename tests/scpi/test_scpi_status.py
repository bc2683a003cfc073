"""Error queue, *ESR/*STB status bits and the IEEE 488.2 common commands."""

from __future__ import annotations

from scpi_toy import ToyPSU, ask, errors


def test_empty_queue(psu: ToyPSU) -> None:
    assert ask(psu, "SYST:ERR?") == '0,"No error"'
    assert ask(psu, "SYSTem:ERRor:NEXT?") == '0,"No error"'
    assert ask(psu, "SYST:ERR:COUN?") == "0"
    assert ask(psu, "SYST:ERR:ALL?") == '0,"No error"'


def test_queue_is_fifo(psu: ToyPSU) -> None:
    ask(psu, "FOO")
    ask(psu, "VOLT 99")
    assert ask(psu, "SYST:ERR:COUNT?") == "2"
    assert ask(psu, "SYST:ERR?") == '-113,"Undefined header;FOO"'
    assert str(ask(psu, "syst:err?")).startswith('-222,"Data out of range')
    assert ask(psu, "SYST:ERR?") == '0,"No error"'


def test_error_all_drains(psu: ToyPSU) -> None:
    ask(psu, "FOO")
    ask(psu, "BAR")
    assert ask(psu, "SYST:ERR:ALL?") == '-113,"Undefined header;FOO",-113,"Undefined header;BAR"'
    assert ask(psu, "SYST:ERR:COUN?") == "0"


def test_overflow_replaces_last_with_350(psu: ToyPSU) -> None:
    for k in range(25):
        ask(psu, f"NOPE{k}")
    codes = errors(psu)
    assert len(codes) == psu.error_queue_size == 20
    assert codes[:19] == [-113] * 19
    assert codes[19] == -350


def test_push_error_api(psu: ToyPSU) -> None:
    psu.push_error(101, "Custom device error")
    assert psu.error_count == 1
    assert ask(psu, "SYST:ERR?") == '101,"Custom device error"'


def test_esr_bits_by_error_class(psu: ToyPSU) -> None:
    assert ask(psu, "*ESR?") == "0"
    ask(psu, "FOO")  # command error -> bit 5
    assert ask(psu, "*ESR?") == "32"
    assert ask(psu, "*ESR?") == "0"  # read clears
    ask(psu, "VOLT 99")  # execution error -> bit 4
    assert ask(psu, "*ESR?") == "16"
    psu.push_error(-350, "Queue overflow")  # device-specific -> bit 3
    assert ask(psu, "*ESR?") == "8"
    psu.push_error(-410, "Query INTERRUPTED")  # query error -> bit 2
    assert ask(psu, "*ESR?") == "4"
    ask(psu, "*OPC")  # operation complete -> bit 0
    assert ask(psu, "*ESR?") == "1"


def test_stb_error_queue_and_esb(psu: ToyPSU) -> None:
    assert ask(psu, "*STB?") == "0"
    ask(psu, "FOO")
    assert ask(psu, "*STB?") == "4"  # error queue not empty
    ask(psu, "*ESE 32")
    assert ask(psu, "*ESE?") == "32"
    assert ask(psu, "*STB?") == "36"  # + ESB: a command error is enabled in *ESE
    ask(psu, "*SRE 4")
    assert ask(psu, "*SRE?") == "4"
    assert ask(psu, "*STB?") == str(4 | 32 | 64)  # + MSS
    ask(psu, "*CLS")
    assert ask(psu, "*STB?") == "0"
    assert ask(psu, "SYST:ERR?") == '0,"No error"'


def test_ese_range(psu: ToyPSU) -> None:
    ask(psu, "*ESE 256")
    assert errors(psu) == [-222]


def test_common_commands(psu: ToyPSU) -> None:
    assert ask(psu, "*IDN?") == "Toy Instruments,PSU-2,SN001,1.0"
    assert ask(psu, "*idn?") == "Toy Instruments,PSU-2,SN001,1.0"
    assert ask(psu, "*OPC?") == "1"
    assert ask(psu, "*TST?") == "0"
    assert ask(psu, "*OPT?") == "0"
    assert ask(psu, "*WAI") is None
    assert ask(psu, "SYST:VERS?") == "1999.0"
    assert errors(psu) == []


def test_rst_calls_reset_but_keeps_errors(psu: ToyPSU) -> None:
    ask(psu, "VOLT 3;FOO")
    assert psu.volts[1] == 3.0
    before = psu.resets
    ask(psu, "*RST")
    assert psu.resets == before + 1
    assert psu.volts[1] == 0.0
    assert errors(psu) == [-113]


def test_command_error_discards_rest_of_message(psu: ToyPSU) -> None:
    # -113 is a command error: VOLT 5 and VOLT? after it are not executed
    assert ask(psu, "VOLT 1;FOO;VOLT 5;VOLT?") is None
    assert psu.volts[1] == 1.0
    assert errors(psu) == [-113]


def test_execution_error_lets_later_queries_reply(psu: ToyPSU) -> None:
    # -222 is an execution error: later units still run; the failed query adds no reply
    assert ask(psu, "VOLT 1;VOLT 50;VOLT?;SOUR3:VOLT?") == "+1.00000000E+00"
    assert errors(psu) == [-222, -114]
    assert ask(psu, "TRAC:DATA? 'none';*OPC?") == "1"
    assert errors(psu) == [-224]


def test_handler_exception_becomes_device_error(psu: ToyPSU) -> None:
    assert ask(psu, "DEB:CRAS;*OPC?") == "1"
    assert ask(psu, "SYST:ERR?") == '-300,"Device-specific error;ZeroDivisionError: boom"'


def test_common_command_with_parameter_not_allowed(psu: ToyPSU) -> None:
    ask(psu, "*IDN? 1")
    assert errors(psu) == [-108]


def test_error_detail_is_printable_ascii_and_short() -> None:
    from scpi_toy import ToyPSU

    psu = ToyPSU()
    psu.handle(b"\xff\xfe:BOGUS")
    psu.handle(b"X" * 300)
    first = psu.handle(b"SYST:ERR?")
    second = psu.handle(b"SYST:ERR?")
    assert first is not None and second is not None
    first.decode("ascii")
    assert first.startswith(b"-1")
    assert len(second) < 80

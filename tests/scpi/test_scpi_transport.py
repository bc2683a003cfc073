"""Driver-side transports against the toy model: in-process and pyvisa-py over the socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from qcodes.instrument import Instrument
from qcodes.validators import Numbers
from scpi_toy import ToyPSU, errors

from dotstack.drivers.scpi_base import InstrumentError, ScpiInstrument, parse_error
from dotstack.drivers.transport import (
    InProcessTransport,
    MessageHandler,
    Transport,
    TransportError,
    VisaTransport,
    resource_manager,
)
from dotstack.mocks.scpi import ScpiServer

BLOB = b"\n;#12ab\r\n" * 100 + bytes(range(256))


@pytest.fixture(params=["inprocess", "visa"])
def transport(
    request: pytest.FixtureRequest, psu: ToyPSU, server: ScpiServer
) -> Iterator[Transport]:
    t: Transport
    if request.param == "inprocess":
        t = InProcessTransport(psu, name="psu")
    else:
        t = VisaTransport(server.address, name="psu", timeout=2.0)
    yield t
    t.close()


def test_protocols(psu: ToyPSU, transport: Transport) -> None:
    assert isinstance(psu, MessageHandler)
    assert isinstance(transport, Transport)


def test_write_and_query(transport: Transport, psu: ToyPSU) -> None:
    assert transport.query("*IDN?") == "Toy Instruments,PSU-2,SN001,1.0"
    transport.write("SOUR2:VOLT 1.25")
    assert transport.query("*OPC?") == "1"  # a socket write is asynchronous: sync first
    assert psu.volts[2] == 1.25
    assert transport.query("SOUR2:VOLT?;CURR?") == "+1.25000000E+00;+1.00000000E-01"


def test_blocks_both_ways(transport: Transport, psu: ToyPSU) -> None:
    transport.write_block("TRAC:DATA 'w1',", BLOB)
    assert transport.query("*OPC?") == "1"
    assert psu.memory["w1"] == BLOB
    assert transport.query_block("TRAC:DATA? 'w1'") == BLOB
    transport.write_block("TRAC:DATA 'empty',", b"")
    assert transport.query_block("TRAC:DATA? 'empty'") == b""
    assert transport.query("SYST:ERR?") == '0,"No error"'  # the stream is still in step


def test_unanswered_query_names_instrument_and_command(transport: Transport) -> None:
    if isinstance(transport, VisaTransport):
        transport.resource.timeout = 200  # ms: keep the test short
    with pytest.raises(TransportError) as excinfo:
        transport.query("NOPE?")
    err = excinfo.value
    assert err.instrument == "psu" and err.command == "NOPE?"
    assert "psu" in str(err) and "NOPE?" in str(err)
    assert "timeout" in str(err)
    assert transport.query("SYST:ERR?") == '-113,"Undefined header;NOPE?"'


def test_block_query_on_a_text_reply_fails_clearly(transport: Transport) -> None:
    with pytest.raises(TransportError, match=r"psu.*not a .*block"):
        transport.query_block("*IDN?")


def test_closed_transport_refuses(transport: Transport) -> None:
    transport.close()
    transport.close()
    with pytest.raises(TransportError, match="closed"):
        transport.write("*CLS")


def test_visa_sets_and_keeps_tcp_nodelay(server: ScpiServer) -> None:
    t = VisaTransport(server.address, name="psu")
    try:
        assert t.socket is not None
        assert t.nodelay is True
        t.query("*IDN?")
        assert t.nodelay is True
    finally:
        t.close()
    off = VisaTransport(server.address, name="psu", nodelay=False)
    try:
        assert off.nodelay is False
    finally:
        off.close()


def test_dropped_connection_names_instrument_and_command(psu: ToyPSU) -> None:
    from dotstack.mocks.scpi import serve_tcp

    server = serve_tcp(psu)
    t = VisaTransport(server.address, name="psu-dropped", timeout=2.0)
    assert t.query("*OPC?") == "1"
    server.close()
    for command in ("VOLT?", "VOLT 1"):
        with pytest.raises(TransportError) as excinfo:
            t.query(command) if command.endswith("?") else t.write(command)
        assert excinfo.value.instrument == "psu-dropped"
        assert excinfo.value.command == command
        assert "connection closed" in str(excinfo.value)
    t.close()


def test_open_failure_names_instrument() -> None:
    with pytest.raises(TransportError, match="nowhere"):
        VisaTransport("TCPIP0::127.0.0.1::1::SOCKET", name="nowhere", timeout=0.5)


def test_resource_manager_is_shared() -> None:
    assert resource_manager("@py") is resource_manager("@py")


def test_inprocess_unread_reply_is_read_next(psu: ToyPSU) -> None:
    t = InProcessTransport(psu, name="psu")
    t.write("*IDN?")  # like a socket: the reply waits
    assert t.query("*OPC?") == "Toy Instruments,PSU-2,SN001,1.0"
    assert t.query("VOLT?") == "1"  # the *OPC? reply
    t.write("VOLT 1\nVOLT 2")  # two messages in one write, as on a socket
    assert psu.volts[1] == 2.0
    assert errors(psu) == []


# -- ScpiInstrument ---------------------------------------------------------------------


class ToyDriver(ScpiInstrument):
    def __init__(self, name: str, address: str | None = None, **kwargs: object) -> None:
        super().__init__(name, address, **kwargs)
        for ch in (1, 2):
            self.add_parameter(
                f"volt{ch}",
                unit="V",
                set_cmd=f"SOUR{ch}:VOLT {{}}",
                get_cmd=f"SOUR{ch}:VOLT?",
                get_parser=float,
                vals=Numbers(-10, 10),
            )
        self.add_parameter("mode", set_cmd="MODE {}", get_cmd="MODE?")


@pytest.fixture(params=["inprocess", "visa"])
def driver(request: pytest.FixtureRequest, psu: ToyPSU, server: ScpiServer) -> Iterator[ToyDriver]:
    if request.param == "inprocess":
        drv = ToyDriver("toy", transport=InProcessTransport(psu, name="toy"))
    else:
        drv = ToyDriver("toy", server.address, timeout=2.0)
    yield drv
    drv.close()


def test_driver_parameters(driver: ToyDriver, psu: ToyPSU) -> None:
    assert driver.get_idn() == {
        "vendor": "Toy Instruments", "model": "PSU-2", "serial": "SN001", "firmware": "1.0",
    }  # fmt: skip
    driver.volt1(0.5)
    driver.volt2(-1.5)
    assert driver.ask("*OPC?") == "1"
    assert psu.volts == {1: 0.5, 2: -1.5}
    assert driver.volt2() == -1.5
    driver.mode("SWE")
    assert driver.mode() == "SWE"
    driver.check_errors()


def test_driver_blocks(driver: ToyDriver) -> None:
    driver.write_block("TRAC:DATA 'x',", BLOB)
    assert driver.ask_block("TRAC:DATA? 'x'") == BLOB


def test_check_errors_lists_them(driver: ToyDriver) -> None:
    driver.write("NOPE")
    driver.write("VOLT 99")
    with pytest.raises(InstrumentError) as excinfo:
        driver.check_errors()
    assert [code for code, _ in excinfo.value.errors] == [-113, -222]
    assert "toy" in str(excinfo.value) and "Undefined header" in str(excinfo.value)
    driver.check_errors()  # drained


def test_driver_close_closes_transport(psu: ToyPSU) -> None:
    t = InProcessTransport(psu, name="toy2")
    drv = ToyDriver("toy2", transport=t)
    drv.close()
    with pytest.raises(TransportError):
        t.query("*IDN?")
    assert not Instrument.exist("toy2")


def test_exactly_one_of_address_or_transport(psu: ToyPSU) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ScpiInstrument("bad")
    with pytest.raises(ValueError, match="exactly one"):
        ScpiInstrument("bad", "TCPIP0::x::1::SOCKET", transport=InProcessTransport(psu, name="b"))


def test_parse_error() -> None:
    assert parse_error('-222,"Data out of range;11 V"') == (-222, "Data out of range;11 V")
    assert parse_error('+0,"No error"') == (0, "No error")
    with pytest.raises(ValueError):
        parse_error("garbage")

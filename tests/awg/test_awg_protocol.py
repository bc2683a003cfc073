"""The exact bytes our AWG5208 driver sends (pymeasure ``expected_protocol`` style).

A scripted transport plays the instrument: every write, block and query the driver makes must
be the next expected one, and queries get the scripted replies.  Waveform names are content
hashes: they are pinned by pattern and by where they are used (``{0}`` ... in the script).
"""

import re

import numpy as np
import pytest
from awgtest_helpers import LIM

from dotstack.drivers.awg5208 import AWG5208, UploadError
from dotstack.drivers.awg5208_plan import NAME
from dotstack.drivers.protocols import AWG
from dotstack.sequencer import AwgTarget, Hold, Marker, Param, compile_schedule, par, sweep

CONNECT = [
    ("q", "*IDN?", "TEKTRONIX,AWG5208,B020000,FV:6.6.0042.0"),
    ("q", "WLISt:SIZE?", "0"),
    ("q", "WLISt:LIST?", '""'),
    ("q", "SLISt:SIZE?", "0"),
    ("q", "AWGControl:RSTate?", "0"),
]
OK = [("q", "*OPC?", "1"), ("q", "SYSTem:ERRor?", '0,"No error"')]


class Scripted:
    """A `Transport` that checks each call against ``script`` and answers its queries."""

    def __init__(self, script):
        self.name = "scripted"
        self.script = list(script)
        self.names: list[str] = []  # waveform names in order of first use
        self.blocks: list[tuple[str, bytes]] = []

    def _expect(self, kind, text, data=None):
        assert self.script, f"unexpected {kind} {text!r}"
        want = self.script.pop(0)
        assert want[0] == kind, f"expected {want}, got {kind} {text!r}"
        found = re.findall(r'"(ds[0-9a-f]+_[0-9a-f]+)"', text)
        for name in found:
            assert NAME.fullmatch(name)
            if name not in self.names:
                self.names.append(name)
        assert text == want[1].format(*self.names), f"\n got  {text!r}\n want {want[1]!r}"
        if kind == "b":
            self.blocks.append((text, data))
        return want[2] if kind == "q" else None

    def write(self, command):
        self._expect("w", command)

    def query(self, command):
        return self._expect("q", command)

    def write_block(self, header, data):
        self._expect("b", header, data)

    def query_block(self, command):
        raise AssertionError(command)

    def close(self):
        pass


def small_program():
    """Two points, each waiting for a trigger: P1 steps, P2 holds, marker 1 on P2."""
    sched = par(P1=Hold(2.4e-6, Param("a")), P2=Hold(2.4e-6, 0.25), M=[Marker(1e-6, 1)])
    sw = sweep(sched, ("a", [0.1, -0.2]), trigger="point")
    target = AwgTarget("awg", LIM, ("P1", "P2"), markers=(("M", "P2", 0),))
    return compile_schedule(sw, [target]).programs["awg"]


def test_fills_awg_role():
    awg = AWG5208("proto_role", transport=Scripted(CONNECT))
    try:
        assert isinstance(awg, AWG)
        assert awg.limits.sample_rate == 2.5e9 and awg.limits.min_length == 2400
    finally:
        awg.close()


def test_upload_bytes_of_a_small_program():
    prog = small_program()
    seq = '"dotstack"'
    script = [
        ("w", "CLOCk:SRATe 1000000000.0"),
        ("w", 'WLISt:WAVeform:NEW "{0}",2400'),
        ("b", 'WLISt:WAVeform:DATA "{0}",'),
        ("w", 'WLISt:WAVeform:NEW "{1}",2400'),
        ("b", 'WLISt:WAVeform:DATA "{1}",'),
        ("w", 'WLISt:WAVeform:NEW "{2}",2400'),
        ("b", 'WLISt:WAVeform:DATA "{2}",'),
        ("b", 'WLISt:WAVeform:MARKer:DATA "{2}",'),
        *OK,
        ("w", f"SLISt:SEQuence:NEW {seq},2,2;"
              f':SLISt:SEQuence:STEP1:TASSet1:WAVeform {seq},"{{0}}";'
              f':SLISt:SEQuence:STEP1:TASSet2:WAVeform {seq},"{{2}}";'
              f":SLISt:SEQuence:STEP1:WINPut {seq},ATRigger;"
              f':SLISt:SEQuence:STEP2:TASSet1:WAVeform {seq},"{{1}}";'
              f':SLISt:SEQuence:STEP2:TASSet2:WAVeform {seq},"{{2}}";'
              f":SLISt:SEQuence:STEP2:WINPut {seq},ATRigger;"
              f":SLISt:SEQuence:STEP2:GOTO {seq},END"),
        *OK,
        ("w", f"SOURce1:CASSet:SEQuence {seq},1;:SOURce2:CASSet:SEQuence {seq},2;"
              ":SOURce1:VOLTage 1.5;:SOURce2:VOLTage 1.5;"
              ":SOURce1:DAC:RESolution 16;:SOURce2:DAC:RESolution 15;"
              ":OUTPut2:WVALue:MARKer1 LOW;:OUTPut1:STATe 1;:OUTPut2:STATe 1"),
        *OK,
    ]
    t = Scripted(CONNECT + script)
    awg = AWG5208("proto_small", transport=t)
    try:
        awg.prepare(prog)
        assert t.script == []
        # the data blocks: little-endian float32 of code / 32767 (1.5 Vpp around 0 V)
        p1a, p1b, p2, marks = (d for _, d in t.blocks)
        lsb = 1.5 / 65534
        for data, volts in ((p1a, 0.1), (p1b, -0.2), (p2, 0.25)):
            samples = np.frombuffer(data, "<f4")
            assert len(samples) == 2400
            np.testing.assert_array_equal(samples, np.float32(round(volts / lsb) / 32767))
        assert marks == bytes([1] * 1000 + [0] * 1400)
        # the same program again: nothing at all is sent
        t.script = []
        awg.prepare(prog)
        assert awg.last_upload.commands == 0
    finally:
        awg.close()


def test_run_control_bytes():
    script = [
        ("w", "AWGControl:RUN"), *OK, ("q", "AWGControl:RSTate?", "1"),
        ("q", "AWGControl:RSTate?", "1"),
        ("w", "TRIGger:IMMediate ATRigger"), ("q", "*OPC?", "1"),
        ("q", "AWGControl:RSTate?", "2"),
        ("w", "AWGControl:STOP"), *OK,
    ]
    t = Scripted(CONNECT + script)
    awg = AWG5208("proto_run", transport=t)
    try:
        awg.arm()
        assert awg.run_state() == "waiting"
        awg.trigger()
        assert awg.run_state() == "running"
        awg.stop()
        assert t.script == []
    finally:
        awg.close()


def test_instrument_error_names_the_command():
    script = [("w", "AWGControl:RUN"), ("q", "*OPC?", "1"),
              ("q", "SYSTem:ERRor?", '-200,"Execution error;no waveform assigned"'),
              ("q", "SYSTem:ERRor?", '0,"No error"')]
    awg = AWG5208("proto_err", transport=Scripted(CONNECT + script))
    try:
        with pytest.raises(UploadError, match=r"proto_err .*-200.* after AWGControl:RUN"):
            awg.arm()
    finally:
        awg.close()


def test_connect_reads_back_our_waveforms_and_sequence():
    held = "ds0123456789abcdef_01234567"
    script = [
        ("q", "*IDN?", "TEKTRONIX,AWG5208,B020000,FV:6.6.0042.0"),
        ("q", "WLISt:SIZE?", "2"),
        ("q", "WLISt:LIST?", f'"sine,{held}"'),
        ("q", "SLISt:SIZE?", "1"),
        ("q", "SLISt:NAME? 1", '"dotstack"'),
        ("q", "AWGControl:RSTate?", "2"),
    ]
    t = Scripted(script)
    awg = AWG5208("proto_sync", transport=t)
    try:
        assert list(awg._held) == [held] and awg._has_sequence and awg._armed
        assert t.script == []
    finally:
        awg.close()

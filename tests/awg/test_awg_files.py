""".wfmx/.seqx parsing and the mock's disk (MMEMory): chunked uploads, loads, errors."""

import itertools

import numpy as np
import pytest
from qcodes.instrument_drivers.tektronix.AWG70000A import TektronixAWG70000Base as Tek

from dotstack.ieee488 import format_block
from dotstack.mocks.instruments.awg5208.files import FileFormatError, parse_seqx, parse_wfmx

N = 2400


def test_wfmx_round_trip_with_markers():
    wave = np.linspace(-0.3, 0.3, N)
    m1, m2 = np.zeros(N), np.zeros(N)
    m1[10:20], m2[15:30] = 1, 1
    parsed = parse_wfmx(Tek.makeWFMXFile(np.stack([wave, m1, m2]), 0.6), "w")
    np.testing.assert_allclose(parsed.samples, wave / 0.3, atol=1e-6)
    assert parsed.markers[12] == 1 and parsed.markers[17] == 3 and parsed.markers[25] == 2
    plain = parse_wfmx(Tek.makeWFMXFile(wave, 1.0), "p")
    assert not plain.markers.any() and len(plain) == N


def test_seqx_holds_the_table():
    w = np.zeros(N)
    seqx = Tek.makeSEQXFile([1, 0, 2], [1, 0, 5], [0, 2, 0], [0, 1, 0], [0, 0, 1],
                            [[w, w, w], [w, w, w]], [0.5, 0.5], "my seq")
    out = parse_seqx(seqx, "x.seqx")
    (seq,) = out.sequences
    assert seq.name == "my_seq" and seq.tracks == 2 and out.main == "my_seq"
    assert [s.wait for s in seq.steps] == ["A", "OFF", "B"]
    assert [s.repeat for s in seq.steps] == [1, 0, 5]  # 0: infinite
    assert [s.jump_input for s in seq.steps] == ["OFF", "B", "OFF"]
    assert [s.jump_to for s in seq.steps] == ["NEXT", 1, "NEXT"]
    assert [s.goto for s in seq.steps] == ["NEXT", "NEXT", 1]
    assert seq.steps[2].assets == ["wfmch1pos3", "wfmch2pos3"]
    assert sorted(out.waveforms) == sorted(f"wfmch{c}pos{p}" for c in (1, 2) for p in (1, 2, 3))


def test_broken_files_are_refused():
    with pytest.raises(FileFormatError):
        parse_wfmx(b"not a waveform", "x")
    good = Tek.makeWFMXFile(np.zeros(N), 1.0)
    with pytest.raises(FileFormatError, match="announces"):
        parse_wfmx(good[:-10], "x")
    with pytest.raises(FileFormatError, match="zip"):
        parse_seqx(good, "x.seqx")


def test_chunked_upload_with_offsets_then_open(model):
    w = 0.5 * np.sin(np.linspace(0, 6, N))
    seqx = Tek.makeSEQXFile([0], [2], [0], [0], [0], [[w]], [1.0], "chunky")
    cut = [0, 1000, 5000, len(seqx)]
    model.handle(b'MMEM:CDIR "\\Users\\me"')
    for a, b in reversed(list(itertools.pairwise(cut))):  # chunks out of order, at offsets
        model.handle(b'MMEM:DATA "c.seqx",%d,' % a + format_block(seqx[a:b]))
    assert model.handle(b'MMEM:DATA:SIZE? "C:\\Users\\me\\c.seqx"') == str(len(seqx)).encode()
    assert model.handle(b'MMEM:DATA? "c.seqx",0,4') == format_block(seqx[:4])
    model.handle(b'MMEM:OPEN:SASS:SEQ "C:\\USERS\\ME\\C.SEQX"')  # paths ignore case
    assert list(model.sequences) == ["chunky"]
    assert model.handle(b"MMEM:OPEN:SASS:SEQ:MROP?") == b'"chunky"'
    np.testing.assert_allclose(model.waveforms["wfmch1pos1"].samples, w / 0.5, atol=1e-6)
    assert model.handle(b"SYST:ERR?") == b'0,"No error"'


def test_file_errors(model):
    model.handle(b'MMEM:OPEN "C:\\nowhere.wfmx"')
    assert model.handle(b"SYST:ERR:CODE?") == b"-256"
    model.handle(b'MMEM:DATA "bad.seqx",' + format_block(b"garbage"))
    model.handle(b'MMEM:OPEN:SASS:SEQ "bad.seqx"')
    assert model.handle(b"SYST:ERR?").startswith(b"-250")
    model.handle(b'MMEM:DEL "bad.seqx"')
    model.handle(b'MMEM:DEL "bad.seqx"')
    assert model.handle(b"SYST:ERR?").startswith(b"-256")

"""Our driver uploads only what changed: counted in the mock after virtual-gate changes."""

import uuid

import numpy as np
from awgtest_helpers import gates, raster

from dotstack.drivers.awg5208 import AWG5208
from dotstack.drivers.transport import InProcessTransport
from dotstack.sequencer import render

DATA = "WLISt:WAVeform:DATA"
TASSET = "SLISt:SEQuence:STEP#:TASSet#:WAVeform"


def columns(prog, channel):
    """Unique waveforms a channel's column of the table uses."""
    return set(np.unique(prog.table.waveform[:, prog.channels.index(channel)]).tolist())


def test_virtual_gate_change_resends_only_the_changed_channel(awg, model):
    first = raster(12, 6)
    awg.prepare(first)
    n_unique = sum(len(columns(first, ch)) for ch in first.channels)
    assert model.counts[DATA] == n_unique == awg.last_upload.waveforms
    full_bytes = awg.last_upload.bytes
    # the sensor compensation changes: S's waveforms change, P1's and P2's do not
    second = raster(12, 6, gates(sensor_row=(-0.2, 0.0)))
    np.testing.assert_array_equal(first.waves.fingerprints()[sorted(columns(first, "P1"))],
                                  second.waves.fingerprints()[sorted(columns(second, "P1"))])
    before_data, before_steps = model.counts[DATA], model.counts[TASSET]
    awg.prepare(second)
    new_s = len(columns(second, "S"))
    assert model.counts[DATA] - before_data == new_s == awg.last_upload.waveforms
    assert model.counts["WLISt:WAVeform:NEW"] == n_unique + new_s
    # the sequence is edited in place: one TASSet per step (only the S track changed)
    assert model.counts[TASSET] - before_steps == len(second.table)
    assert model.counts["SLISt:SEQuence:NEW"] == 1
    assert awg.last_upload.bytes < 0.4 * full_bytes
    # back to the first matrix: every waveform is still on the instrument
    before = model.counts[DATA]
    awg.prepare(first)
    assert model.counts[DATA] == before and awg.last_upload.waveforms == 0
    assert model.handle(b"SYST:ERR?") == b'0,"No error"'


def test_identical_program_sends_nothing(awg, model):
    prog = raster(5, 4)
    awg.prepare(prog)
    n = len(model.log)
    awg.prepare(raster(5, 4))  # compiled again: same content
    assert len(model.log) == n and awg.last_upload.commands == 0


def test_new_driver_on_a_loaded_instrument_reuses_its_waveforms(awg, model):
    prog = raster(6, 4)
    awg.prepare(prog)
    sent = model.counts[DATA]
    name = f"awg_{uuid.uuid4().hex[:8]}"
    again = AWG5208(name, transport=InProcessTransport(model, name=name))
    try:
        again.prepare(prog)
        assert model.counts[DATA] == sent  # recognised by their names (WLISt:LIST?)
        assert model.counts["SLISt:SEQuence:DELete"] == 1  # the sequence is rebuilt
    finally:
        again.close()


def test_reset_reverifies_and_uploads_again(awg, model):
    prog = raster(4, 3)
    awg.prepare(prog)
    sent = model.counts[DATA]
    awg.reset()  # the mock's *RST clears both lists; the driver reads them back
    assert model.waveforms == {} and awg._held == {}
    awg.prepare(prog)
    assert model.counts[DATA] == 2 * sent
    assert model.channels[1].asset == ("SEQ", "dotstack", 1) and model.channels[3].output


def test_reset_behind_the_drivers_back_is_recovered(awg, model):
    prog = raster(4, 3)
    awg.prepare(prog)
    sent = model.counts[DATA]
    model.handle(b"*RST")  # someone else resets the instrument: its lists are gone
    awg.prepare(raster(4, 3, gates(sensor_row=(0.0, 0.0))))  # errors, read back, once more
    assert model.counts[DATA] > sent
    awg.prepare(prog)
    assert model.handle(b"SYST:ERR?") == b'0,"No error"'
    assert sorted(model.waveforms) == sorted(awg._held)


def test_old_waveforms_are_deleted_beyond_the_cache(awg, model):
    awg.cache_samples = 0  # keep only what the program needs
    first = raster(4, 3)
    awg.prepare(first)
    second = raster(4, 3, gates(sensor_row=(0.1, 0.1)))
    awg.prepare(second)
    kept = {n for n in model.waveforms}
    assert kept == set(awg._held)
    assert len(kept) == sum(len(columns(second, ch)) for ch in second.channels)
    assert model.counts["WLISt:WAVeform:DELete"] == len(columns(first, "S"))


def test_new_table_shape_rebuilds_and_reassigns_the_sequence(awg, model):
    awg.prepare(raster(4, 3))
    prog = raster(7, 3)  # more steps: the sequence is deleted and made anew
    awg.prepare(prog)
    assert model.counts["SLISt:SEQuence:DELete"] == 1
    assert all(model.channels[n].asset == ("SEQ", "dotstack", n) for n in (1, 2, 3))
    awg.arm()
    ref = render(prog)
    for n, ch in enumerate(prog.channels, start=1):
        np.testing.assert_allclose(model.stream(n, prog.n_samples), ref[ch], atol=1e-12)


def test_unused_channel_is_switched_off(awg, model):
    awg.prepare(raster(4, 3))
    assert model.channels[3].output
    awg.prepare(raster(4, 3, channels=("P1", "P2")))
    assert model.channels[1].output and not model.channels[3].output

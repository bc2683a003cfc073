"""Issue 8, the end-to-end pulse path on the mock station: a raster compiled by our sequencer,
uploaded by our AWG driver (in-process), played through the time-domain lab, recorded by the
ATS9360 mock through the upstream QCoDeS driver and our controller, triggered by an AWG marker."""

from pathlib import Path

import numpy as np
import pytest

from dotstack.drivers.alazar import AlazarDigitizer
from dotstack.drivers.protocols import Digitizer, LimitError
from dotstack.experiments.pulsed import PulsedRaster
from dotstack.mocks.lab import AWG_WIRING, MockLab
from dotstack.station import LabStation

MOCK_YAML = Path(__file__).parents[2] / "dotstack" / "stations" / "mock.yaml"
X = ("P1", -0.6, 0.6, 48)  # AWG volts: +-60 mV at the gate through the 20 dB line
Y = ("P2", -0.6, 0.6, 16)


@pytest.fixture
def station():
    with LabStation.from_file(MOCK_YAML) as st:
        yield st


def test_mock_lab_wires_the_awg_to_the_gates_and_the_physics_to_the_digitizer():
    lab = MockLab.create(seed=2)
    assert lab.awg_wiring == dict(AWG_WIRING) == {"P1": 1, "P2": 2, "S": 3}
    assert "ats.chA" in lab.lab.analog_sources
    truth = lab.ground_truth()["time_domain"]
    assert truth["lines"]["P2"]["awg_channel"] == "2"
    assert truth["lines"]["P1"]["voltage_gain"] == pytest.approx(0.1)
    assert truth["transition_lines_awg"]["cell_lines"]


def test_station_gives_the_digitizer_role_in_mock_mode(station):
    dig = station.digitizer("ats")
    assert isinstance(dig, AlazarDigitizer) and isinstance(dig, Digitizer)
    assert station.digitizer("ats") is dig
    assert station.mock_lab.lab.triggers.source_of("ats.trigA") == "awg.marker1"
    assert set(station.pulse_lines) == {"P1", "P2", "S"}


def _dot1_crossings(truth, a2):
    """P1 AWG volts of the DC cell's dot-1 lines on the row at P2 AWG volts ``a2``, where that
    crossing lies inside the cell's dot-2 band (away from the dot-2 lines by ``margin`` eV)."""
    lines = truth["cell_lines"]
    dot2 = [ln for ln in lines if ln["dot"] == 2]
    out = []
    for ln in (ln for ln in lines if ln["dot"] == 1):
        c = ln["coefficients_eV_per_awg_V"]
        a1 = (ln["constant_eV"] - c["P2"] * a2) / c["P1"]
        lo, hi = sorted(ln2["constant_eV"] for ln2 in dot2)
        k = dot2[0]["coefficients_eV_per_awg_V"]
        value = k["P1"] * a1 + k["P2"] * a2
        margin = 0.15 * (hi - lo)
        if lo + margin < value < hi - margin:
            out.append(a1)
    return out


def test_averaged_records_show_the_transitions_where_the_ground_truth_puts_them(station):
    truth = station.ground_truth()["time_domain"]["transition_lines_awg"]
    raster = PulsedRaster(station, X, Y, dwell=2e-6, settle=10e-6, averages=16)
    raster.prepare()
    frame = raster.acquire()
    assert frame.shape == (16, 48)
    coords = raster.coordinates()
    x = coords["P1"]
    step = x[1] - x[0]
    errors = []
    for a2, row in zip(coords["P2"], frame, strict=True):
        jumps = np.abs(np.diff(row))  # jump j lies between pixels j and j + 1
        for a1 in _dot1_crossings(truth, a2):
            j_true = (a1 - x[0]) / step - 0.5
            if not 3 <= j_true <= len(jumps) - 4:
                continue
            lo = round(j_true) - 4
            j = lo + int(np.argmax(jumps[lo:lo + 9]))
            assert jumps[j] > 3 * np.median(jumps), (a2, a1)  # a real step, not noise
            errors.append(j - j_true)
    assert len(errors) >= 12
    errors = np.abs(errors)
    assert np.median(errors) <= 1.0 and errors.max() <= 2.0, errors


def test_a_program_beyond_a_gate_limit_is_refused_and_nothing_uploaded(station):
    station.gate("P1").set(0.45)  # gate limits +-0.5 V: 50 mV left = 0.5 V at the AWG
    limits = station.limit_awg()
    assert limits["P1"] == pytest.approx((-0.75, 0.5))  # the AWG's range below, the gate above
    assert limits["P2"] == pytest.approx((-0.75, 0.75))
    awg = station.instruments["awg"]
    before = awg.stats.commands
    raster = PulsedRaster(station, X, Y, dwell=1e-6, settle=5e-6)
    with pytest.raises(LimitError):
        raster.prepare()  # P1's sawtooth reaches +0.6125 V at the AWG: 61 mV at the gate
    assert awg.stats.commands == before and awg.stats.waveforms == 0
    station.gate("P1").set(0.40)
    raster.prepare()  # 100 mV left: fits
    assert awg.stats.waveforms > 0

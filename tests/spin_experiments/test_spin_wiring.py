"""The microwave source is wired into the mock lab (instrument ``mw``, last port), the station
opens it with QCoDeS's upstream SGS100A driver, and the lab's ground truth carries the spins'."""

from __future__ import annotations

import pytest

from dotstack.mocks.lab import INSTRUMENTS, MockLab
from dotstack.mocks.physics.spin import KEYS
from dotstack.station import LabStation


def test_mw_is_served_last_so_existing_ports_do_not_move() -> None:
    assert INSTRUMENTS[:5] == ("qdac", "dmm", "dmm_transport", "lab", "awg")
    assert INSTRUMENTS[-1] == "mw"
    with MockLab.create(seed=3) as lab:
        addresses = lab.serve()
        assert set(addresses) == set(INSTRUMENTS)
        assert type(lab.models["mw"]).__name__ == "SGS100AModel"


def test_ground_truth_has_the_spin_keys() -> None:
    lab = MockLab.create(seed=3)
    spin = lab.ground_truth()["spin"]
    for key in KEYS:
        assert key in spin, key
    assert spin["ac_field_T"] > 0 and spin["ac_frequency_Hz"] > 0
    assert spin["iq_channels"] == [4, 5]
    # P2 up and P1 down move the pair toward (0,2): positive detuning per AWG volt on P2
    assert spin["detuning_eV_per_awg_V"]["P2"] > 0 > spin["detuning_eV_per_awg_V"]["P1"]


@pytest.fixture(scope="module")
def station():
    st = LabStation.from_file("dotstack/stations/mock.yaml")
    yield st
    st.close()


def test_station_drives_the_source_with_the_upstream_driver(station: LabStation) -> None:
    mw = station.instruments["mw"]
    assert type(mw).__name__ == "RohdeSchwarzSGS100A"
    mw.frequency(8.5e9)
    mw.power(7.5)
    mw.status(True)
    mw.IQ_state(True)
    assert mw.IQ_state() is True  # a query: the writes before it have been executed
    carrier = station.mock_lab.models["mw"].carrier_at(station.time() + 1.0)
    assert carrier.frequency == 8.5e9 and carrier.power_dbm == 7.5
    assert carrier.output_on and carrier.iq_on
    truth = station.ground_truth()["spin"]
    assert truth["carrier"]["frequency_Hz"] == pytest.approx(8.5e9)

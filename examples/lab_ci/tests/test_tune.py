import pytest

from lab_scripts.tune import tune_sensor


def test_tune_parks_the_sensor_on_a_flank_of_a_true_peak(mock_station):
    point = tune_sensor(mock_station)
    truth = mock_station.ground_truth()["sensor"]
    peak = min(truth["peak_positions_S_V"], key=lambda p: abs(p - point))
    assert 0 < peak - point < truth["peak_fwhm_S_V"]  # on the rising flank of a real peak
    assert mock_station.gate("S").get() == pytest.approx(point, abs=1e-6)

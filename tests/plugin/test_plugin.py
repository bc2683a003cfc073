"""The pytest plugin `dotstack.testing` as a lab uses it: fixtures `mock_station` and `mock_lab`,
deterministic (the same seed gives the same data, in this process and in another), configured by
marker, fixture override, command line or ini file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import dotstack
from dotstack.experiments.dc import pinch_off
from dotstack.station import LabStation

pytest_plugins = ["pytester"]

SCAN = """
import numpy as np
import dotstack
from dotstack.experiments.dc import pinch_off

def scan(station, tmp_path, out):
    run = pinch_off(station, "SB1", -0.1, 0.2, 21, plot=False, progress=False)
    assert run.path.startswith(str(tmp_path / "data"))  # $DOTSTACK_DATA_DIR of the test
    np.save(out, dotstack.load(run.path).current.values)
"""

SERVED = """
instruments:
  qdac: {type: dotstack.drivers.qdac2.QDac2}
  dmm: {type: qcodes.instrument_drivers.Keysight.Keysight34465A}
dotstack:
  mock: {connect: 127.0.0.1, base_port: 1}   # the port is the mock_lab fixture's
  gates:
    SB1: {instrument: qdac, channel: 7, limits: [-0.5, 0.5], max_ramp_rate: 5, max_step: 0.02}
    SB2: {instrument: qdac, channel: 8, limits: [-0.5, 0.5], max_ramp_rate: 5, max_step: 0.02}
  readout:
    sensor: {instrument: dmm, gain: 1.0e8, nplc: 0.2}
"""


def _scan(station: LabStation, tmp_path: Path) -> np.ndarray:
    run = pinch_off(station, "SB1", -0.1, 0.2, 21, data_dir=tmp_path, plot=False, progress=False)
    return np.asarray(dotstack.load(run.path).current.values)


def test_same_seed_same_data_in_this_process_and_another(mock_station: LabStation, tmp_path: Path,
                                                         pytester: pytest.Pytester) -> None:
    here = _scan(mock_station, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    pytester.makefile(".yaml", served=SERVED)
    pytester.makepyfile(scanning=SCAN, test_inner=f"""
        import pytest
        from scanning import scan
        OUT = {str(out)!r}

        def test_a(mock_station, tmp_path):
            scan(mock_station, tmp_path, OUT + "/a.npy")

        def test_b(mock_station, tmp_path):
            scan(mock_station, tmp_path, OUT + "/b.npy")

        @pytest.mark.mock_station(seed=99)
        def test_other_seed(mock_station, tmp_path):
            scan(mock_station, tmp_path, OUT + "/c.npy")

        @pytest.mark.mock_station("served.yaml", seed=5)
        def test_served_a(mock_station, mock_lab, tmp_path):
            assert mock_station.ground_truth()["seed"] == 5 and mock_station.lab_time.mode == "virtual"
            scan(mock_station, tmp_path, OUT + "/s1.npy")

        @pytest.mark.mock_station("served.yaml", seed=5)
        def test_served_b(mock_station, tmp_path):
            scan(mock_station, tmp_path, OUT + "/s2.npy")
    """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    a, b, c = (np.load(out / f"{k}.npy") for k in "abc")
    assert np.array_equal(here, a) and np.array_equal(a, b)  # another process, the same data
    assert not np.array_equal(a, c)
    assert np.array_equal(np.load(out / "s1.npy"), np.load(out / "s2.npy"))  # served, too
    assert np.ptp(a) > 1e-11  # a real pinch-off, not a flat line


def test_station_file_and_seed_by_ini_option_marker_and_override(pytester: pytest.Pytester) -> None:
    small = textwrap.dedent("""
        instruments:
          qdac: {type: dotstack.drivers.qdac2.QDac2}
          dmm: {type: qcodes.instrument_drivers.Keysight.Keysight34465A}
        dotstack:
          mock: {seed: 1}
          gates:
            P1: {instrument: qdac, channel: 1, limits: [-0.3, 0.3], max_ramp_rate: 5, max_step: 0.02}
            S: {instrument: qdac, channel: 6, limits: [-0.3, 0.3], max_ramp_rate: 5, max_step: 0.02}
          readout:
            sensor: {instrument: dmm, gain: 1.0e8, nplc: 0.2}
        """)
    pytester.makefile(".yaml", **{"stations/small": small, "tests/other": small.replace("P1:", "P2:")})
    pytester.makeini("[pytest]\nmock_station = stations/small.yaml\nmock_seed = 7\n")
    pytester.makepyfile(**{"tests/test_config": """
        import pytest
        import pyvisa

        def test_ini_file_and_command_line_seed(mock_station, mock_station_file, mock_seed):
            assert mock_station_file.name == "small.yaml" and mock_seed == 9
            assert set(mock_station.gates) == {"P1", "S"}
            assert mock_station.ground_truth()["seed"] == 9

        @pytest.mark.mock_station("other.yaml", seed=5)
        def test_marker(mock_station):
            assert set(mock_station.gates) == {"P2", "S"}
            assert mock_station.ground_truth()["seed"] == 5

        def test_served_lab(mock_lab):
            ports = [int(a.split("::")[2]) for a in mock_lab.addresses.values()]
            assert ports == list(range(mock_lab.base_port, mock_lab.base_port + len(ports)))
            lab = pyvisa.ResourceManager("@py").open_resource(mock_lab.addresses["lab"],
                                                              read_termination="\\n")
            assert lab.query("*IDN?").startswith("dotstack,MockLab")
            assert lab.query("LAB:CLOC?").strip() == "virtual"
            lab.close()
            assert mock_lab.ground_truth()["seed"] == 9
    """, "tests/sub/conftest": """
        import pytest

        @pytest.fixture
        def mock_seed():
            return 11
    """, "tests/sub/test_override": """
        def test_fixture_override(mock_station):
            assert mock_station.ground_truth()["seed"] == 11
    """})
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--mock-seed", "9")
    result.assert_outcomes(passed=4)


def test_a_bad_seed_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bad="""
        import pytest

        @pytest.mark.mock_station(seed="x")
        def test_bad(mock_station):
            pass
    """)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the seed must be an integer, got 'x'*"])

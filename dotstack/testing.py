"""pytest plugin: the mock lab in a lab's own tests (loaded through the ``pytest11`` entry point
whenever dotstack is installed; nothing to add to a ``conftest.py``).

Fixtures (each test gets a fresh lab, torn down after it):

- `mock_station`: a `LabStation` on the mock lab, from dotstack's ``stations/mock.yaml`` or your
  own station YAML, on a **virtual clock** and **seeded**: the same seed and the same commands
  give bit-identical data, on any machine, however loaded.  Runs go to a fresh
  ``$DOTSTACK_DATA_DIR`` under the test's ``tmp_path``.
- `mock_lab`: the mock lab served on free loopback ports (`ServedLab`: VISA addresses, base
  port, ground truth), for tests that drive instruments with their own PyVISA/QCoDeS code.

Choosing the station file and the seed, strongest first:

1. a marker: ``@pytest.mark.mock_station("stations/lab.yaml", seed=3)`` (a relative path is
   relative to the test file);
2. a fixture override in your ``conftest.py``: ``mock_station_file`` (returns a path) and
   ``mock_seed`` (returns an int, or None for the file's ``dotstack.mock.seed``);
3. the command line ``--mock-station PATH`` / ``--mock-seed N``, or the ini keys
   ``mock_station`` / ``mock_seed`` (a relative path is relative to the ini file);
4. defaults: ``dotstack/stations/mock.yaml``, the file's seed (served labs: seed 0).

A station file with ``dotstack.mock.connect`` is connected to the `mock_lab` fixture's served lab
(whatever address the file names); one without a ``mock:`` section runs on the in-process mock
lab (its instruments must have the mock lab's names or be mapped in ``dotstack.mock.instruments``).

Why a fixed seed alone was not enough: a lab served by ``dotstack mock-lab serve`` runs on the
wall clock by default, so noise is drawn at wall-clock lab times and every run differs; and a lab
kept between runs (a session-wide server, a module-scoped station) starts each run where the last
one left it.  These fixtures use the virtual clock and a fresh lab per test.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dotstack.mocks.lab import MockLab
    from dotstack.station import LabStation
    from dotstack.station_config import StationConfig

#: seed of a served lab when nothing else chooses one
DEFAULT_SEED = 0
_MARKER = "mock_station"


@dataclass(frozen=True)
class ServedLab:
    """A mock lab served on loopback: ``addresses`` by instrument name (``qdac``, ``dmm``,
    ``dmm_transport``, ``lab``, ``awg``), on consecutive ports from ``base_port``."""

    mock: MockLab
    seed: int
    host: str
    base_port: int
    addresses: Mapping[str, str]

    def ground_truth(self) -> dict[str, Any]:
        """The simulator's ground truth (transition lines, barriers, sensor peaks, ...)."""
        return dict(self.mock.ground_truth())

    def station_config(self, config: StationConfig) -> StationConfig:
        """``config`` connected to this lab (``dotstack.mock.connect``), on its virtual clock."""
        from dotstack.station_config import MockConfig

        mock = config.mock or MockConfig()
        return replace(config, mock=replace(mock, connect=self.host, base_port=self.base_port,
                                            clock="virtual"))


def free_port_block(n: int, host: str = "127.0.0.1", tries: int = 50) -> int:
    """The first of ``n`` consecutive free TCP ports on ``host`` (free when probed)."""
    for _ in range(tries):
        with socket.socket() as probe:
            probe.bind((host, 0))
            base = int(probe.getsockname()[1])
        if base + n > 65535:
            continue
        with contextlib.ExitStack() as held:
            try:
                for k in range(n):
                    sock = held.enter_context(socket.socket())
                    sock.bind((host, base + k))
            except OSError:
                continue
            return base
    raise RuntimeError(f"no block of {n} free ports on {host} after {tries} tries")


@contextlib.contextmanager
def served_mock_lab(seed: int = DEFAULT_SEED, host: str = "127.0.0.1") -> Iterator[ServedLab]:
    """A fresh mock lab on a virtual clock, served on free consecutive ports; closed after."""
    from dotstack.mocks.lab import INSTRUMENTS, MockLab

    for attempt in range(5):
        base = free_port_block(len(INSTRUMENTS), host)
        lab = MockLab.create(seed=seed, clock="virtual")
        try:
            addresses = lab.serve(host=host, base_port=base)
        except OSError:  # another process took a port between the probe and the bind
            lab.close()
            if attempt == 4:
                raise
            continue
        try:
            yield ServedLab(lab, seed, host, base, dict(addresses))
        finally:
            lab.close()
        return


def mock_station_config(path: str | Path, seed: int | None = None) -> StationConfig:
    """The station file at ``path`` in mock mode: in-process lab (unless it connects to a served
    one), virtual clock, ``seed`` (None: the file's seed)."""
    from dotstack.station_config import MockConfig, StationConfig

    config = StationConfig.from_file(path)
    mock = config.mock or MockConfig()
    mock = replace(mock, clock="virtual", seed=mock.seed if seed is None else int(seed))
    return replace(config, mock=mock)


# -- pytest hooks and fixtures ----------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dotstack", "dotstack mock lab")
    group.addoption("--mock-station", metavar="YAML", default=None,
                    help="station file of the mock_station fixture (default: dotstack's mock.yaml)")
    group.addoption("--mock-seed", metavar="N", type=int, default=None,
                    help="seed of the mock_station and mock_lab fixtures")
    parser.addini("mock_station", "station file of the mock_station fixture (relative to this file)")
    parser.addini("mock_seed", "seed of the mock_station and mock_lab fixtures")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{_MARKER}(station=None, *, seed=None): the station file and/or seed of the "
                   "mock_station and mock_lab fixtures for this test (dotstack.testing)")


def _marker(request: pytest.FixtureRequest) -> tuple[str | None, int | None]:
    mark = request.node.get_closest_marker(_MARKER)
    if mark is None:
        return None, None
    station = mark.args[0] if mark.args else mark.kwargs.get("station")
    return station, mark.kwargs.get("seed")


def _seed(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise pytest.UsageError(f"{where}: the seed must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise pytest.UsageError(f"{where}: the seed must be an integer, got {value!r}") from None


@pytest.fixture
def mock_seed(request: pytest.FixtureRequest) -> int | None:
    """Seed of `mock_station` and `mock_lab`: the ``mock_station`` marker's ``seed``, else
    ``--mock-seed``, else the ini key ``mock_seed``, else None (the station file's seed; a served
    lab: 0).  Override this fixture to choose a seed for a whole folder."""
    _, seed = _marker(request)
    if seed is not None:
        return _seed(seed, "@pytest.mark.mock_station(seed=...)")
    option = request.config.getoption("mock_seed")
    if option is not None:
        return int(option)
    ini = request.config.getini("mock_seed")
    return _seed(ini, "ini mock_seed") if ini else None


@pytest.fixture
def mock_station_file(request: pytest.FixtureRequest) -> Path:
    """Station file of `mock_station`: the ``mock_station`` marker's path (relative to the test
    file), else ``--mock-station``, else the ini key ``mock_station`` (relative to the ini file),
    else dotstack's ``stations/mock.yaml``.  Override this fixture to choose a file."""
    from dotstack.stations import MOCK

    station, _ = _marker(request)
    if station is not None:
        return Path(request.path).parent / station
    option = request.config.getoption("mock_station")
    if option:
        return Path(request.config.invocation_params.dir) / option
    ini = request.config.getini("mock_station")
    if ini:
        config = request.config
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return base / str(ini)
    return MOCK


@pytest.fixture
def mock_lab(mock_seed: int | None) -> Iterator[ServedLab]:
    """A fresh mock lab served on free loopback ports, on a virtual clock, seeded by `mock_seed`
    (default 0); stopped after the test.

    Yields a `ServedLab`: ``addresses`` (``{"qdac": "TCPIP0::127.0.0.1::<port>::SOCKET", ...}``
    for PyVISA/QCoDeS drivers with ``visalib="@py"``), ``base_port``, ``ground_truth()``, and
    ``mock`` (the `MockLab`).  On a virtual clock lab time passes only when an instrument waits:
    wait with ``LAB:WAIT? <s>`` on the ``lab`` address, not ``time.sleep``."""
    with served_mock_lab(DEFAULT_SEED if mock_seed is None else mock_seed) as lab:
        yield lab


@pytest.fixture
def mock_station(request: pytest.FixtureRequest, mock_station_file: Path, mock_seed: int | None,
                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabStation]:
    """A `LabStation` on a fresh mock lab: `mock_station_file` (default dotstack's
    ``stations/mock.yaml``) in mock mode, on a virtual clock, seeded by `mock_seed` (default the
    file's seed); closed after the test.

    The same seed and the same commands give identical data.  Runs an experiment writes without
    a ``data_dir`` go to ``tmp_path / "data"`` (``$DOTSTACK_DATA_DIR``).  A file that connects to
    a served lab (``dotstack.mock.connect``) is connected to the `mock_lab` fixture.  The lab's
    ground truth is ``station.ground_truth()``."""
    from dotstack.station import LabStation

    config = mock_station_config(mock_station_file, mock_seed)
    assert config.mock is not None
    if config.mock.connect is not None:
        config = request.getfixturevalue("mock_lab").station_config(config)
    monkeypatch.setenv("DOTSTACK_DATA_DIR", str(tmp_path / "data"))
    with LabStation(config) as station:
        yield station

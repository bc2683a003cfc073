"""Fixtures for the SCPI framework tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scpi_toy import ToyPSU

from dotstack.mocks.scpi import ScpiServer, serve_tcp


@pytest.fixture
def psu() -> ToyPSU:
    return ToyPSU()


@pytest.fixture
def server(psu: ToyPSU) -> Iterator[ScpiServer]:
    with serve_tcp(psu, name="psu") as srv:
        yield srv

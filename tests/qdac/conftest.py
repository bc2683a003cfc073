"""Fixtures for the QDAC-II tests: a VirtualLab on a manual clock, the mock, both tiers."""

import uuid

import pytest

from dotstack.drivers.qdac2 import QDac2
from dotstack.drivers.transport import InProcessTransport
from dotstack.mocks.instruments import QDac2Model
from dotstack.mocks.physics import ManualClock, VirtualLab
from dotstack.mocks.scpi import serve_tcp


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def lab(clock):
    return VirtualLab(seed=1, clock=clock)


@pytest.fixture
def model(lab):
    return QDac2Model(lab, name="qdac")


@pytest.fixture
def server(model):
    srv = serve_tcp(model)
    yield srv
    srv.close()


@pytest.fixture(params=["inprocess", "socket"])
def qdac(request, model, clock):
    """Our driver over the in-process transport and over loopback TCP + pyvisa-py."""
    name = f"qdac_{uuid.uuid4().hex[:8]}"
    if request.param == "inprocess":
        q = QDac2(name, transport=InProcessTransport(model, name=name), sleep=clock.advance)
    else:
        srv = request.getfixturevalue("server")
        q = QDac2(name, srv.address, sleep=clock.advance)
    yield q
    q.close()

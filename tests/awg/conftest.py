"""Fixtures for the AWG5208 tests: a lab on a virtual clock, the mock, our driver."""

import uuid

import pytest
from awgtest_helpers import LINES

from dotstack.drivers.awg5208 import AWG5208
from dotstack.drivers.transport import InProcessTransport
from dotstack.mocks.instruments.awg5208 import AWG5208Model
from dotstack.mocks.physics import VirtualClock, VirtualLab
from dotstack.mocks.physics.wiring import TriggerLines
from dotstack.mocks.scpi import serve_tcp


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def lab(clock):
    return VirtualLab(seed=1, clock=clock, triggers=TriggerLines(LINES))


@pytest.fixture
def model(lab):
    return AWG5208Model(lab, name="awg")


@pytest.fixture
def awg(model, clock):
    name = f"awg_{uuid.uuid4().hex[:8]}"
    a = AWG5208(name, transport=InProcessTransport(model, name=name), sleep=clock.advance)
    yield a
    a.close()


@pytest.fixture
def server(model, clock):
    srv = serve_tcp(model)
    clock.register_activity(srv.busy_threads)
    yield srv
    clock.unregister_activity(srv.busy_threads)
    srv.close()

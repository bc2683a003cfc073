"""Fixtures of the ATS9360 tests: a virtual-clock lab with a known signal, the mock API, and the
unmodified upstream QCoDeS driver on it."""

import uuid

import pytest
from atstest_helpers import LINES, SignalLab, sine
from qcodes.instrument_drivers.AlazarTech import AlazarTechATS9360

from dotstack.drivers.alazar import install_buffer_fix
from dotstack.mocks.instruments.ats9360 import ATS9360API
from dotstack.mocks.physics import NoiseParams, VirtualClock
from dotstack.mocks.physics.wiring import TriggerLines


@pytest.fixture(autouse=True)
def _dma_buffers():
    install_buffer_fix()  # QCoDeS's Buffer frees its memory off Windows (see drivers/alazar.py)


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def lab(clock):
    return SignalLab(sine(), seed=1, clock=clock, noise=NoiseParams.none(),
                     triggers=TriggerLines(LINES))


@pytest.fixture
def api(lab):
    return ATS9360API(lab, input_noise=0.0)


@pytest.fixture
def alazar(api):
    board = AlazarTechATS9360(f"ats_{uuid.uuid4().hex[:8]}", api=api)
    yield board
    board.close()

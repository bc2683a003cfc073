"""drivers/safety.py: limit checks, move and software-ramp planning, list/sweep validation."""

import math

import numpy as np
import pytest

from dotstack.drivers import safety
from dotstack.drivers.protocols import ChannelLimits, LimitError

LIM = ChannelLimits(-1.0, 1.0, max_ramp_rate=2.0, max_step=0.1)


def test_check_request_names_channel_and_rejects_nonfinite():
    assert safety.check_request(LIM, 0.5, "dac ch01") == 0.5
    with pytest.raises(LimitError, match=r"dac ch01.*outside"):
        safety.check_request(LIM, 1.5, "dac ch01")
    for bad in (math.nan, math.inf, "x"):
        with pytest.raises(LimitError):
            safety.check_request(LIM, bad, "dac ch01")


def test_plan_move_steps_small_moves_and_ramps_large_ones():
    step = safety.plan_move(LIM, 0.0, 0.1)
    assert not step.ramped and step.duration_s == 0.0
    ramp = safety.plan_move(LIM, 0.0, 0.8)
    assert ramp.ramped and ramp.rate == 2.0 and ramp.duration_s == pytest.approx(0.4)
    forced = safety.plan_move(LIM, 0.0, 0.05, rate=1.0)
    assert forced.ramped and forced.rate == 1.0
    with pytest.raises(LimitError, match="exceeds max_ramp_rate"):
        safety.plan_move(LIM, 0.0, 0.5, rate=3.0)


def test_software_ramp_steps_and_dwell():
    ramp = safety.plan_software_ramp(LIM, 0.0, -0.35)
    pts = np.array(ramp.setpoints)
    assert pts[-1] == -0.35 and len(pts) == 4
    assert np.all(np.abs(np.diff(np.r_[0.0, pts])) <= 0.1 + 1e-12)
    # mean rate equals max_ramp_rate
    assert ramp.duration_s == pytest.approx(0.35 / 2.0)
    assert safety.plan_software_ramp(LIM, 0.2, 0.2).setpoints == (0.2,)
    frozen = ChannelLimits(-1, 1, max_step=0.0)
    with pytest.raises(LimitError, match="cannot move"):
        safety.plan_software_ramp(frozen, 0.0, 0.5)


def test_validate_list_points_steps_and_wraparound():
    pts = safety.validate_list(LIM, [0.0, 0.1, 0.2, 0.3])
    assert pts.dtype == float and len(pts) == 4
    with pytest.raises(LimitError, match="list point 2"):
        safety.validate_list(LIM, [0.0, 0.5, 1.5])
    with pytest.raises(LimitError, match="between list points 1 and 2"):
        safety.validate_list(LIM, [0.0, 0.1, 0.3])
    with pytest.raises(LimitError, match="between list points 3 and 0"):
        safety.validate_list(LIM, [0.0, 0.1, 0.2, 0.3], cyclic=True)
    with pytest.raises(LimitError, match="empty"):
        safety.validate_list(LIM, [])
    with pytest.raises(LimitError):
        safety.validate_list(LIM, [0.0, math.nan])


def test_validate_sweep():
    pts = safety.validate_sweep(LIM, -0.5, 0.5, 11)
    assert pts[0] == -0.5 and pts[-1] == 0.5
    with pytest.raises(LimitError, match="max_step"):
        safety.validate_sweep(LIM, -0.5, 0.5, 5)
    with pytest.raises(LimitError, match="outside"):
        safety.validate_sweep(LIM, -0.5, 1.5, 101)
    with pytest.raises(LimitError, match="at least 2"):
        safety.validate_sweep(LIM, 0, 0, 1)


def test_intersect():
    assert safety.intersect(ChannelLimits(-5, 5, 1, 0.1), -2, 2) == ChannelLimits(-2, 2, 1, 0.1)
    with pytest.raises(LimitError, match="do not overlap"):
        safety.intersect(ChannelLimits(3, 5), -2, 2)

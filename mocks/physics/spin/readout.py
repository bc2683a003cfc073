"""Single-shot spin readout: Pauli spin blockade (PSB) and, as an option, Elzerman readout.

Both give per shot the charge sensor's demodulated signal (V) averaged over the readout window:
``level_a + (level_b - level_a) f + noise * N(0, 1)`` where f is the fraction of the window
spent in the "b" charge state.

* `PsbReadout`: at the readout point the pair either tunnels to (0,2) (the singlet-like
  branch; here spin 1 up with spin 2 down, the state the pulse maps adiabatically onto the
  singlet) or stays blocked in (1,1); a blocked pair relaxes to the singlet at ``t1`` during the
  window, so a blocked shot shows (1,1) from the start until its decay.  Spin 1 up reads as the
  singlet level.
* `ElzermanReadout`: the read spin, if up, tunnels out to the lead at ``tunnel_out_rate`` (unless
  it relaxed first, at the spin's T1) and a spin-down electron tunnels back at
  ``tunnel_in_rate``: the dot is empty for that blip.  Spin up reads as the empty level.

`fidelity` computes the model's assignment fidelity ``1 - (P(down | up) + P(up | down)) / 2`` at
the best threshold from the same distributions (quadrature over the decay/tunnel times, Gaussian
noise in closed form): no sampling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from dotstack.mocks.physics.spin.params import integer, real

Array = NDArray[np.float64]
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(96)


def _gauss(lo: float, hi: float) -> tuple[Array, Array]:
    """Gauss-Legendre nodes and weights on [lo, hi]."""
    half = 0.5 * (hi - lo)
    return lo + half * (_NODES + 1.0), half * _WEIGHTS


@dataclass(frozen=True)
class PsbReadout:
    """Pauli-spin-blockade readout of the pair (see the module docstring): ``duration`` (s) of
    the window, ``t1`` (s) of the blocked state at the readout point, sensor levels (V) of the
    singlet (0,2) and blocked (1,1) charge states, ``noise`` (V rms of the window average)."""

    duration: float = 10e-6
    t1: float = 100e-6
    singlet_level: float = 0.12
    blocked_level: float = 0.08
    noise: float = 0.008

    def __post_init__(self) -> None:
        own = type(self).__name__
        for name in ("duration", "t1", "noise"):
            object.__setattr__(self, name, real(own, name, getattr(self, name), positive=True))
        for name in ("singlet_level", "blocked_level"):
            object.__setattr__(self, name, real(own, name, getattr(self, name)))
        if self.singlet_level == self.blocked_level:
            raise ValueError(f"{own}: singlet_level and blocked_level must differ")

    @property
    def up_level(self) -> float:
        return self.singlet_level

    @property
    def down_level(self) -> float:
        return self.blocked_level

    def draw(self, up: NDArray[np.bool_], rng: np.random.Generator) -> Array:
        """Signals (V) for spin states ``up`` (shots, 2) of (spin 1, spin 2)."""
        singlet = up[:, 0] & ~up[:, 1]
        decay = rng.standard_exponential(up.shape[0]) * self.t1
        blocked_frac = np.where(singlet, 0.0, np.minimum(decay / self.duration, 1.0))
        signal = self.singlet_level + (self.blocked_level - self.singlet_level) * blocked_frac
        return np.asarray(signal + self.noise * rng.standard_normal(up.shape[0]))

    def below(self, threshold: float) -> tuple[float, float]:
        """(P(signal < threshold | spin 1 up), same | spin 1 down), spin 2 down."""
        z_up = ndtr((threshold - self.singlet_level) / self.noise)
        r = self.duration / self.t1
        f, w = _gauss(0.0, 1.0)
        level = self.singlet_level + (self.blocked_level - self.singlet_level) * f
        density = r * np.exp(-r * f)  # blocked fraction f < 1: decayed at f * duration
        cont = float(np.sum(w * density * ndtr((threshold - level) / self.noise)))
        full = math.exp(-r) * float(ndtr((threshold - self.blocked_level) / self.noise))
        return float(z_up), cont + full

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"{k}{u}": v for (k, v), u in zip(
            asdict(self).items(), ("_s", "_s", "_V", "_V", "_V"), strict=True)}
        out["kind"] = "psb"
        return out


@dataclass(frozen=True)
class ElzermanReadout:
    """Energy-selective (Elzerman) readout of spin ``spin`` (1 or 2) during ``duration`` s: spin
    up tunnels out at ``tunnel_out_rate`` Hz (racing its T1), back in at ``tunnel_in_rate`` Hz;
    sensor levels (V) of the loaded and empty dot, ``noise`` (V rms of the window average)."""

    duration: float = 50e-6
    tunnel_out_rate: float = 200e3
    tunnel_in_rate: float = 30e3
    loaded_level: float = 0.08
    empty_level: float = 0.12
    noise: float = 0.002
    spin: int = 1

    def __post_init__(self) -> None:
        own = type(self).__name__
        for name in ("duration", "tunnel_out_rate", "tunnel_in_rate", "noise"):
            object.__setattr__(self, name, real(own, name, getattr(self, name), positive=True))
        for name in ("loaded_level", "empty_level"):
            object.__setattr__(self, name, real(own, name, getattr(self, name)))
        object.__setattr__(self, "spin", integer(own, "spin", self.spin, minimum=1))
        if self.spin > 2:
            raise ValueError(f"{own}.spin must be 1 or 2, got {self.spin}")
        if self.loaded_level == self.empty_level:
            raise ValueError(f"{own}: loaded_level and empty_level must differ")

    @property
    def up_level(self) -> float:
        return self.empty_level

    @property
    def down_level(self) -> float:
        return self.loaded_level

    def draw_with_t1(self, up: NDArray[np.bool_], t1: float, rng: np.random.Generator) -> Array:
        """Signals (V) for spin states ``up`` (shots, 2); the read spin relaxes at ``t1``."""
        n = up.shape[0]
        read = up[:, self.spin - 1]
        t_out = rng.standard_exponential(n) / self.tunnel_out_rate
        t_relax = rng.standard_exponential(n) * t1
        t_in = rng.standard_exponential(n) / self.tunnel_in_rate
        blip = read & (t_out < t_relax) & (t_out < self.duration)
        empty = np.where(blip, np.minimum(t_out + t_in, self.duration) - t_out, 0.0)
        frac = empty / self.duration
        signal = self.loaded_level + (self.empty_level - self.loaded_level) * frac
        return np.asarray(signal + self.noise * rng.standard_normal(n))

    def below_with_t1(self, threshold: float, t1: float) -> tuple[float, float]:
        """(P(signal < threshold | up), P(signal < threshold | down))."""
        d, a, b, c = self.duration, self.tunnel_out_rate, 1.0 / t1, self.tunnel_in_rate
        lo, hi, sig = self.loaded_level, self.empty_level, self.noise

        def cdf(frac: Array | float) -> Array:
            return np.asarray(ndtr((threshold - (lo + (hi - lo) * np.asarray(frac))) / sig))

        u, wu = _gauss(0.0, d)  # tunnel-out time
        p_out = a * np.exp(-(a + b) * u)  # density of tunnelling out first, at u
        inner = np.empty(u.size)
        for i, ui in enumerate(u):  # blip length v < d - u, or cut by the window's end
            v, wv = _gauss(0.0, d - ui)
            inner[i] = np.sum(wv * c * np.exp(-c * v) * cdf(v / d)) \
                + math.exp(-c * (d - ui)) * float(cdf((d - ui) / d))
        p_blip = a / (a + b) * -math.expm1(-(a + b) * d)
        up = float(np.sum(wu * p_out * inner)) + (1.0 - p_blip) * float(cdf(0.0))
        return up, float(cdf(0.0))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"{k}{u}": v for (k, v), u in zip(
            asdict(self).items(), ("_s", "_Hz", "_Hz", "_V", "_V", "_V", ""), strict=True)}
        out["kind"] = "elzerman"
        return out


Readout = PsbReadout | ElzermanReadout


def below(readout: Readout, threshold: float, t1: float) -> tuple[float, float]:
    """(P(signal < threshold | read spin up), P(signal < threshold | down))."""
    if isinstance(readout, PsbReadout):
        return readout.below(threshold)
    return readout.below_with_t1(threshold, t1)


def draw(readout: Readout, up: NDArray[np.bool_], t1: float, rng: np.random.Generator) -> Array:
    """Single-shot signals (V) for the projected spin states ``up`` (shots, 2)."""
    if isinstance(readout, PsbReadout):
        return readout.draw(up, rng)
    return readout.draw_with_t1(up, t1, rng)


def fidelity(readout: Readout, t1: float) -> tuple[float, float]:
    """(assignment fidelity, threshold in V) of the model, at the best threshold."""
    up, down = readout.up_level, readout.down_level
    sign = 1.0 if up > down else -1.0

    def error(threshold: float) -> float:
        p_up, p_down = below(readout, threshold, t1)
        # signal on the up side of the threshold means "up"
        miss_up = p_up if sign > 0 else 1.0 - p_up
        false_up = 1.0 - p_down if sign > 0 else p_down
        return 0.5 * (miss_up + false_up)

    lo, hi = min(up, down), max(up, down)
    grid = np.linspace(lo, hi, 41)
    best = float(grid[int(np.argmin([error(float(x)) for x in grid]))])
    step = (hi - lo) / 40
    res = minimize_scalar(error, bounds=(best - step, best + step), method="bounded",
                          options={"xatol": 1e-6 * (hi - lo)})
    threshold = float(res.x)
    return 1.0 - error(threshold), threshold

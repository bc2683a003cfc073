"""Parameters of the spin physics (frozen dataclasses, SI units; energies in eV, named so).

- `SpinParams`: the two spins of a Si/SiGe double dot with a micromagnet (field, g-factors,
  micromagnet fields, EDSR efficiencies, charge-noise couplings, T1, tunnel coupling).
- `SpinNoise`: the 1/f charge noise on each dot's electrochemical potential, as the lab's
  `OneOverF` builds it (same amplitude and OU construction), over the band that matters to spins.
- `AcField`: an optional AC magnetic field to sense, along the static field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics.params import NoiseParams

#: Bohr magneton over Planck's constant (Hz/T).
MU_B_OVER_H = 9.2740100783e-24 / 6.62607015e-34
#: Frequency of one eV (Hz/eV): e / h.
HZ_PER_EV = 1.602176634e-19 / 6.62607015e-34


def real(owner: str, name: str, value: object, *, positive: bool = False,
         non_negative: bool = False) -> float:
    """``value`` as a finite float (Python or numpy numbers; bools, NaN, inf and other types are
    refused with an error naming ``owner.name``)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number) \
            or isinstance(value, complex | np.complexfloating):
        raise TypeError(f"{owner}.{name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{owner}.{name} must be finite, got {value!r}")
    if positive and not x > 0:
        raise ValueError(f"{owner}.{name} must be > 0, got {value!r}")
    if non_negative and not x >= 0:
        raise ValueError(f"{owner}.{name} must be >= 0, got {value!r}")
    return x


def integer(owner: str, name: str, value: object, *, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum`` (Python or numpy integers only)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{owner}.{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{owner}.{name} must be >= {minimum}, got {value!r}")
    return int(value)


def pair(owner: str, name: str, value: object, **kw: bool) -> tuple[float, float]:
    """A pair of finite floats (one per dot)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"{owner}.{name} must be a pair (dot 1, dot 2), got {value!r}")
    try:
        items: tuple[object, ...] = tuple(value)
    except TypeError:
        raise TypeError(f"{owner}.{name} must be a pair (dot 1, dot 2), got {value!r}") from None
    if len(items) != 2:
        raise ValueError(f"{owner}.{name} must have 2 entries (dot 1, dot 2), got {value!r}")
    a, b = (real(owner, f"{name}[{i}]", v, **kw) for i, v in enumerate(items))
    return a, b


@dataclass(frozen=True)
class SpinParams:
    """One electron spin per dot of the double dot.

    - ``field`` (T): the external field along z; ``micromagnet_field`` (T): the micromagnet's
      longitudinal field at each dot (their difference separates the two resonances);
      ``g_factor`` per dot.  Zeeman frequency ``f_q = g_q mu_B (field + micromagnet_q) / h``.
    - ``rabi_per_volt`` (Hz/V): EDSR efficiency, Rabi frequency per volt of microwave amplitude
      at the dot (``f_Rabi = rabi_per_volt * |I + iQ|``; a pi pulse lasts ``1 / (2 f_Rabi)``).
    - ``noise_coupling`` (Hz/eV): how much a spin's frequency moves per eV shift of its dot's
      electrochemical potential (the electron displaced in the micromagnet's gradient): the
      channel through which charge noise dephases it.
    - ``tunnel_coupling_ev`` (eV): inter-dot tunnel coupling t_c; exchange
      ``J(eps) = (eps + sqrt(eps^2 + 8 t_c^2)) / 2`` (eps < 0 deep in (1,1), J -> 2 t_c^2/|eps|).
      With the Zeeman difference much larger than J, exchange shifts each spin's frequency by
      ``J <S_z of the partner> / h`` (``-J / 2h`` with the partner down).
    - ``idle_detuning_ev`` (eV): the detuning of the operating point (where the qubits are
      driven and idle in a sequence whose segments say so).
    - ``t1`` (s): spin relaxation (to spin down) at the operating point.
    """

    field: float = 0.3
    micromagnet_field: tuple[float, float] = (0.010, 0.0125)
    g_factor: tuple[float, float] = (1.998, 1.998)
    rabi_per_volt: tuple[float, float] = (5e9, 4e9)
    noise_coupling: tuple[float, float] = (5e9, 4e9)
    tunnel_coupling_ev: float = 0.5e-6
    idle_detuning_ev: float = -2e-3
    t1: float = 5e-3

    def __post_init__(self) -> None:
        own = type(self).__name__
        object.__setattr__(self, "field", real(own, "field", self.field))
        object.__setattr__(self, "micromagnet_field",
                           pair(own, "micromagnet_field", self.micromagnet_field))
        object.__setattr__(self, "g_factor", pair(own, "g_factor", self.g_factor))
        object.__setattr__(self, "rabi_per_volt",
                           pair(own, "rabi_per_volt", self.rabi_per_volt, non_negative=True))
        object.__setattr__(self, "noise_coupling", pair(own, "noise_coupling",
                                                        self.noise_coupling))
        object.__setattr__(self, "tunnel_coupling_ev", real(own, "tunnel_coupling_ev",
                                                            self.tunnel_coupling_ev,
                                                            non_negative=True))
        object.__setattr__(self, "idle_detuning_ev", real(own, "idle_detuning_ev",
                                                          self.idle_detuning_ev))
        object.__setattr__(self, "t1", real(own, "t1", self.t1, positive=True))
        if min(self.zeeman_frequencies) <= 0:
            raise ValueError(f"{own}: Zeeman frequencies must be > 0 Hz, got "
                             f"{self.zeeman_frequencies} (field, micromagnet_field, g_factor)")

    @property
    def zeeman_frequencies(self) -> tuple[float, float]:
        """Zeeman frequencies of the two spins (Hz), without exchange."""
        f = [g * MU_B_OVER_H * (self.field + b)
             for g, b in zip(self.g_factor, self.micromagnet_field, strict=True)]
        return f[0], f[1]

    def exchange_ev(self, detuning_ev: ArrayLike) -> NDArray[np.float64]:
        """J(eps) (eV), elementwise."""
        eps = np.asarray(detuning_ev, dtype=float)
        tc2 = 8.0 * self.tunnel_coupling_ev**2
        root = np.sqrt(eps * eps + tc2)
        # (eps + root) / 2 cancels for eps << 0: write it as 4 t_c^2 / (root - eps)
        return np.asarray(np.where(eps < 0, 0.5 * tc2 / np.where(root - eps > 0, root - eps,
                                                                     1.0), 0.5 * (eps + root)))

    def exchange_slope(self, detuning_ev: ArrayLike) -> NDArray[np.float64]:
        """dJ/d eps (dimensionless), elementwise."""
        eps = np.asarray(detuning_ev, dtype=float)
        root = np.sqrt(eps * eps + 8.0 * self.tunnel_coupling_ev**2)
        safe = np.where(root > 0, root, 1.0)
        return np.asarray(np.where(root > 0, 0.5 * (1.0 + eps / safe), 0.5))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"{k}{u}": v for k, v, u in (
            ("field", self.field, "_T"), ("micromagnet_field", list(self.micromagnet_field), "_T"),
            ("g_factor", list(self.g_factor), ""),
            ("rabi_per_volt", list(self.rabi_per_volt), "_Hz_per_V"),
            ("noise_coupling", list(self.noise_coupling), "_Hz_per_eV"),
            ("tunnel_coupling", self.tunnel_coupling_ev, "_eV"),
            ("idle_detuning", self.idle_detuning_ev, "_eV"), ("t1", self.t1, "_s"))}
        out["zeeman_frequencies_Hz"] = list(self.zeeman_frequencies)
        out["model"] = ("f_q = g_q mu_B (field + micromagnet_q) / h + J(eps) <S_z partner> / h "
                        "+ noise_coupling_q * dmu_q(t) + g_q mu_B B_ac(t) / h; "
                        "J(eps) = (eps + sqrt(eps^2 + 8 t_c^2)) / 2")
        return out


@dataclass(frozen=True)
class SpinNoise:
    """1/f noise of each dot's electrochemical potential (two independent channels), one-sided
    PSD ``amplitude_ev**2 / f`` (eV^2/Hz) across ``band`` (Hz), built as the lab's `OneOverF`
    builds it: a sum of OU processes with ``per_decade`` corner frequencies per decade and the
    same fitted weights (`ou_corner_weights`), flat below the band, 1/f^2 above it.

    Spins need the spectrum up to MHz (echo and CPMG filters), the lab's DC readings only up to
    ~10 Hz: `from_lab` keeps the lab's amplitude, lower band edge and components per decade and
    extends the band to ``high`` Hz.  Each shot draws its own realisation: the components too
    slow to change during a sequence as a constant offset (quasi-static), the others as exact
    OU paths along it, so T2* is that of a measurement long against 1 / band[0].
    """

    amplitude_ev: float = 1e-6
    band: tuple[float, float] = (1e-3, 1e6)
    per_decade: int = 2

    def __post_init__(self) -> None:
        own = type(self).__name__
        object.__setattr__(self, "amplitude_ev", real(own, "amplitude_ev", self.amplitude_ev,
                                                      non_negative=True))
        lo, hi = pair(own, "band", self.band, positive=True)
        if not lo < hi:
            raise ValueError(f"{own}.band must be (low, high) with low < high, got {self.band}")
        object.__setattr__(self, "band", (lo, hi))
        object.__setattr__(self, "per_decade", integer(own, "per_decade", self.per_decade,
                                                       minimum=1))

    @classmethod
    def from_lab(cls, noise: NoiseParams, high: float = 1e6) -> SpinNoise:
        """The lab's dot charge noise (amplitude, lower band edge, components per decade) over
        a band extended to ``high`` Hz."""
        return cls(noise.dot_charge_noise_ev, (noise.charge_noise_band[0], high),
                   noise.components_per_decade)

    def to_dict(self) -> dict[str, Any]:
        return {"amplitude_eV_per_sqrtHz_at_1Hz": self.amplitude_ev, "band_Hz": list(self.band),
                "components_per_decade": self.per_decade,
                "method": "sum of OU processes per dot (as the lab's OneOverF); slow components "
                          "quasi-static per shot, the others exact OU paths per segment"}


@dataclass(frozen=True)
class AcField:
    """An AC magnetic field along the static field: ``B(t) = amplitude cos(2 pi frequency t +
    phase)`` (T, Hz, rad), t from the start of each shot's sequence (phase-locked to it)."""

    amplitude: float
    frequency: float
    phase: float = 0.0

    def __post_init__(self) -> None:
        own = type(self).__name__
        object.__setattr__(self, "amplitude", real(own, "amplitude", self.amplitude))
        object.__setattr__(self, "frequency", real(own, "frequency", self.frequency,
                                                   positive=True))
        object.__setattr__(self, "phase", real(own, "phase", self.phase))

    def to_dict(self) -> dict[str, Any]:
        return {f"{k}{u}": v for (k, v), u in zip(asdict(self).items(), ("_T", "_Hz", "_rad"),
                                                  strict=True)}

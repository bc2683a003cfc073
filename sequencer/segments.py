"""Segments: the atoms of a schedule. Times in s, levels in V, frequencies in Hz, phases in rad.

Every numeric field may be a :class:`Param` placeholder, bound per sweep point at
compile time. Evaluation is vectorised: ``sample(values, t, dur)`` gets the bound
field values as arrays of shape (n, 1), local times ``t`` (s) of shape (n or 1, m)
and the sampled duration ``dur`` (s, shape (n, 1)) and returns shape (n, m).

Carrier phase (virtual Z). A :class:`Burst`'s carrier runs continuously on its lane, as
from an oscillator started with the program: at program time ``t`` (s from the start of the
program on the AWG's sample grid, all sweep points one after another, trigger waits not
counted) the carrier is ``sin(2π f t + phase + Z)``, so two bursts at one frequency
separated by a wait are phase-coherent. ``Z`` is the lane's frame: the sum of the
:class:`PhaseShift` segments (zero duration, ``phase_shift(lane, radians)``) placed on the
lane earlier in the same sweep point; every sweep point starts with ``Z = 0``. (The
compiler passes ``phase`` already advanced to the segment's start; ``sample`` itself only
knows local time.) :class:`Chirp` phases stay relative to the chirp's own start.

Rest level. After an oscillating segment (:class:`Burst`, :class:`Chirp`) its lane rests at
the segment's ``offset`` (0 V unless set) - through gaps, block and step padding and blocks
without the lane - instead of holding its last sample: microwave (I/Q) lanes return to 0 V
after a burst. Other segments hold their last sample.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.checks import count, flag, is_bool, real
from dotstack.sequencer.errors import SequencerError, UnregisteredFunctionError

Array = npt.NDArray[np.float64]
Envelope = Literal["rect", "gauss", "cosine"]


@dataclass(frozen=True)
class Param:
    """Placeholder for a numeric field, bound by a sweep axis (by ``name``)."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SequencerError(f"Param name must be a non-empty string, got {self.name!r}")


Num = float | Param

# --- function registry for Arbitrary -------------------------------------------------
VectorFunction = Callable[[Array, Array], Array]
_REGISTRY: dict[str, VectorFunction] = {}


def register_function(name: str, func: VectorFunction) -> VectorFunction:
    """Register ``func(t, duration) -> volts`` (vectorised, broadcasting) under ``name``."""
    if name in _REGISTRY and _REGISTRY[name] is not func:
        raise SequencerError(f"function name {name!r} is already registered")
    _REGISTRY[name] = func
    return func


def get_function(name: str) -> VectorFunction:
    """Look up a registered function by name."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnregisteredFunctionError(
            f"no function registered as {name!r}; call register_function first"
        ) from None


def function_name(func: VectorFunction | str) -> str:
    """Name under which ``func`` is registered (refuses unregistered callables)."""
    if isinstance(func, str):
        get_function(func)
        return func
    for name, registered in _REGISTRY.items():
        if registered is func:
            return name
    raise UnregisteredFunctionError(
        f"callable {getattr(func, '__qualname__', func)!r} is not registered; "
        "register it with register_function(name, func) so schedules stay serializable"
    )


register_function("gaussian", lambda t, d: np.exp(-0.5 * ((t - d / 2) / (d / 6)) ** 2))
register_function("cosine_window", lambda t, d: 0.5 * (1 - np.cos(2 * np.pi * t / d)))
register_function("linear_rise", lambda t, d: t / d)


# --- segments ---------------------------------------------------------------------------
_NUM_FIELDS: dict[type, tuple[str, ...]] = {}


def _num_fields(cls: type) -> tuple[str, ...]:
    """Fields declared ``Num`` (sweepable numbers) of a segment class."""
    if cls not in _NUM_FIELDS:
        _NUM_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.type in ("Num", Num))
    return _NUM_FIELDS[cls]


@dataclass(frozen=True)
class Segment:
    """Base of all segments; ``duration`` in s.

    Numeric fields accept Python and numpy scalars (stored as float) or a :class:`Param`;
    NaN, infinities, bools and negative durations are refused here, naming the field.
    """

    duration: Num
    kind: ClassVar[str] = "analog"
    constant: ClassVar[bool] = False
    carrier: ClassVar[bool] = False  # phase runs on in program time (see module docstring)
    rests_at_offset: ClassVar[bool] = False  # after it the lane rests at ``offset``

    def __post_init__(self) -> None:
        name = type(self).__name__
        for f in _num_fields(type(self)):
            v = getattr(self, f)
            if not isinstance(v, Param):
                object.__setattr__(self, f, real(v, f"{name}.{f}", minimum=0.0 if f == "duration"
                                                 else None))

    def check_bound(self, values: Mapping[str, Any], lane: str) -> None:
        """Refuse bound (per-point) field values that cannot be sampled; default: none."""

    def duration_independent(self) -> bool:
        """True when the sample at local time t does not depend on the duration."""
        return self.constant

    def numeric_fields(self) -> tuple[str, ...]:
        """Names of the numeric (sweepable) fields, duration first."""
        return tuple(
            f.name for f in fields(self) if isinstance(getattr(self, f.name), float | int | Param)
            and not isinstance(getattr(self, f.name), bool)
        )

    def params(self) -> set[str]:
        """Names of the parameters this segment depends on."""
        return {v.name for f in fields(self) if isinstance(v := getattr(self, f.name), Param)}

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        raise NotImplementedError  # pragma: no cover - every subclass overrides

    def linear(self, v: Mapping[str, Any], n: int) -> tuple[Any, Any] | None:
        """(value at the first sample, change per sample) when the ``n`` samples are linear
        in the sample index for every bound value, else None (then it is sampled)."""
        return None

    def describe(self) -> str:
        parts = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"{type(self).__name__}({parts})"


@dataclass(frozen=True)
class Hold(Segment):
    """Constant level (V) for ``duration``."""

    level: Num = 0.0
    constant: ClassVar[bool] = True

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        return np.broadcast_to(np.asarray(v["level"], dtype=float), np.broadcast(t, dur).shape)

    def linear(self, v: Mapping[str, Any], n: int) -> tuple[Any, Any]:
        return v["level"], 0.0


@dataclass(frozen=True)
class Ramp(Segment):
    """Linear ramp from ``start`` (first sample) towards ``stop`` (reached at the end)."""

    start: Num = 0.0
    stop: Num = 0.0

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        start = np.asarray(v["start"], dtype=float)
        return start + (np.asarray(v["stop"], dtype=float) - start) * (t / dur)

    def linear(self, v: Mapping[str, Any], n: int) -> tuple[Any, Any]:
        return v["start"], (v["stop"] - v["start"]) / n


def _envelope(shape: str, sigma: Any, t: Array, dur: Array) -> Array | float:
    if shape == "rect":
        return 1.0
    if shape == "gauss":
        return np.exp(-0.5 * ((t - dur / 2) / (sigma * dur)) ** 2)
    if shape == "cosine":
        return 0.5 * (1 - np.cos(2 * np.pi * t / dur))
    raise SequencerError(f"unknown envelope {shape!r}; use 'rect', 'gauss' or 'cosine'")


@dataclass(frozen=True)
class Burst(Segment):
    """``offset + amplitude * envelope(t) * sin(2π f t_prog + phase + Z)``; phase in rad.

    ``t_prog`` is program time and ``Z`` the lane's virtual-Z frame (module docstring): the
    carrier is continuous across segments, blocks and sweep points. ``envelope(t)`` uses the
    time from the burst's start: ``rect``; ``gauss`` (centred, σ = ``sigma`` × duration);
    ``cosine`` (raised cosine). After the burst the lane rests at ``offset``. For an IQ pair
    use :func:`dotstack.sequencer.iq_burst` / :func:`dotstack.sequencer.iq_pair`.
    """

    frequency: Num = 0.0
    amplitude: Num = 0.0
    phase: Num = 0.0
    offset: Num = 0.0
    envelope: Envelope = "rect"
    sigma: Num = 0.25
    carrier: ClassVar[bool] = True
    rests_at_offset: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.envelope not in ("rect", "gauss", "cosine"):
            raise SequencerError(f"unknown envelope {self.envelope!r} in {self.describe()}")
        if self.envelope == "gauss" and not isinstance(self.sigma, Param) and self.sigma <= 0:
            raise SequencerError(f"Burst.sigma must be positive, got {self.sigma!r} in "
                                 f"{self.describe()}")

    def check_bound(self, values: Mapping[str, Any], lane: str) -> None:
        if self.envelope == "gauss" and np.any(np.asarray(values["sigma"]) <= 0):
            raise SequencerError(f"Burst.sigma must be positive (swept values include "
                                 f"{float(np.min(values['sigma']))!r}) in {self.describe()} "
                                 f"on lane {lane!r}")

    def duration_independent(self) -> bool:
        return self.envelope == "rect"

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        env = _envelope(self.envelope, v.get("sigma"), t, dur)
        carrier = np.sin(2 * np.pi * v["frequency"] * t + v["phase"])
        return v["offset"] + v["amplitude"] * env * carrier


@dataclass(frozen=True)
class Chirp(Segment):
    """Linear chirp ``offset + amplitude * sin(2π (f0 t + (f1 - f0) t² / 2T) + phase)``.

    ``t`` from the chirp's start (its phase does not follow program time or virtual Z);
    after it the lane rests at ``offset``."""

    f_start: Num = 0.0
    f_stop: Num = 0.0
    amplitude: Num = 0.0
    phase: Num = 0.0
    offset: Num = 0.0
    rests_at_offset: ClassVar[bool] = True

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        f0 = v["f_start"]
        ph = 2 * np.pi * (f0 * t + (v["f_stop"] - f0) * t * t / (2 * dur)) + v["phase"]
        return v["offset"] + v["amplitude"] * np.sin(ph)


@dataclass(frozen=True)
class Arbitrary(Segment):
    """``offset + amplitude * f(t, duration)`` with ``f`` a registered vectorised function."""

    function: str = ""
    amplitude: Num = 1.0
    offset: Num = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.function, str):
            object.__setattr__(self, "function", function_name(self.function))
        get_function(self.function)

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        out = get_function(self.function)(np.broadcast_to(t, np.broadcast(t, dur).shape), dur)
        return v["offset"] + v["amplitude"] * np.asarray(out, dtype=float)


@dataclass(frozen=True)
class Marker(Segment):
    """Digital marker level (``state`` 0 or 1) for ``duration``; on marker lanes only."""

    state: int = 1
    kind: ClassVar[str] = "marker"
    constant: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        state = int(bool(self.state)) if is_bool(self.state) else count(
            self.state, "Marker.state", minimum=0)
        if state not in (0, 1):
            raise SequencerError(f"marker state must be 0 or 1, got {self.state!r}")
        object.__setattr__(self, "state", state)

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        return np.full(np.broadcast(t, dur).shape, float(self.state))


@dataclass(frozen=True)
class Acquire(Segment):
    """Acquisition window ``name`` for ``duration``; placed on a digitizer-channel lane.

    ``single_shot``: the digitizer returns every shot's value (the record integrated, i.e.
    averaged, over the window) instead of averaging shots. ``threshold`` (V, a number or a
    :class:`Param`): also classify each shot, True when its value exceeds the threshold;
    a threshold implies ``single_shot``. Both reach the digitizer through
    :class:`dotstack.sequencer.AcquisitionProgram` (``record_single_shot``,
    ``record_threshold``, ``integrate``, ``classify``).
    """

    name: str = "signal"
    threshold: Num | None = None
    single_shot: bool = False
    kind: ClassVar[str] = "acquire"
    constant: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.name, str) or not self.name:
            raise SequencerError(f"Acquire.name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "single_shot", flag(self.single_shot, "Acquire.single_shot"))
        if self.threshold is not None and not isinstance(self.threshold, Param):
            object.__setattr__(self, "threshold", real(self.threshold, "Acquire.threshold"))
        if self.threshold is not None:
            object.__setattr__(self, "single_shot", True)

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        return np.zeros(np.broadcast(t, dur).shape)


@dataclass(frozen=True)
class Gap(Segment):
    """Idle time on any lane: analog lanes hold their last value, markers stay low."""

    kind: ClassVar[str] = "gap"
    constant: ClassVar[bool] = True

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        raise SequencerError("Gap has no samples of its own")  # compile pads instead


@dataclass(frozen=True)
class PhaseShift(Segment):
    """Virtual Z: advance the lane's carrier phase by ``phase`` rad for every later
    :class:`Burst` on the lane in this sweep point. Takes no time (``duration`` must be 0);
    allowed on analog lanes (and lanes holding nothing else). Build it with
    :func:`dotstack.sequencer.phase_shift` (a block) or place ``PhaseShift(phase=...)`` in a
    lane's segment list."""

    duration: Num = 0.0
    phase: Num = 0.0
    kind: ClassVar[str] = "gap"  # (takes no time and produces no samples)
    constant: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.duration, Param) or self.duration != 0.0:
            raise SequencerError(f"PhaseShift takes no time: duration must be 0, got "
                                 f"{self.duration!r}")

    def sample(self, v: Mapping[str, Any], t: Array, dur: Array) -> Array:
        raise SequencerError("PhaseShift has no samples")  # zero duration: never sampled


SEGMENT_TYPES: dict[str, type[Segment]] = {
    c.__name__: c for c in (Hold, Ramp, Burst, Chirp, Arbitrary, Marker, Acquire, Gap,
                            PhaseShift)
}

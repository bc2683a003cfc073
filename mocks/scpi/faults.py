"""Fault injection: a plan of what goes wrong, on which mock instrument, and when.

A `Fault` names its ``kind``, its ``instrument`` (the mock lab's name: ``qdac``, ``dmm``...) and
when it fires.  The instrument counts the messages the fault applies to (those matching
``match``, a case-insensitive regular expression searched in the message text; for the reply
faults ``timeout``, ``garble`` and ``slow`` only queries count, since a write has no reply).
The fault fires on the ``at``-th counted message (1: the first), or, with ``probability``, on
each counted message from the ``at``-th on with that probability (seeded: the same plan and the
same commands fire at the same message).  Once fired it affects ``count`` counted messages in a
row (None: every later one, an instrument that stays broken); it fires once.

Kinds, as the instrument behaves:

- ``timeout``: the query is not executed and gets no reply (the client's read times out).
- ``drop``: the instrument closes the connection instead of executing the message (served: the
  socket is closed; in process: `ConnectionDropped` is raised to the caller).
- ``garble``: the query runs, but the first quarter (at least one byte) of its reply is replaced
  by line noise (``#%&@!~^``), so the reply no longer parses.  A corruption that still parses
  (a digit for a digit) cannot be told from a good reply by any client and is not simulated.
- ``error``: the instrument refuses the message: it is not executed and ``code`` (an SCPI error,
  default -300 Device-specific error) goes onto the error queue, naming the header; a query gets
  no reply.
- ``reset``: the instrument resets (``*RST``: every setting to its power-on default; the
  QDAC-II's outputs step to 0 V), then executes the message as usual.
- ``slow``: the query runs, and its reply leaves ``delay`` s later, waited on the instrument's
  lab clock (virtual: lab time moves on, no wall time passes; realtime: the wall clock).

`FaultInjector` is the per-instrument state a plan becomes (`ScpiModel.faults`); its ``fired``
list records every fault that fired: kind, the message it hit and the lab time.
"""

from __future__ import annotations

import math
import numbers
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dotstack.mocks.scpi.errors import STANDARD_MESSAGES

if TYPE_CHECKING:
    from dotstack.mocks.scpi.model import ScpiModel

#: every fault kind (see the module docstring)
KINDS: tuple[str, ...] = ("timeout", "drop", "garble", "error", "reset", "slow")
#: kinds that act on a reply: only queries are counted for them
REPLY_KINDS = frozenset({"timeout", "garble", "slow"})
_NOISE = b"#%&@!~^"
_FIELDS = ("kind", "instrument", "at", "match", "probability", "count", "delay", "code")


class ConnectionDropped(ConnectionResetError):
    """The instrument closed the connection (a ``drop`` fault)."""


def _int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what}: must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{what}: must be >= {minimum}, got {value!r}")
    return int(value)


def _float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what}: must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what}: must be finite, got {value!r}")
    return number


@dataclass(frozen=True)
class Fault:
    """One fault: ``kind`` on ``instrument``, fired on the ``at``-th counted message (see the
    module docstring); ``delay`` (s, lab time) for ``slow``, ``code`` for ``error``."""

    kind: str
    instrument: str
    at: int = 1
    match: str | None = None
    probability: float | None = None
    count: int | None = 1
    delay: float = 0.0
    code: int = -300

    def __post_init__(self) -> None:
        where = f"fault {self.kind!r} on {self.instrument!r}"
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r}: must be one of {', '.join(KINDS)}")
        if not isinstance(self.instrument, str) or not self.instrument:
            raise ValueError(f"fault {self.kind!r}: instrument must be a name, got "
                             f"{self.instrument!r}")
        object.__setattr__(self, "at", _int(self.at, f"{where}: at", 1))
        if self.count is not None:
            object.__setattr__(self, "count", _int(self.count, f"{where}: count", 1))
        if self.match is not None:
            if not isinstance(self.match, str):
                raise ValueError(f"{where}: match must be a regular expression, got {self.match!r}")
            try:
                re.compile(self.match)
            except re.error as exc:
                raise ValueError(f"{where}: match {self.match!r} is not a regular expression "
                                 f"({exc})") from None
        if self.probability is not None:
            p = _float(self.probability, f"{where}: probability")
            if not 0 < p <= 1:
                raise ValueError(f"{where}: probability must be in (0, 1], got {p}")
            object.__setattr__(self, "probability", p)
        delay = _float(self.delay, f"{where}: delay")
        if delay < 0 or (self.kind == "slow" and delay <= 0):
            raise ValueError(f"{where}: delay must be > 0 s, got {self.delay!r}")
        object.__setattr__(self, "delay", delay)
        code = self.code
        if isinstance(code, bool) or not isinstance(code, numbers.Integral) \
                or not -499 <= int(code) <= -100:
            raise ValueError(f"{where}: code must be an SCPI error code -499..-100, got {code!r}")
        object.__setattr__(self, "code", int(code))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, instrument: str | None = None) -> Fault:
        """A fault from a mapping (a station file's ``dotstack.mock.faults`` entry)."""
        unknown = sorted(set(doc) - set(_FIELDS))
        if unknown:
            raise ValueError(f"fault: unknown key(s) {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(_FIELDS)})")
        values = dict(doc)
        if instrument is not None:
            values.setdefault("instrument", instrument)
        if "kind" not in values or "instrument" not in values:
            raise ValueError(f"fault {dict(doc)!r}: needs a kind and an instrument")
        return cls(**values)

    def counts(self, message: str) -> bool:
        """Whether ``message`` is one this fault counts."""
        if self.kind in REPLY_KINDS and "?" not in message:
            return False
        return self.match is None or re.search(self.match, message, re.IGNORECASE) is not None


@dataclass(frozen=True)
class FaultPlan:
    """The faults of a mock lab and the seed of their random draws."""

    faults: tuple[Fault, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "faults", tuple(self.faults))
        for fault in self.faults:
            if not isinstance(fault, Fault):
                raise ValueError(f"fault plan: {fault!r} is not a Fault")
        object.__setattr__(self, "seed", _int(self.seed, "fault plan: seed", 0))

    @classmethod
    def of(cls, *faults: Fault, seed: int = 0) -> FaultPlan:
        return cls(tuple(faults), seed)

    @property
    def instruments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.instrument for f in self.faults))

    def injector(self, instrument: str, now: Callable[[], float] | None = None) -> FaultInjector:
        """The injector of ``instrument``'s faults (lab time from ``now``, for the record)."""
        picked = [(i, f) for i, f in enumerate(self.faults) if f.instrument == instrument]
        return FaultInjector(picked, self.seed, now)


@dataclass(frozen=True)
class FiredFault:
    """A fault that fired: its kind, the instrument, the message it hit and the lab time."""

    kind: str
    instrument: str
    command: str
    lab_time: float | None
    fault: Fault = field(repr=False)


class _State:
    __slots__ = ("counted", "fault", "index", "left", "rng", "spent")

    def __init__(self, index: int, fault: Fault, seed: int) -> None:
        self.index, self.fault = index, fault
        self.counted = 0
        self.left = 0  # messages still affected (-1: forever)
        self.spent = False
        self.rng = random.Random(seed * 1_000_003 + index)


class FaultInjector:
    """The faults of one instrument: decides, message by message, which fault (if any) acts."""

    def __init__(self, faults: Iterable[tuple[int, Fault]], seed: int = 0,
                 now: Callable[[], float] | None = None) -> None:
        self._states = [_State(i, f, seed) for i, f in faults]
        self._now = now
        self._lock = threading.Lock()
        self.fired: list[FiredFault] = []
        self.messages = 0  # messages seen (a fault-free plan measures a run's traffic)
        self.queries = 0

    def decide(self, message: bytes) -> Fault | None:
        """Count ``message`` for every fault; the fault that acts on it, or None."""
        text = message[:200].decode("latin-1")
        acting: Fault | None = None
        with self._lock:
            self.messages += 1
            self.queries += "?" in text
            for s in self._states:
                f = s.fault
                if not f.counts(text):
                    continue
                s.counted += 1
                if s.left:  # an episode under way
                    s.left -= 1 if s.left > 0 else 0
                    acting = acting or f
                    continue
                if s.spent or s.counted < f.at:
                    continue
                if f.probability is not None and s.rng.random() >= f.probability:
                    continue
                s.spent = True
                s.left = -1 if f.count is None else f.count - 1
                if acting is None:
                    acting = f
                    t = None if self._now is None else self._now()
                    self.fired.append(FiredFault(f.kind, f.instrument, text, t, f))
        return acting


def apply(model: ScpiModel, fault: Fault, message: bytes,
          execute: Callable[[bytes], bytes | None]) -> bytes | None:
    """What the instrument does with ``message`` under ``fault`` (``execute`` runs it)."""
    kind = fault.kind
    if kind == "timeout":
        return None
    if kind == "drop":
        raise ConnectionDropped(f"{fault.instrument}: connection closed by the instrument")
    if kind == "error":
        header = message.split(b";", 1)[0].split(b" ", 1)[0][:40].decode("latin-1")
        text = STANDARD_MESSAGES.get(fault.code, "Error")
        model.push_error(fault.code, f"{text};refused {header}")
        return None
    if kind == "reset":
        with model.lock:
            model.reset()
        return execute(message)
    reply = execute(message)
    if kind == "garble":
        if reply is None:
            return None
        return _garble(reply)
    # slow: the reply leaves `delay` s later, on the instrument's lab clock if it has one
    clock = getattr(model, "clock", None)
    if clock is not None:
        clock.sleep(fault.delay)
    else:
        time.sleep(fault.delay)
    return reply


def _garble(reply: bytes) -> bytes:
    n = max(1, len(reply) // 4)
    noise = bytes(_NOISE[i % len(_NOISE)] for i in range(n))
    return noise + reply[n:]

"""Ctrl-C during a run: the first aborts it, the next ones never leave gates half-way.

`InterruptGuard` is installed for a whole run.  The first Ctrl-C raises `KeyboardInterrupt` as
usual (the run ends ``aborted``) and, in the same handler, puts the guard into *restoring* mode,
so no later press can fall between the abort and the restoring of the gates.  While restoring,
a second Ctrl-C is acknowledged and deferred; a third prints where every gate is and then lets
the interrupt through: a user can always get out, but never without being told which gates
were left where.  Outside the main thread (no signal handlers) the guard does nothing.

`GateKeeper` knows where the run's gates are and brings them back.  "Safe" after a run means:
every touched gate back at its start value through the DAC's safe path (limits, ramp rate),
or, where that fails (the DAC itself being the faulty instrument), an error that says so and
lists every gate's position as far as known (last confirmed value, or the interval a failed
move left it in).  A DAC reset mid-run puts its outputs to their power-on state (QDAC-II: 0 V)
at once, without a ramp: no software can prevent that step, and 0 V is only safe for a gate
whose limits include it.  The keeper detects the reset (`verify`, on the held gates) and the
restore then ramps the gates from their reset values back to their start values.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from dotstack.station import Gate

#: Ctrl-C presses (counting the one that aborted the run) before the exit is forced.
FORCE_AT = 3


class InterruptGuard:
    """SIGINT handling for one run; use as a context manager around the run and its cleanup."""

    def __init__(self, where: Callable[[], str], *, stream: TextIO | None = None) -> None:
        self.where = where
        self.stream = stream
        self.presses = 0
        self.restoring = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _say(self, text: str) -> None:
        print(text, file=self.stream if self.stream is not None else sys.stderr, flush=True)

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        self.presses += 1
        if not self.restoring:  # the run itself: abort it, and guard what follows
            self.restoring = True
            raise KeyboardInterrupt
        if self.presses < FORCE_AT:
            self._say("\nCtrl-C: making the gates safe first (press again to force exit)")
            return
        self._say(f"\nCtrl-C again: exiting with the gates as they are: {self.where()}")
        raise KeyboardInterrupt


#: read-back distance (V) from the expected value at which a held gate counts as moved
HELD_TOLERANCE = 1e-4


class GateChanged(RuntimeError):
    """A gate the run holds is no longer where the run put it (an instrument reset, another
    client): the points since the last check may not be what the run records."""


class GatesNotRestored(RuntimeError):
    """Restoring the gates after a run failed; the message says which gates are where."""


class GateKeeper:
    """The gates one run touches: where they started, where they are as far as known, and the
    way back.

    Every move goes through `set`, so a failed move leaves the gate *unknown, between* its last
    confirmed value and the target.  `verify` reads the held gates back (a DAC that was reset
    puts its outputs to their power-on 0 V: caught there).  `restore` ramps each gate back to its
    start value through the DAC's safe path; a DAC that fails is reconnected once (if it can)
    and tried again, and one that fails twice is given up, its gates reported as left.
    """

    def __init__(self, gates: Sequence[Gate], start: Mapping[str, float] | None = None,
                 *, others: Sequence[Gate] = (), others_start: Mapping[str, float] | None = None
                 ) -> None:
        """``start``: the gates' start values (default: read from them now).  ``others``: gates
        the run does not move (``others_start``: their values); `restore` reads them back and
        returns any that moved (a DAC reset moves every output) to where they were."""
        self.gates = list(gates)
        self.start = {g.name: (g.get() if start is None else float(start[g.name]))
                      for g in self.gates}
        self.others = [g for g in others if g.name not in self.start]
        self.others_start = {g.name: (g.get() if others_start is None
                                      else float(others_start[g.name])) for g in self.others}
        self.known: dict[str, float] = dict(self.start)  # last confirmed value
        self.between: dict[str, tuple[float, float]] = {}  # unknown: a move went wrong

    def set(self, gate: Gate, volts: float) -> None:
        """Move ``gate`` safely; while the move is under way (or if it fails) it is unknown."""
        last = self.known.pop(gate.name, None)
        self.between[gate.name] = (volts if last is None else last, volts)
        gate.set(volts)
        self.between.pop(gate.name, None)
        self.known[gate.name] = volts

    def unknown(self, gate: Gate, low: float, high: float) -> None:
        """``gate`` is somewhere in [low, high] (e.g. a DAC list played on it)."""
        self.known.pop(gate.name, None)
        self.between[gate.name] = (low, high)

    def verify(self, held: Sequence[Gate]) -> None:
        """Read every gate of ``held`` back; `GateChanged` if one is not where it was put."""
        for gate in held:
            expected = self.known.get(gate.name)
            if expected is None:
                continue
            present = gate.get()
            if abs(present - expected) > HELD_TOLERANCE:
                self.known[gate.name] = present
                raise GateChanged(
                    f"{_dac_name(gate)}: {_last_command(gate)!r} -> gate {gate.name} "
                    f"(ch{gate.channel:02}) reads {present:+.6g} V, the run set it to "
                    f"{expected:+.6g} V: changed outside the run (instrument reset?)")

    def where(self) -> str:
        """Every touched gate's position, as far as known."""
        parts = []
        for gate in self.gates:
            if gate.name in self.known:
                parts.append(f"{gate.name} {self.known[gate.name]:+.6g} V")
            else:
                lo, hi = sorted(self.between.get(gate.name, (math.nan, math.nan)))
                parts.append(f"{gate.name} {lo:+.6g} V unconfirmed" if lo == hi else
                             f"{gate.name} unknown (between {lo:+.6g} and {hi:+.6g} V)")
        return ", ".join(parts)

    def restore(self) -> None:
        """Ramp every gate back to its start value; `GatesNotRestored` naming the gates that
        are not, where they are as far as known, and why."""
        errors: dict[str, str] = {}
        given_up: dict[int, str] = {}  # id(dac) -> why
        for gate in self.gates:
            self._restore_one(gate, self.start[gate.name], errors, given_up)
        self._put_back_moved(errors, given_up)
        if not errors:  # once more: a reset during the restore undoes what came before it
            self._put_back_moved(errors, given_up, everything=True)
        if errors:
            raise GatesNotRestored(
                "gates NOT all restored to their start values; as far as known: " + self.where()
                + "; " + "; ".join(f"{name}: {why}" for name, why in errors.items()))

    def _put_back_moved(self, errors: dict[str, str], given_up: dict[int, str], *,
                        everything: bool = False) -> None:
        """Read back the gates not restored yet (``everything``: all of them); put back any
        that is not at its start value."""
        todo = [*self.gates, *self.others] if everything else list(self.others)
        for gate in todo:
            if id(gate.dac) in given_up:
                continue
            want = self.start.get(gate.name, self.others_start.get(gate.name, math.nan))
            try:
                present = gate.get()
            except Exception:  # the DAC answered the restore but not this: try to restore
                present = math.nan
            if not abs(present - want) <= HELD_TOLERANCE:
                self._say(f"gate {gate.name} reads {present:+.6g} V, was {want:+.6g} V before "
                          "the run: ramping it back")
                if gate.name not in self.start:
                    self.gates.append(gate)
                    self.start[gate.name] = want
                if math.isfinite(present):
                    self.known[gate.name] = present
                self._restore_one(gate, want, errors, given_up)

    def _restore_one(self, gate: Gate, volts: float, errors: dict[str, str],
                     given_up: dict[int, str]) -> None:
        dac = gate.dac
        if id(dac) in given_up:
            errors[gate.name] = f"skipped ({given_up[id(dac)]})"
            return
        for attempt in (1, 2):
            try:
                self.set(gate, volts)
                return
            except Exception as exc:  # the DAC itself may be what failed
                reconnect = getattr(dac, "reconnect", None)
                if attempt == 1 and reconnect is not None:
                    self._say(f"restoring {gate.name}: {exc}; reconnecting to "
                              f"{_dac_name(gate)} and trying again")
                    with contextlib.suppress(Exception):
                        reconnect()
                    continue
                errors[gate.name] = str(exc)
                if not isinstance(exc, ValueError):  # limits refuse one gate, not the DAC
                    given_up[id(dac)] = f"{_dac_name(gate)} does not respond"

    @staticmethod
    def _say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def final_values(self) -> dict[str, Any]:
        """Where every touched gate is, as far as known (for the run's record)."""
        out: dict[str, Any] = dict(self.known)
        out.update({name: {"between": sorted(pair)} for name, pair in self.between.items()})
        return out


def _dac_name(gate: Gate) -> str:
    return str(getattr(gate.dac, "name", type(gate.dac).__name__))


def _last_command(gate: Gate) -> str:
    return str(getattr(gate.dac, "last_command", "") or f"get_voltage({gate.channel})")

"""`AwgBase`: the AWG5208 mock's state, lab clock, run control, triggers and marker outputs.

Lab time: every message keeps the instrument busy for ``command_time`` plus ``byte_time`` per
byte (an upload takes its transfer time); a query is answered once everything before it is
done (what ``*OPC?`` relies on), and RUN, STOP and TRIGger act at the lab time their message
is done.  Both only on a virtual clock.  Channel ``n``'s marker ``k`` is the trigger-cabling
port ``<name>.marker<k>`` for channel 1 and ``<name>.ch<n>_marker<k>`` for the others; the
external trigger inputs are ``<name>.trigA`` and ``<name>.trigB``.  A marker pulses on the
lab's cabling at the lab time of each rising edge of the played stream (scheduled on the
clock, one pending edge per marker), if the channel's output is on and its resolution leaves
room for that marker (16 bits: none, 12 bits: four).
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque

import numpy as np

from dotstack.mocks.instruments.awg5208 import limits
from dotstack.mocks.instruments.awg5208.markers import next_edge
from dotstack.mocks.instruments.awg5208.output import ChannelView, Run, Scaling, Segment
from dotstack.mocks.instruments.awg5208.state import Channel, Sequence, Step, Waveform
from dotstack.mocks.instruments.awg5208.timeline import PlaybackError, Player
from dotstack.mocks.physics import VirtualLab
from dotstack.mocks.physics.clock import Event, LabClock, VirtualClock
from dotstack.mocks.scpi import ScpiError, ScpiModel
from dotstack.mocks.scpi.call import Call
from dotstack.mocks.scpi.router import Route

_SPECIAL = re.compile(rb"[\"'#]")


def split_after_blocks(message: bytes) -> list[bytes]:
    """Split ``message`` where a definite-length block is directly followed by more text.

    QCoDeS sends ``MMEMory:DATA "f",#<n><len><data>`` without a terminator (on VXI-11 the END
    flag ends the message); on a raw socket the next command follows the block directly.  As
    the instrument does, a block that is not followed by ``;``, ``,`` or white space ends its
    message.
    """
    if b"#" not in message:
        return [message]
    out: list[bytes] = []
    start, i, n = 0, 0, len(message)
    while True:
        m = _SPECIAL.search(message, i)
        if m is None:
            break
        i = m.start()
        if message[i] != 0x23:  # a quote: skip to its end
            close = message.find(message[i:i + 1], i + 1)
            if close < 0:
                break
            i = close + 1
            continue
        nd = message[i + 1] - 0x30 if i + 1 < n else 0
        digits = message[i + 2:i + 2 + nd]
        if not 1 <= nd <= 9 or len(digits) < nd or not digits.isdigit():
            i += 1
            continue
        end = i + 2 + nd + int(digits)
        if end < n and message[end] not in b"; \t\r\n,":
            out.append(message[start:end])
            start = end
        i = end
    out.append(message[start:])
    return out


class AwgBase(ScpiModel):
    """State and plumbing shared by the command groups of the AWG5208 model."""

    idn = ("TEKTRONIX", "AWG5208", "B020000", "FV:6.6.0042.0")
    max_message_bytes = limits.MAX_MESSAGE_BYTES

    def __init__(self, lab: VirtualLab | None = None, *, name: str = "awg") -> None:
        super().__init__()
        self.lab = lab
        self.name = name
        self.clock: LabClock = lab.clock if lab is not None else VirtualClock()
        self.lock = self.clock.lock
        #: lab time per message and per byte received (virtual clock only), s
        self.command_time = 0.0
        self.byte_time = limits.BYTE_TIME
        self.log: deque[str] = deque(maxlen=1000)  # the last messages (first 200 characters)
        self.counts: Counter[str] = Counter()  # commands executed, by manual pattern
        self.bytes_received = 0
        self.files: dict[str, tuple[str, bytes]] = {}  # the disk: key -> (path, contents)
        self.marker_pulses: deque[tuple[float, str]] = deque(maxlen=10000)
        self._busy_until = 0.0
        self._marker_events: dict[tuple[int, int], Event] = {}
        self._init_state()
        if lab is not None:
            lab.add_trigger_input(f"{name}.trigA", lambda t: self.trigger("A", t))
            lab.add_trigger_input(f"{name}.trigB", lambda t: self.trigger("B", t))

    def _init_state(self) -> None:
        t = self.clock.now()
        self.waveforms: dict[str, Waveform] = {}
        self.sequences: dict[str, Sequence] = {}
        self.channels = {n: Channel(n) for n in range(1, limits.N_CHANNELS + 1)}
        self.sample_rate = limits.MAX_SAMPLE_RATE
        self.clock_source, self.ext_clock = "INT", 6.25e9
        self.mode, self.all_off = "AWG", False
        self.cwd = limits.DEFAULT_DIRECTORY
        self.last_opened_sequence = ""
        self.running = False
        self.run_started: float | None = None
        self.players: dict[str, Player] = {}
        self.runs: dict[int, list[Run]] = {n: [] for n in self.channels}
        self.scaling_log: dict[int, list[tuple[float, Scaling]]] = {
            n: [(t, self._scaling(c))] for n, c in self.channels.items()}

    # -- messages and lab time -----------------------------------------------------------
    def handle(self, message: bytes) -> bytes | None:
        parts = split_after_blocks(message)
        if len(parts) == 1:
            return self._handle_one(message)
        replies = [r for r in (self._handle_one(p) for p in parts) if r is not None]
        return b";".join(replies) if replies else None

    def _handle_one(self, message: bytes) -> bytes | None:
        with self.lock:
            self.clock.catch_up()
            self.log.append(message[:200].decode("latin-1"))
            self.bytes_received += len(message)
            if self.clock.mode == "virtual":
                start = max(self.clock.now(), self._busy_until)
                self._busy_until = start + self.command_time + len(message) * self.byte_time
                if b"?" in message:  # a query answers once everything before it is done
                    self.clock.wait_until(self._busy_until)
            return super().handle(message)

    def _call(self, route: Route, call: Call) -> bytes | None:
        self.counts[route.pattern] += 1
        return super()._call(route, call)

    def now(self) -> float:
        return self.clock.now()

    def t_exec(self) -> float:
        """Lab time at which the message being handled is done."""
        return max(self.clock.now(), self._busy_until) if self.clock.mode == "virtual" \
            else self.clock.now()

    def reset(self) -> None:
        """*RST: settings to defaults, run stopped, waveform and sequence lists cleared."""
        with self.lock:
            if self.running:
                self._stop(self.t_exec())
            runs, logs = self.runs, self.scaling_log
            self._init_state()
            t = self.t_exec()
            self.runs = runs
            for n, c in self.channels.items():
                self.runs[n].append(Run(t, None))
                logs[n].append((t, self._scaling(c)))
            self.scaling_log = logs
            super().reset()

    # -- channel settings ----------------------------------------------------------------
    def _scaling(self, c: Channel) -> Scaling:
        return Scaling(c.amplitude, c.offset, c.resolution, c.output and not self.all_off, c.hold)

    def settings_changed(self, channels: list[int] | None = None) -> None:
        """Log the output settings of ``channels`` (all if None) from the present message on."""
        t = self.t_exec()
        for n in channels or list(self.channels):
            new = self._scaling(self.channels[n])
            log = self.scaling_log[n]
            if log[-1][1] != new:
                log.append((t, new))
        if self.running:
            self._schedule_markers(t)

    # -- assets in use -------------------------------------------------------------------
    def in_use(self, name: str) -> bool:
        """True if a running sequence or waveform asset uses ``name``."""
        return self.running and any(name in p.names for p in self.players.values())

    def editing(self, name: str) -> None:
        """Changing a waveform or sequence a run uses stops the run first."""
        if self.in_use(name):
            self._stop(self.t_exec())

    # -- run control ---------------------------------------------------------------------
    def _player(self, seq: Sequence, t: float) -> Player:
        waves: list[list[Waveform]] = []
        for s, step in enumerate(seq.steps, start=1):
            if any(k == "SEQ" for k, a in zip(step.kinds, step.assets, strict=False) if a):
                raise PlaybackError(f"{seq.name} step {s}: subsequences are not supported")
            row = [self.waveforms.get(a) if a else None for a in step.assets]
            known = [w for w in row if w is not None]
            missing = [a for a, w in zip(step.assets, row, strict=True) if a and w is None]
            if missing or not known:
                raise PlaybackError(f"{seq.name} step {s}: no waveform {missing or 'assigned'}")
            n = len(known[0])
            if any(len(w) != n for w in known):
                raise PlaybackError(f"{seq.name} step {s}: track lengths differ")
            if n < limits.MIN_WAVEFORM_LENGTH:
                raise PlaybackError(f"{seq.name} step {s}: {n} samples < "
                                    f"{limits.MIN_WAVEFORM_LENGTH}")
            waves.append([w if w is not None else Waveform.empty("", n) for w in row])
        return Player(seq, waves, self.sample_rate, t)

    def _start(self, t: float) -> None:
        if self.running:
            return
        players: dict[tuple[str, str], Player] = {}
        assigned: dict[int, tuple[Player, int] | None] = {}
        try:
            for n, c in self.channels.items():
                if c.asset is None:
                    assigned[n] = None
                    continue
                kind, name, track = c.asset
                key = (kind, name)
                if key not in players:
                    if kind == "SEQ":
                        players[key] = self._player(self.sequences[name], t)
                    else:
                        loop = Sequence(name, 1, [Step([name], repeat=0)])
                        players[key] = self._player(loop, t)
                assigned[n] = (players[key], max(track - 1, 0))
        except (PlaybackError, KeyError) as exc:
            raise ScpiError(-200, "Execution error", str(exc)) from None
        for n, a in assigned.items():
            self.runs[n].append(Run(t, *a) if a else Run(t, None))
        self.players = {f"{k}:{n}": p for (k, n), p in players.items()}
        self.running, self.run_started = True, t
        self._schedule_markers(t - 0.5 / self.sample_rate)

    def _stop(self, t: float) -> None:
        if not self.running:
            return
        for p in self.players.values():
            p.stop(t)
        self.running = False
        self._cancel_markers()

    def run_state(self, t: float | None = None) -> int:
        """0 stopped, 1 waiting for a trigger, 2 running (at lab time ``t``, default now)."""
        with self.lock:
            self.clock.catch_up()
            if not self.running:
                return 0
            when = self.clock.now() if t is None else t
            return 1 if any(p.waiting(when) for p in self.players.values()) else 2

    def trigger(self, source: str, t: float | None = None) -> None:
        """A trigger on input ``source`` ("A", "B", "I") at lab time ``t`` (default now)."""
        with self.lock:
            when = self.clock.now() if t is None else float(t)
            if when > self.clock.now():
                self.clock.schedule(when, lambda at: self.trigger(source, at), f"{self.name} trig")
                return
            if not self.running:
                return
            if any([p.trigger(source, when) for p in self.players.values()]):
                self._schedule_markers(when - 0.5 / self.sample_rate)

    def force_jump(self, target: int | str, t: float) -> None:
        if self.running and any([p.force_jump(target, t) for p in self.players.values()]):
            self._schedule_markers(t - 0.5 / self.sample_rate)

    # -- markers -------------------------------------------------------------------------
    def marker_port(self, channel: int, marker: int) -> str:
        return f"{self.name}.marker{marker}" if channel == 1 else \
            f"{self.name}.ch{channel}_marker{marker}"

    def _cancel_markers(self) -> None:
        for ev in self._marker_events.values():
            ev.cancel()
        self._marker_events.clear()

    def _schedule_markers(self, after: float) -> None:
        self._cancel_markers()
        if not self.running:
            return
        for n, c in self.channels.items():
            run = self.runs[n][-1] if self.runs[n] else None
            if run is None or run.player is None or not (c.output and not self.all_off):
                continue
            mask = run.player.marker_mask(run.track)
            for k in range(1, c.n_markers + 1):
                if mask >> (k - 1) & 1:
                    self._next_marker(n, k, after)

    def _next_marker(self, n: int, k: int, after: float) -> None:
        run = self.runs[n][-1]
        assert run.player is not None
        c = self.channels[n]
        t = next_edge(run.player, run.track, k - 1, c.marker_wait[k - 1], after)
        if t is None:
            return
        delay = c.marker_delay[k - 1]

        def fire(when: float) -> None:
            self._marker_events.pop((n, k), None)
            self.marker_pulses.append((when, self.marker_port(n, k)))
            if self.lab is not None:
                self.lab.pulse(self.marker_port(n, k), when)
            self._next_marker(n, k, t)

        self._marker_events[(n, k)] = self.clock.schedule(t + delay, fire, self.marker_port(n, k))

    # -- what the channels play (for tests and the time-domain lab) ----------------------
    def view(self, channel: int) -> ChannelView:
        return ChannelView(self.runs[channel], self.scaling_log[channel])

    def output(self, channel: int, times: np.typing.ArrayLike) -> np.ndarray:
        """Volts at the output of ``channel`` at lab times ``times`` (vectorised)."""
        with self.lock:
            self.clock.catch_up()
            return self.view(channel).values(times)

    def segments(self, channel: int, t0: float | None = None,
                 t1: float | None = None) -> list[Segment]:
        """The played stream of ``channel`` over [t0, t1) (default: from the last run's start
        to now) as `Segment` (start lab time, volts, repeat count, sample rate; a hold is one
        sample).  An endless sequence needs a finite ``t1``."""
        with self.lock:
            self.clock.catch_up()
            start = t0 if t0 is not None else (self.run_started or 0.0)
            end = t1 if t1 is not None else self.clock.now()
            return self.view(channel).segments(start, max(end, start))

    def channel_segments(self, channel: int, t0: float, t1: float
                         ) -> list[tuple[float, np.ndarray, float]]:
        """(lab time, volts, sample rate) pieces tiling [t0, t1) for the time-domain lab:
        repeats expanded; a hold (waiting, stopped, idle) is one sample of rate 1/duration."""
        with self.lock:
            self.clock.catch_up()
            return self.view(channel).pieces(t0, t1)

    def stream(self, channel: int, n_samples: int) -> np.ndarray:
        """The first ``n_samples`` samples (V) the last run played on ``channel``, trigger
        waits left out (what `dotstack.sequencer.render` gives for one pass of a program)."""
        t0 = self.run_started or 0.0
        span = n_samples / self.sample_rate
        while True:
            parts, have = [], 0
            segs = self.segments(channel, t0, t0 + span)
            for seg in segs:
                if seg.kind != "play" or have >= n_samples:
                    continue
                need = -(-(n_samples - have) // len(seg.samples))
                count = int(min(seg.repeat, need))
                parts.append(np.tile(seg.samples, count))
                have += count * len(seg.samples)
            if have >= n_samples or (segs and math.isinf(segs[-1].end)):
                out = np.concatenate(parts) if parts else np.zeros(0)
                return out[:n_samples]
            span *= 2

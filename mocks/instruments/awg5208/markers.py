"""Rising edges of a marker output along a player's timeline.

Marker ``k`` of a track is bit ``k - 1`` of its waveforms' marker bytes.  A rising edge is a
sample whose bit is 1 after a sample (or a hold) whose bit was 0: within a waveform, between
two repetitions (last sample 0, first 1), between steps, and at the start of a wait whose
marker level (``FIRST``: the next step's first bit, ``LOW``, ``HIGH``) is high.  The level is
0 before the run and after STOP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dotstack.mocks.instruments.awg5208.state import Waveform
from dotstack.mocks.instruments.awg5208.timeline import Piece, Player

_TOL = 0.25  # samples: an edge at the time asked about counts as "not after it"


@dataclass(frozen=True)
class Bits:
    """One marker bit of one waveform: rising-edge indices (after sample 0), first, last."""

    rises: npt.NDArray[np.int64]
    first: int
    last: int


_cache: dict[tuple[int, int], tuple[Waveform, Bits]] = {}


def bits(wave: Waveform, bit: int) -> Bits:
    """Edges of marker bit ``bit`` (0-based) of ``wave`` (cached per waveform object)."""
    key = (id(wave), bit)
    hit = _cache.get(key)
    if hit is not None and hit[0] is wave:
        return hit[1]
    m = ((wave.markers >> bit) & 1).astype(np.int8)
    rises = np.flatnonzero(np.diff(m) > 0).astype(np.int64) + 1
    out = Bits(rises, int(m[0]) if len(m) else 0, int(m[-1]) if len(m) else 0)
    if len(_cache) > 4096:
        _cache.clear()
    _cache[key] = (wave, out)
    return out


def _in_play(piece: Piece, b: Bits, prev: int, j_min: int) -> int | None:
    """First edge sample >= ``j_min`` of a play piece (None: none in it)."""
    L, total = piece.length, piece.total
    r, i = divmod(j_min, L)
    reps = total / L
    if r >= reps:
        return None
    if i == 0 and b.first and not (prev if r == 0 else b.last):
        return r * L
    k = int(np.searchsorted(b.rises, max(i, 1)))
    if k < len(b.rises):
        j = r * L + int(b.rises[k])
        return j if j < total else None
    if r + 1 >= reps:
        return None
    if b.first and not b.last:
        return (r + 1) * L
    if len(b.rises):
        j = (r + 1) * L + int(b.rises[0])
        return j if j < total else None
    return None


def _level_after(piece: Piece, wave: Waveform, bit: int, prev: int) -> int:
    """Marker level after the last sample ``piece`` played."""
    if piece.total <= 0:
        return prev
    if math.isinf(piece.total):
        return prev
    return int(wave.markers[int(piece.total - 1) % piece.length] >> bit) & 1


def next_edge(player: Player, track: int, bit: int, wait_level: str, after: float,
              max_pieces: int | None = None) -> float | None:
    """Lab time of the first rising edge of marker ``bit`` on ``track`` after ``after``."""
    rate = player.rate
    i = player.index_at(after)
    if i < 0:
        player.extend(player.t0)
        i, prev = 0, 0
    else:
        prev = level_before(player, track, bit, wait_level, i)
    limit = max_pieces if max_pieces is not None else 2 * len(player.sequence.steps) + 4
    seen = 0
    while seen <= limit:
        if i >= len(player.pieces) and not player.extend_one():
            return None  # open-ended: waiting for a trigger, endless repeat, end or stop
        if i >= len(player.pieces):
            continue
        piece = player.pieces[i]
        if piece.kind == "play" and piece.total > 0:
            wave = player.waves[piece.step][track]
            b = bits(wave, bit)
            x = (after - piece.start) * rate
            j_min = max(0, math.floor(x + _TOL) + 1) if x > -_TOL else 0
            j = _in_play(piece, b, prev, j_min)
            if j is not None:
                return piece.start + j / rate
            prev = _level_after(piece, wave, bit, prev)
            if math.isinf(piece.total):
                return None
        elif piece.kind == "wait":
            level = _wait_level(player, track, bit, wait_level, piece)
            if level and not prev and piece.start > after + _TOL / rate:
                return piece.start
            prev = level
        elif piece.kind == "stop":
            return None
        i += 1
        seen += 1
    return None


def _wait_level(player: Player, track: int, bit: int, mode: str, piece: Piece) -> int:
    if mode == "HIGH":
        return 1
    if mode == "LOW":
        return 0
    return bits(player.waves[piece.step][track], bit).first


def level_before(player: Player, track: int, bit: int, wait_level: str, i: int) -> int:
    """Marker level just before piece ``i`` starts."""
    for piece in reversed(player.pieces[:i]):
        if piece.kind == "play" and piece.total > 0:
            return _level_after(piece, player.waves[piece.step][track], bit, 0)
        if piece.kind == "wait":
            return _wait_level(player, track, bit, wait_level, piece)
        if piece.kind == "stop":
            return 0
    return 0

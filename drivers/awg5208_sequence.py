"""The AWG5208 sequence (SLISt) a compiled program's table becomes, and the commands that
turn what the instrument holds into it (only the differences)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dotstack.sequencer import SequenceTable


@dataclass(frozen=True)
class TableState:
    """A sequence as the instrument holds it: per step the waveform of each track, repeat
    count, trigger wait, goto ("NEXT", "END" or a 1-based step) and event jump ("" or a step)."""

    assets: tuple[tuple[str, ...], ...]
    repeat: tuple[int, ...]
    wait: tuple[bool, ...]
    goto: tuple[str, ...]
    jump: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.assets), len(self.assets[0]) if self.assets else 0

    @classmethod
    def of(cls, table: SequenceTable, names: npt.NDArray[np.object_]) -> TableState:
        """The sequence for ``table`` (``names[i, c]``: waveform of step i, track c).

        A goto of -1 is NEXT, except on the last step, which ENDs (the program plays once).
        """
        n = len(table)
        goto = tuple("END" if g < 0 and i == n - 1 else "NEXT" if g < 0 else str(g + 1)
                     for i, g in enumerate(table.goto.tolist()))
        jump = tuple("" if j < 0 else str(j + 1) for j in table.jump_to.tolist())
        return cls(tuple(tuple(str(x) for x in row) for row in names),
                   tuple(int(r) for r in table.repeat.tolist()),
                   tuple(bool(w) for w in table.trigger_wait.tolist()), goto, jump)

    @classmethod
    def blank(cls, steps: int, tracks: int) -> TableState:
        """What ``SLISt:SEQuence:NEW`` creates."""
        return cls(tuple(("",) * tracks for _ in range(steps)),
                   (1,) * steps, (False,) * steps, ("NEXT",) * steps, ("",) * steps)


def commands(new: TableState, old: TableState, seq: str, trigger_input: str,
             jump_input: str) -> list[str]:
    """Commands that change sequence ``seq`` from ``old`` to ``new`` (same shape)."""
    q = f'"{seq}"'
    out: list[str] = []
    for i in range(new.shape[0]):
        s = f"SLISt:SEQuence:STEP{i + 1}"
        for t, (a, b) in enumerate(zip(new.assets[i], old.assets[i], strict=True)):
            if a != b:
                out.append(f'{s}:TASSet{t + 1}:WAVeform {q},"{a}"')
        if new.repeat[i] != old.repeat[i]:
            out.append(f"{s}:RCOunt {q},{'ONCE' if new.repeat[i] == 1 else new.repeat[i]}")
        if new.wait[i] != old.wait[i]:
            out.append(f"{s}:WINPut {q},{trigger_input if new.wait[i] else 'OFF'}")
        if new.goto[i] != old.goto[i]:
            out.append(f"{s}:GOTO {q},{new.goto[i]}")
        if new.jump[i] != old.jump[i]:
            out.append(f"{s}:EJINput {q},{jump_input if new.jump[i] else 'OFF'}")
            if new.jump[i]:
                out.append(f"{s}:EJUMp {q},{new.jump[i]}")
    return out


def batches(cmds: list[str], max_bytes: int) -> list[str]:
    """Join commands into program messages of at most ``max_bytes`` (``;:`` between units)."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for c in cmds:
        if current and size + len(c) + 2 > max_bytes:
            out.append(";:".join(current))
            current, size = [], 0
        current.append(c)
        size += len(c) + 2
    if current:
        out.append(";:".join(current))
    return out

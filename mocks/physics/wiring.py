"""Which DAC channel drives which gate."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from dotstack.mocks.physics.params import GATES

_DEFAULT_CHANNELS = {"P1": 1, "P2": 2, "B1": 3, "B2": 4, "B3": 5, "S": 6, "SB1": 7, "SB2": 8}


class Wiring(Mapping[str, tuple[str, int]]):
    """Immutable map gate name -> (instrument name, channel number); unwired gates sit at 0 V."""

    __slots__ = ("_gates",)
    _gates: Mapping[str, tuple[str, int]]

    def __init__(self, gates: Mapping[str, tuple[str, int]]) -> None:
        unknown = sorted(set(gates) - set(GATES))
        if unknown:
            raise ValueError(f"Wiring: unknown gate(s) {unknown}; gates are {list(GATES)}")
        seen: dict[tuple[str, int], str] = {}
        clean: dict[str, tuple[str, int]] = {}
        for gate, (instrument, channel) in gates.items():
            key = (str(instrument), int(channel))
            if key in seen:
                raise ValueError(f"Wiring: {key[0]} channel {key[1]} drives both "
                                 f"{seen[key]} and {gate}")
            seen[key] = gate
            clean[gate] = key
        object.__setattr__(self, "_gates", MappingProxyType(clean))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Wiring is immutable")

    def __repr__(self) -> str:
        return f"Wiring({dict(self._gates)!r})"

    @classmethod
    def default(cls, instrument: str = "qdac") -> Wiring:
        """P1->1, P2->2, B1->3, B2->4, B3->5, S->6, SB1->7, SB2->8 on ``instrument``."""
        return cls({g: (instrument, ch) for g, ch in _DEFAULT_CHANNELS.items()})

    def gate_at(self, instrument: str, channel: int) -> str | None:
        """The gate wired to (instrument, channel), or None."""
        for gate, key in self._gates.items():
            if key == (instrument, channel):
                return gate
        return None

    def __getitem__(self, gate: str) -> tuple[str, int]:
        try:
            return self._gates[gate]
        except KeyError:
            raise KeyError(f"gate {gate!r} is not wired (wired: {sorted(self._gates)})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._gates)

    def __len__(self) -> int:
        return len(self._gates)

    def to_dict(self) -> dict[str, list[str | int]]:
        return {g: [i, c] for g, (i, c) in self._gates.items()}

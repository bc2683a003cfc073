"""The mock lab's cabling: which DAC channel drives which gate, which trigger output feeds
which trigger input."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TypeVar

from dotstack.mocks.physics.params import GATES

_DEFAULT_CHANNELS = {"P1": 1, "P2": 2, "B1": 3, "B2": 4, "B3": 5, "S": 6, "SB1": 7, "SB2": 8}


V = TypeVar("V")


class _Frozen(Mapping[str, V]):
    """An immutable mapping over ``_items`` (a read-only proxy set once in ``__init__``)."""

    __slots__ = ("_items",)
    _items: Mapping[str, V]

    def _freeze(self, items: dict[str, V]) -> None:
        object.__setattr__(self, "_items", MappingProxyType(items))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._items)!r})"

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class Wiring(_Frozen[tuple[str, int]]):
    """Immutable map gate name -> (instrument name, channel number); unwired gates sit at 0 V."""

    __slots__ = ()

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
        self._freeze(clean)

    @classmethod
    def default(cls, instrument: str = "qdac") -> Wiring:
        """P1->1, P2->2, B1->3, B2->4, B3->5, S->6, SB1->7, SB2->8 on ``instrument``."""
        return cls({g: (instrument, ch) for g, ch in _DEFAULT_CHANNELS.items()})

    def gate_at(self, instrument: str, channel: int) -> str | None:
        """The gate wired to (instrument, channel), or None."""
        for gate, key in self._items.items():
            if key == (instrument, channel):
                return gate
        return None

    def __getitem__(self, gate: str) -> tuple[str, int]:
        try:
            return self._items[gate]
        except KeyError:
            raise KeyError(f"gate {gate!r} is not wired (wired: {sorted(self._items)})") from None

    def to_dict(self) -> dict[str, list[str | int]]:
        return {g: [i, c] for g, (i, c) in self._items.items()}


class TriggerLines(_Frozen[tuple[str, ...]]):
    """Immutable trigger cabling: source port -> destination ports (``"qdac.trig1"`` ->
    ``("dmm.ext",)``).  A port is ``<instrument>.<connector>``; one source may feed several
    inputs (a BNC tee), and an input is fed by one source only."""

    __slots__ = ()

    def __init__(self, lines: Mapping[str, str | Iterable[str]]) -> None:
        clean: dict[str, tuple[str, ...]] = {}
        fed_by: dict[str, str] = {}
        for source, dests in lines.items():
            _check_port(source, "source")
            targets = (dests,) if isinstance(dests, str) else tuple(dests)
            if not targets:
                raise ValueError(f"TriggerLines: {source} is wired to nothing")
            for dest in targets:
                _check_port(dest, "destination")
                if dest == source:
                    raise ValueError(f"TriggerLines: {source} is wired to itself")
                if dest in fed_by:
                    raise ValueError(f"TriggerLines: input {dest} is fed by both "
                                     f"{fed_by[dest]} and {source}")
                fed_by[dest] = source
            clean[source] = targets
        self._freeze(clean)

    @classmethod
    def default(cls) -> TriggerLines:
        """The mock lab's cabling (`DEFAULT_TRIGGER_LINES`): QDAC-II trigger output 1 to both
        DMMs' external inputs, the AWG's marker 1 to the digitizer's trigger input A."""
        return cls(DEFAULT_TRIGGER_LINES)

    def source_of(self, dest: str) -> str | None:
        """The source port wired to input ``dest``, or None."""
        for source, dests in self._items.items():
            if dest in dests:
                return source
        return None

    def to_dict(self) -> dict[str, list[str]]:
        return {s: list(d) for s, d in self._items.items()}


#: Default trigger cabling of the mock lab (also the mock station's ``dotstack.triggers``).
DEFAULT_TRIGGER_LINES: dict[str, list[str]] = {"qdac.trig1": ["dmm.ext", "dmm_transport.ext"],
                                               "awg.marker1": ["ats.trigA"]}


def _check_port(port: object, what: str) -> None:
    if not isinstance(port, str) or port.count(".") != 1 or not all(port.split(".")):
        raise ValueError(f"TriggerLines: {what} port must be '<instrument>.<connector>', "
                         f"got {port!r}")

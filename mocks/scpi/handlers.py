"""Building blocks for the handler methods of SCPI mock instruments.

Small pieces every mock needs beyond `Call`: one handler registered under several headers,
the short form of a chosen mnemonic, the ``INF`` keyword, 0/1 replies and the nodes of a
header (for handlers that serve several headers and look at which one was sent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from dotstack.mocks.scpi.call import Call
from dotstack.mocks.scpi.router import command

F = TypeVar("F", bound=Callable[..., Any])

_INFINITY = ("INF", "INFINITY")


def commands(patterns: Iterable[str]) -> Callable[[F], F]:
    """Register the decorated method under every pattern of ``patterns``, in order."""
    patterns = tuple(patterns)

    def decorate(func: F) -> F:
        for pattern in patterns:
            func = command(pattern)(func)
        return func

    return decorate


def short_form(mnemonic: str) -> str:
    """The short form of a mnemonic in manual notation (``IMMediate`` -> ``IMM``)."""
    return "".join(c for c in mnemonic if c.isupper() or c.isdigit()) or mnemonic.upper()


def short_choice(call: Call, i: int, options: Sequence[str]) -> str:
    """Short form (upper case) of the option parameter ``i`` names; -224 if none."""
    return short_form(call.choice(i, options))


def is_infinity(call: Call, i: int) -> bool:
    """True if parameter ``i`` is the keyword ``INF`` (or ``INFinity``)."""
    return call.text(i).strip().upper() in _INFINITY


def format_bool(flag: bool) -> str:
    """A boolean query reply: ``1`` or ``0``."""
    return "1" if flag else "0"


def header_nodes(header: str) -> list[str]:
    """The upper-case nodes of ``header`` (``:sour1:dc:mark:star?`` -> SOUR1, DC, MARK, STAR)."""
    return header.upper().rstrip("?").lstrip(":").split(":")

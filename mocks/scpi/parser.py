"""Split one SCPI program message into (header, parameters) units.

Units are separated by top-level ';'; the header is separated from its parameters by white
space; parameters by top-level ','.  Quotes ("..." and '...', doubled to escape), parentheses
(channel lists) and binary blocks (``#<n><len><data>`` and, to the end of the message,
``#0<data>``) protect their content.  Errors raise `ScpiError` when the faulty unit is reached,
so the units before it are still executed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from dotstack.mocks.scpi.errors import ScpiError

Unit = tuple[str, tuple[str | bytes, ...]]

_WS = b" \t\r\n\x0b\x0c"
_SPECIAL = re.compile(rb"[\"'#(]")
_HEADER_STOP = frozenset(b" \t\r\n\x0b\x0c;")


def split_units(message: bytes) -> Iterable[Unit]:
    """Each program message unit of ``message`` as (header, args), in order."""
    if _SPECIAL.search(message) is None:
        text = message.decode("latin-1")
        if ";" not in text:  # the common case: one unit, no quotes or blocks
            parts = text.split(None, 1)
            if not parts:
                return ()
            if len(parts) == 1:
                return ((parts[0], ()),)
            return ((parts[0], tuple(p.strip() for p in parts[1].split(","))),)
        return _split_simple(text)
    return _split_full(message)


def _split_simple(text: str) -> Iterator[Unit]:
    if not text.strip():
        return
    units = text.split(";")
    last = len(units) - 1
    for k, unit in enumerate(units):
        parts = unit.split(None, 1)
        if not parts:
            if k == last and k > 0:
                return  # a trailing ';' is tolerated
            raise ScpiError.syntax_error("empty command")
        header = parts[0]
        if len(parts) == 1:
            yield header, ()
        else:
            yield header, tuple(p.strip() for p in parts[1].split(","))


def _skip_ws(message: bytes, i: int) -> int:
    n = len(message)
    while i < n and message[i] in _WS:
        i += 1
    return i


def _read_block(message: bytes, i: int) -> tuple[bytes, int]:
    """Parse a block starting at ``message[i] == '#'``; return (data, index after it)."""
    ndigits = message[i + 1] - 0x30
    if ndigits == 0:
        return message[i + 2 :], len(message)
    start = i + 2 + ndigits
    digits = message[i + 2 : start]
    if len(digits) < ndigits or not digits.isdigit():
        raise ScpiError.invalid_block(f"bad length field {digits!r}")
    length = int(digits)
    data = message[start : start + length]
    if len(data) < length:
        raise ScpiError.invalid_block(f"block declares {length} bytes, holds {len(data)}")
    return data, start + length


def _read_text(message: bytes, i: int) -> tuple[str, int]:
    """Read a text parameter up to a top-level ',' or ';'."""
    n = len(message)
    start = i
    depth = 0
    while i < n:
        c = message[i]
        if c in (0x22, 0x27):  # quote: find the closing one
            end = message.find(bytes((c,)), i + 1)
            if end < 0:
                raise ScpiError.invalid_string("unterminated string")
            i = end + 1
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth < 0:
                raise ScpiError.syntax_error("unbalanced ')'")
        elif depth == 0 and c in (0x2C, 0x3B):
            break
        i += 1
    if depth:
        raise ScpiError.syntax_error("unbalanced '('")
    return message[start:i].decode("latin-1").strip(), i


def _split_full(message: bytes) -> Iterator[Unit]:
    n = len(message)
    i = 0
    while True:
        i = _skip_ws(message, i)
        if i >= n:
            return
        start = i
        while i < n and message[i] not in _HEADER_STOP:
            i += 1
        header = message[start:i].decode("latin-1")
        if not header:
            raise ScpiError.syntax_error("empty command")
        if "#" in header or '"' in header or "'" in header or "(" in header:
            raise ScpiError.syntax_error(f"invalid character in header {header!r}")
        args: list[str | bytes] = []
        i = _skip_ws(message, i)
        if i < n and message[i] != 0x3B:
            while True:
                i = _skip_ws(message, i)
                if i + 1 < n and message[i] == 0x23 and 0x30 <= message[i + 1] <= 0x39:
                    data, i = _read_block(message, i)
                    args.append(data)
                    i = _skip_ws(message, i)
                    if i < n and message[i] not in (0x2C, 0x3B):
                        raise ScpiError.syntax_error("data after a binary block")
                else:
                    text, i = _read_text(message, i)
                    args.append(text)
                if i < n and message[i] == 0x2C:
                    i += 1
                    continue
                break
        yield header, tuple(args)
        if i < n and message[i] == 0x3B:
            i += 1
            if _skip_ws(message, i) >= n:
                return

"""IEEE 488.2 message framing shared by the drivers' transports and the mock instruments.

`MessageFramer` splits a byte stream into program messages at '\\n', framing definite-length
binary blocks; `format_block` writes one.

A block ``#<n><len><data>`` may hold any bytes, '\\n' included: after its header the framer
skips exactly ``len`` bytes before it looks for the terminator again.  A block is recognised
where a parameter can start (after white space or ','), outside quoted strings.  An
indefinite block ``#0`` runs to the next '\\n' (on a socket that is its NL^END).  A trailing
'\\r' (outside a block) is stripped.  A newline inside an unterminated quote still ends the
message, so that a stray quote cannot stall a connection.

A message longer than ``max_message`` (block data included) is refused: `MessageFramer.feed`
raises ValueError and forgets what it held; `MessageFramer.frame` instead drops the message's
bytes as they arrive (to its terminator, skipping the declared length of any block) and puts
one `Oversized` in its place, so that the stream stays in step and memory stays bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

_SPECIAL = re.compile(rb"[\"'#]")
_SCAN = re.compile(rb"[\n\"'#]")  # what matters outside a quoted string
_IN_QUOTE = {0x22: re.compile(rb'[\n"]'), 0x27: re.compile(rb"[\n']")}
_NL = 0x0A
_CR = 0x0D
_HASH = 0x23
_QUOTES = (0x22, 0x27)
_BLOCK_LEAD = frozenset(b" \t,")
_HEAD = 40  # bytes of an oversized message kept to name it


@dataclass(frozen=True)
class Oversized:
    """Stands for a message that `MessageFramer.frame` dropped because it was too long."""

    size: int  #: bytes the message held before its '\n' (a '\r' there included)
    limit: int  #: the framer's ``max_message``
    head: bytes  #: its first bytes (to name it in an error message)

    def describe(self) -> str:
        """``'LIST:VOLT ...' (10000000 bytes > 2097152)`` for logs and error details."""
        header = self.head.split(None, 1)[0] if self.head.strip() else b""
        return f"{header.decode('latin-1')!r} ({self.size} bytes > {self.limit})"


class MessageFramer:
    """Incremental framer: `feed` bytes, get back the complete messages (without terminator)."""

    def __init__(self, max_message: int = 1 << 30) -> None:
        self._buf = bytearray()
        self._pos = 0  # where scanning resumes
        self._quote = 0  # open quote character, or 0
        self._block_end = 0  # index just after the last block in the current message
        self.max_message = max_message
        # dropping an oversized message (frame() only)
        self._dropping = False
        self._dropped = 0  # bytes of it dropped so far (not counting those still in _buf)
        self._skip = 0  # bytes of an oversized block still to come
        self._head = b""

    @property
    def pending(self) -> int:
        """Bytes held that do not yet form a complete message."""
        return len(self._buf)

    @property
    def dropping(self) -> bool:
        """True while `frame` is dropping the rest of an oversized message."""
        return self._dropping

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return every message it completes, in order.

        Raises ValueError if a message (or a declared block) exceeds ``max_message``; the
        buffer is then discarded.
        """
        if (
            not self._buf
            and data.endswith(b"\n")
            and len(data) <= self.max_message
            and _SPECIAL.search(data) is None
        ):
            return [m[:-1] if m.endswith(b"\r") else m for m in data[:-1].split(b"\n")]
        return cast(list[bytes], self._frame(data, drop=False))  # no Oversized without drop

    def frame(self, data: bytes) -> list[bytes | Oversized]:
        """Like `feed`, but an oversized message becomes one `Oversized` (in its place).

        Its bytes are dropped as they arrive, never parsed or kept: the framer holds at most
        about ``max_message`` plus one ``data`` at any time.
        """
        if (
            not self._buf
            and not self._dropping
            and data.endswith(b"\n")
            and len(data) <= self.max_message
            and _SPECIAL.search(data) is None
        ):
            return [m[:-1] if m.endswith(b"\r") else m for m in data[:-1].split(b"\n")]
        return self._frame(data, drop=True)

    def reset(self) -> None:
        """Drop any partial message."""
        self._buf.clear()
        self._pos = self._quote = self._block_end = 0
        self._dropping = False
        self._dropped = self._skip = 0
        self._head = b""

    # -- internals -------------------------------------------------------------------------
    def _frame(self, data: bytes, drop: bool) -> list[bytes | Oversized]:
        out: list[bytes | Oversized] = []
        if self._skip:  # inside an oversized block: its bytes go unseen
            if len(data) <= self._skip:
                self._skip -= len(data)
                self._dropped += len(data)
                return out
            data = data[self._skip :]
            self._dropped += self._skip
            self._skip = 0
        self._buf += data
        while True:
            msg = self._next(drop)
            if msg is None:
                break
            out.append(msg)
        if self._dropping:
            self._trim()
        elif len(self._buf) > self.max_message:
            if not drop:
                self.reset()
                raise ValueError(f"message longer than {self.max_message} bytes")
            self._start_dropping()
            self._trim()
        return out

    def _start_dropping(self) -> None:
        self._dropping = True
        self._dropped = 0
        self._head = bytes(self._buf[:_HEAD])

    def _trim(self) -> None:
        """While dropping: forget the scanned bytes (keep the one before the scan position)."""
        cut = max(self._pos - 1, 0)
        if cut:
            del self._buf[:cut]
            self._dropped += cut
            self._pos -= cut
        self._block_end = 0

    def _next(self, drop: bool) -> bytes | Oversized | None:
        buf = self._buf
        n = len(buf)
        i = self._pos
        while i < n:
            if self._quote:
                m = _IN_QUOTE[self._quote].search(buf, i)
                if m is None:
                    i = n
                    break
                i = m.start()
                if buf[i] == _NL:
                    return self._cut(i, drop)
                self._quote = 0
                i += 1
                continue
            m = _SCAN.search(buf, i)
            if m is None:
                i = n
                break
            i = m.start()
            c = buf[i]
            if c == _NL:
                return self._cut(i, drop)
            if c in _QUOTES:
                self._quote = c
            elif i > 0 and buf[i - 1] in _BLOCK_LEAD:  # '#' where a parameter starts
                if i + 1 >= n:
                    break  # need the digit
                nd = buf[i + 1] - 0x30
                if 1 <= nd <= 9:
                    if i + 2 + nd > n:
                        break  # need the length field
                    digits = bytes(buf[i + 2 : i + 2 + nd])
                    if digits.isdigit():
                        end = i + 2 + nd + int(digits)
                        if end > self.max_message and not self._dropping:
                            if not drop:
                                self.reset()
                                raise ValueError(f"block of {int(digits)} bytes is too long")
                            self._start_dropping()
                        if end > n:
                            if not self._dropping:
                                break  # wait for the rest of the block
                            # dropping: skip the block's bytes as they arrive, unbuffered
                            self._skip = end - n
                            self._dropped += n
                            self._buf.clear()
                            self._pos = self._block_end = 0
                            return None
                        i = self._block_end = end
                        continue
            i += 1
        self._pos = i
        return None

    def _cut(self, i: int, drop: bool) -> bytes | Oversized:
        end = i
        if self._dropping:
            item: bytes | Oversized = Oversized(self._dropped + end, self.max_message, self._head)
            self._dropping = False
            self._dropped = 0
            self._head = b""
        else:
            if end > self._block_end and end > 0 and self._buf[end - 1] == _CR:
                end -= 1
            if end > self.max_message:
                if not drop:
                    self.reset()
                    raise ValueError(f"message longer than {self.max_message} bytes")
                item = Oversized(i, self.max_message, bytes(self._buf[:_HEAD]))
            else:
                item = bytes(self._buf[:end])
        del self._buf[: i + 1]
        self._pos = self._quote = self._block_end = 0
        return item


def format_block(data: bytes) -> bytes:
    """IEEE 488.2 definite-length block ``#<n><len><data>``."""
    length = str(len(data)).encode("ascii")
    if len(length) > 9:
        raise ValueError(f"block of {len(data)} bytes is too long for a definite-length header")
    return b"#" + str(len(length)).encode("ascii") + length + bytes(data)

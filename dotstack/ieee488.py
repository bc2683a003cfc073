"""IEEE 488.2 message framing shared by the drivers' transports and the mock instruments.

`MessageFramer` splits a byte stream into program messages at '\\n', framing definite-length
binary blocks; `format_block` writes one.

A block ``#<n><len><data>`` may hold any bytes, '\\n' included: after its header the framer
skips exactly ``len`` bytes before it looks for the terminator again.  A block is recognised
where a parameter can start (after white space or ','), outside quoted strings.  An
indefinite block ``#0`` runs to the next '\\n' (on a socket that is its NL^END).  A trailing
'\\r' (outside a block) is stripped.  A newline inside an unterminated quote still ends the
message, so that a stray quote cannot stall a connection.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(rb"[\"'#]")
_NL = 0x0A
_CR = 0x0D
_HASH = 0x23
_QUOTES = (0x22, 0x27)
_BLOCK_LEAD = frozenset(b" \t,")


class MessageFramer:
    """Incremental framer: `feed` bytes, get back the complete messages (without terminator)."""

    def __init__(self, max_message: int = 1 << 30) -> None:
        self._buf = bytearray()
        self._pos = 0  # where scanning resumes
        self._quote = 0  # open quote character, or 0
        self._block_end = 0  # index just after the last block in the current message
        self.max_message = max_message

    @property
    def pending(self) -> int:
        """Bytes held that do not yet form a complete message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return every message it completes, in order.

        Raises ValueError if a message (or a declared block) exceeds ``max_message``; the
        buffer is then discarded.
        """
        if not self._buf and data.endswith(b"\n") and _SPECIAL.search(data) is None:
            return [m[:-1] if m.endswith(b"\r") else m for m in data[:-1].split(b"\n")]
        self._buf += data
        out: list[bytes] = []
        while True:
            msg = self._next()
            if msg is None:
                break
            out.append(msg)
        if len(self._buf) > self.max_message:
            self.reset()
            raise ValueError(f"message longer than {self.max_message} bytes")
        return out

    def reset(self) -> None:
        """Drop any partial message."""
        self._buf.clear()
        self._pos = self._quote = self._block_end = 0

    def _next(self) -> bytes | None:
        buf = self._buf
        n = len(buf)
        i = self._pos
        while i < n:
            c = buf[i]
            if self._quote:
                if c == self._quote:
                    self._quote = 0
                elif c == _NL:
                    return self._cut(i)
                i += 1
                continue
            if c == _NL:
                return self._cut(i)
            if c in _QUOTES:
                self._quote = c
            elif c == _HASH and i > 0 and buf[i - 1] in _BLOCK_LEAD:
                if i + 1 >= n:
                    break  # need the digit
                nd = buf[i + 1] - 0x30
                if 1 <= nd <= 9:
                    if i + 2 + nd > n:
                        break  # need the length field
                    digits = bytes(buf[i + 2 : i + 2 + nd])
                    if digits.isdigit():
                        end = i + 2 + nd + int(digits)
                        if end > self.max_message:
                            self.reset()
                            raise ValueError(f"block of {int(digits)} bytes is too long")
                        if end > n:
                            break  # wait for the rest of the block
                        i = self._block_end = end
                        continue
            i += 1
        self._pos = i
        return None

    def _cut(self, i: int) -> bytes:
        end = i
        if end > self._block_end and end > 0 and self._buf[end - 1] == _CR:
            end -= 1
        msg = bytes(self._buf[:end])
        del self._buf[: i + 1]
        self._pos = self._quote = self._block_end = 0
        return msg


def format_block(data: bytes) -> bytes:
    """IEEE 488.2 definite-length block ``#<n><len><data>``."""
    length = str(len(data)).encode("ascii")
    if len(length) > 9:
        raise ValueError(f"block of {len(data)} bytes is too long for a definite-length header")
    return b"#" + str(len(length)).encode("ascii") + length + bytes(data)

"""Message framing: '\\n' terminators, '\\r' stripping, blocks that hold '\\n', partial reads.

One framer (`dotstack.ieee488.MessageFramer`) serves the mock server and the drivers' transports.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dotstack.mocks.scpi import MessageFramer, format_block

BLOCK = format_block(b"x\ny\r\n;#12ab\n")

STREAM = (
    b"*IDN?\n"
    b"VOLT 1\r\n"
    b"TRAC:DATA 'w'," + BLOCK + b"\n"
    b"TRAC:DATA 'w', " + format_block(b"ends in cr\r") + b"\n"
    b'DISP:TEXT "a\nb\n'  # an unterminated quote still ends at '\n'
    b"X #H1F;Y\n"
    b"\n"
)
EXPECTED = [
    b"*IDN?",
    b"VOLT 1",
    b"TRAC:DATA 'w'," + BLOCK,
    b"TRAC:DATA 'w', " + format_block(b"ends in cr\r"),
    b'DISP:TEXT "a',
    b"b",
    b"X #H1F;Y",
    b"",
]

Feed = Callable[[bytes], list[bytes]]


def _server_framer() -> Feed:
    return MessageFramer().feed


@pytest.mark.parametrize("make", [_server_framer])
def test_whole_stream(make: Callable[[], Feed]) -> None:
    assert make()(STREAM) == EXPECTED


@pytest.mark.parametrize("make", [_server_framer])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_stream_in_pieces(make: Callable[[], Feed], chunk: int) -> None:
    feed = make()
    out: list[bytes] = []
    for k in range(0, len(STREAM), chunk):
        out.extend(feed(STREAM[k : k + chunk]))
    assert out == EXPECTED


def test_partial_message_is_held() -> None:
    framer = MessageFramer()
    assert framer.feed(b"TRAC:DATA 'w',#18abc\n") == []
    assert framer.pending > 0
    assert framer.feed(b"defg\nZ\n") == [b"TRAC:DATA 'w',#18abc\ndefg", b"Z"]
    assert framer.pending == 0


def test_oversized_block_is_refused() -> None:
    framer = MessageFramer(max_message=1000)
    with pytest.raises(ValueError, match="too long"):
        framer.feed(b"DATA #41001")
    assert framer.pending == 0
    assert framer.feed(b"OK\n") == [b"OK"]

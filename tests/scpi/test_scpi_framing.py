"""Message framing: '\\n' terminators, '\\r' stripping, blocks that hold '\\n', partial reads.

One framer (`dotstack.ieee488.MessageFramer`) serves the mock server and the drivers' transports.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dotstack.ieee488 import Oversized
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


# -- frame(): oversized messages dropped as they arrive ------------------------------------


def _frame_all(framer: MessageFramer, stream: bytes, chunk: int) -> list[bytes | Oversized]:
    out: list[bytes | Oversized] = []
    for k in range(0, len(stream), chunk):
        out.extend(framer.frame(stream[k : k + chunk]))
        assert framer.pending <= framer.max_message + chunk  # never holds the whole message
    return out


@pytest.mark.parametrize("chunk", [1, 7, 100, 4096, 1 << 20])
def test_frame_drops_oversized_text_and_stays_in_step(chunk: int) -> None:
    big = b"LIST:VOLT " + b"0.5," * 500 + b"0.5"
    stream = b"A\n" + big + b"\r\nB 'x;y'\n" + big + b"\nC\n"
    out = _frame_all(MessageFramer(max_message=1000), stream, chunk)
    assert out[0] == b"A" and out[2] == b"B 'x;y'" and out[4] == b"C" and len(out) == 5
    for item in (out[1], out[3]):
        assert isinstance(item, Oversized)
        assert item.limit == 1000
        assert item.head.startswith(b"LIST:VOLT 0.5")
        assert "LIST:VOLT" in item.describe()
    assert isinstance(out[1], Oversized) and out[1].size == len(big) + 1  # its '\r' included
    assert isinstance(out[3], Oversized) and out[3].size == len(big)


@pytest.mark.parametrize("chunk", [1, 5, 333, 1 << 20])
def test_frame_skips_an_oversized_block_unbuffered(chunk: int) -> None:
    block = format_block(b"\n#14abcd'\"" * 300)
    stream = b"X\nDATA 'w'," + block + b",1;Y\nZ " + format_block(b"\n") + b"\n"
    framer = MessageFramer(max_message=500)
    out = _frame_all(framer, stream, chunk)
    assert out[0] == b"X"
    assert isinstance(out[1], Oversized)
    assert out[1].size == len(b"DATA 'w',") + len(block) + len(b",1;Y")
    assert out[2:] == [b"Z " + format_block(b"\n")]
    assert framer.pending == 0 and not framer.dropping


def test_frame_drops_a_long_message_that_arrives_whole() -> None:
    framer = MessageFramer(max_message=10)
    out = framer.frame(b"OK\n" + b"Z" * 50 + b"\nOK2\n")
    assert out[0] == b"OK" and out[2] == b"OK2"
    assert isinstance(out[1], Oversized) and out[1].size == 50


def test_frame_matches_feed_below_the_limit() -> None:
    for chunk in (1, 3, 64):
        framer = MessageFramer()
        out: list[bytes | Oversized] = []
        for k in range(0, len(STREAM), chunk):
            out.extend(framer.frame(STREAM[k : k + chunk]))
        assert out == EXPECTED


def test_feed_still_raises_on_a_long_message() -> None:
    framer = MessageFramer(max_message=10)
    with pytest.raises(ValueError, match="longer than 10"):
        framer.feed(b"Z" * 50 + b"\n")
    assert framer.feed(b"OK\n") == [b"OK"]

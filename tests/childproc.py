"""Following a child process line by line: tests that signal a child at a moment chosen by its
progress (the lines it prints), never by wall time."""

from __future__ import annotations

import threading
from queue import Empty, Queue
from typing import IO

import pytest


def follow(stream: IO[str]) -> Queue:
    """A queue receiving ``stream``'s lines (newline stripped), then None at its end."""
    queue: Queue = Queue()

    def pump() -> None:
        for line in stream:
            queue.put(line.rstrip("\n"))
        queue.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return queue


def expect(queue: Queue, prefix: str, seen: list[str], wait: float) -> str:
    """The next line starting with ``prefix`` (lines on the way are appended to ``seen``); the
    test fails if none comes within ``wait`` s or the child ends first."""
    while True:
        try:
            line = queue.get(timeout=wait)
        except Empty:
            pytest.fail(f"no line starting {prefix!r} within {wait} s; saw {seen[-5:]}")
        if line is None:
            pytest.fail(f"the child ended before printing {prefix!r}; saw {seen[-5:]}")
        seen.append(line)
        if line.startswith(prefix):
            return line

"""Compile SCPI command patterns (manual notation) and match headers against them.

A pattern such as ``[SOURce#]:VOLTage[:LEVel]?`` becomes a regular expression over the
upper-cased absolute header (``:SOUR3:VOLT?``): each mnemonic accepts its long or short form
(the short form is its upper-case letters), ``#`` captures a numeric suffix (default 1),
``[...]`` is optional and a trailing ``?`` marks the query form.  All patterns of a model are
joined into one alternation (first registered wins), and resolved headers are cached (at most
``_CACHE_SIZE`` headers of up to ``_CACHE_KEY_MAX`` characters: the memory stays bounded).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

_NODE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*#?")
_ATTR = "_scpi_patterns"
_CACHE_SIZE = 4096  # headers resolved and remembered (then the cache starts over)
_CACHE_KEY_MAX = 160  # longer headers are resolved each time, never kept

F = TypeVar("F", bound=Callable[..., Any])


def command(pattern: str) -> Callable[[F], F]:
    """Register the decorated `ScpiModel` method as the handler of ``pattern``.

    The pattern is checked at once (a malformed one raises ValueError); a method may carry
    several decorators.
    """
    compile_pattern(pattern)

    def decorate(func: F) -> F:
        patterns = list(getattr(func, _ATTR, ()))
        patterns.append(pattern)
        setattr(func, _ATTR, tuple(patterns))
        return func

    return decorate


def patterns_of(func: object) -> tuple[str, ...]:
    """The patterns `command` attached to ``func``."""
    return tuple(getattr(func, _ATTR, ()))


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: regex source over the absolute upper-case header, suffix count."""

    text: str
    regex: str
    nsuffixes: int
    common: bool


def _node_regex(node: str) -> tuple[str, int]:
    has_suffix = node.endswith("#")
    name = node.rstrip("#")
    long = name.upper()
    short = "".join(c for c in name if c.isupper() or c.isdigit() or c == "_") or long
    body = re.escape(long) if short == long else f"(?:{re.escape(long)}|{re.escape(short)})"
    return (f":{body}(\\d*)", 1) if has_suffix else (f":{body}", 0)


def _parse_seq(text: str, i: int, depth: int) -> tuple[str, int, int]:
    parts: list[str] = []
    nsuffixes = 0
    while i < len(text):
        c = text[i]
        if c == ":":
            i += 1
        elif c == "[":
            sub, i, n = _parse_seq(text, i + 1, depth + 1)
            if not sub:
                raise ValueError(f"empty optional node in SCPI pattern {text!r}")
            parts.append(f"(?:{sub})?")
            nsuffixes += n
        elif c == "]":
            if depth == 0:
                raise ValueError(f"unbalanced ']' in SCPI pattern {text!r}")
            return "".join(parts), i + 1, nsuffixes
        else:
            m = _NODE.match(text, i)
            if m is None:
                raise ValueError(f"bad character {c!r} at {i} in SCPI pattern {text!r}")
            regex, n = _node_regex(m.group())
            parts.append(regex)
            nsuffixes += n
            i = m.end()
    if depth:
        raise ValueError(f"unbalanced '[' in SCPI pattern {text!r}")
    return "".join(parts), i, nsuffixes


def compile_pattern(pattern: str) -> Pattern:
    """Compile ``pattern`` (manual notation) into a `Pattern`; ValueError if malformed."""
    text = pattern.strip()
    query = text.endswith("?")
    body = text[:-1] if query else text
    if not body:
        raise ValueError(f"empty SCPI pattern {pattern!r}")
    tail = r"\?" if query else ""
    if body.startswith("*"):
        if not re.fullmatch(r"\*[A-Za-z]+", body):
            raise ValueError(f"bad common command pattern {pattern!r}")
        return Pattern(text, re.escape(body.upper()) + tail, 0, True)
    regex, _, nsuffixes = _parse_seq(body, 0, 0)
    re.compile(regex)
    return Pattern(text, regex + tail, nsuffixes, False)


@dataclass(frozen=True)
class Route:
    """A matched header: the handler's method name and the numeric suffixes."""

    method: str
    suffixes: tuple[int, ...]
    pattern: str


class Router:
    """All (pattern, method name) pairs of a model class, compiled into one matcher."""

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.entries = tuple(entries)
        self._common: dict[str, Route] = {}
        alternatives: list[str] = []
        # group index of each alternative -> (method, indices of its suffix groups, pattern)
        self._groups: dict[int, tuple[str, tuple[int, ...], str]] = {}
        group = 1
        for pattern_text, method in entries:
            pattern = compile_pattern(pattern_text)
            if pattern.common:
                key = pattern.text.upper()
                self._common.setdefault(key, Route(method, (), pattern.text))
                continue
            alternatives.append(f"({pattern.regex})")
            suffix_groups = tuple(range(group + 1, group + 1 + pattern.nsuffixes))
            self._groups[group] = (method, suffix_groups, pattern.text)
            group += 1 + pattern.nsuffixes
        self._regex = re.compile("|".join(alternatives)) if alternatives else None
        self._cache: dict[str, Route | None] = {}

    def match_common(self, header_upper: str) -> Route | None:
        """Route of a common command (``*IDN?``), or None."""
        return self._common.get(header_upper)

    def match(self, absolute_upper: str) -> Route | None:
        """Route of an absolute upper-case header (``:SOUR2:VOLT?``), or None."""
        try:
            return self._cache[absolute_upper]
        except KeyError:
            pass
        route = self._match(absolute_upper)
        if len(absolute_upper) <= _CACHE_KEY_MAX:  # bounded: entries and their size
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[absolute_upper] = route
        return route

    def _match(self, absolute_upper: str) -> Route | None:
        if self._regex is None:
            return None
        m = self._regex.fullmatch(absolute_upper)
        if m is None or m.lastindex is None:
            return None
        method, suffix_groups, text = self._groups[m.lastindex]
        suffixes = tuple(int(m.group(g) or 1) for g in suffix_groups)
        return Route(method, suffixes, text)

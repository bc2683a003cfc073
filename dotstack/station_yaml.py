"""Reading a station file's YAML: duplicate keys found, every key's line number kept.

PyYAML's `safe_load` lets the last of two equal keys win without a word (a second ``P1:`` under
``gates:`` silently replaces the first).  `load` refuses that: its loader's mapping constructor
records every duplicate key with both line numbers, and keeps the first value so that later
checks do not report follow-on problems of a value the user never meant.  It also reads numbers
the way YAML 1.2 (and QCoDeS, and editors) do: ``1.0e8`` and ``1e-3`` are numbers, not strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

#: a path into the document: mapping keys (as written) and sequence indices
KeyPath = tuple[str | int, ...]

_MERGE = "tag:yaml.org,2002:merge"
_FLOAT_1_2 = re.compile(r"""^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$""")


@dataclass(frozen=True)
class YamlProblem:
    path: KeyPath
    message: str
    line: int | None


@dataclass
class LoadedYaml:
    """The document, each key's line (1-based), and the duplicate keys found."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of its nearest enclosing key that is in the file."""
        norm = _norm(path)
        for n in range(len(norm), -1, -1):
            if norm[:n] in self.lines:
                return self.lines[norm[:n]]
        return None


class StationLoader(yaml.SafeLoader):
    """A `yaml.SafeLoader` that records duplicate mapping keys instead of overwriting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: (mapping node, key, line of the first, line of the repeat)
        self.duplicates: list[tuple[MappingNode, Any, int, int]] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            kept: list[tuple[Node, Node]] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    kept.append((key_node, value_node))
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeConstructor reports it
                    kept.append((key_node, value_node))
                    continue
                if first is not None:
                    self.duplicates.append((node, key, _line(first), _line(key_node)))
                    continue
                seen[key] = key_node
                kept.append((key_node, value_node))
            node.value = kept
        return super().construct_mapping(node, deep=deep)


StationLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_1_2, list("-+0123456789."))


def load(text: str) -> LoadedYaml:
    """Parse one YAML document; raises `yaml.YAMLError` if it is not valid YAML."""
    loader = StationLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return LoadedYaml(None)
        paths: dict[int, KeyPath] = {}
        lines: dict[KeyPath, int] = {}
        for path, n, line in _walk(node, (), set()):
            paths.setdefault(id(n), path)
            lines.setdefault(_norm(path), line)
        data = loader.construct_document(node)
        problems = [
            YamlProblem((*paths.get(id(mapping), ()), str(key)),
                        f"duplicate key {key!r}: first at line {first}, again at line {again} "
                        "(YAML would keep only the last; remove or rename one)", again)
            for mapping, key, first, again in loader.duplicates
        ]
        return LoadedYaml(data, lines, problems)
    finally:
        loader.dispose()


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _norm(path: KeyPath) -> KeyPath:
    """Keys and indices as text (a node is a mapping or a sequence, so they cannot clash)."""
    return tuple(str(p) for p in path)


def _walk(node: Node, path: KeyPath, active: set[int]) -> Iterator[tuple[KeyPath, Node, int]]:
    """Every node with its path and the line of its key (or sequence item)."""
    if id(node) in active:  # a recursive alias
        return
    active = active | {id(node)}
    yield path, node, _line(node)
    if isinstance(node, MappingNode):
        merges = [v for k, v in node.value if k.tag == _MERGE]
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE or not isinstance(key_node, ScalarNode) or key_node.value in seen:
                continue  # a repeated key: the loader keeps the first
            seen.add(key_node.value)
            sub = (*path, str(key_node.value))
            yield sub, value_node, _line(key_node)
            for deeper in _walk(value_node, sub, active):
                if deeper[0] != sub:
                    yield deeper
        for merged in merges:  # `<<: *anchor`: the merged keys, where they are written
            for item in merged.value if isinstance(merged, SequenceNode) else [merged]:
                for deeper in _walk(item, path, active):
                    if deeper[0] != path:
                        yield deeper
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*path, i), active)

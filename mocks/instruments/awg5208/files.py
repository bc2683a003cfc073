""".wfmx and .seqx files, parsed as the AWG70000/AWG5200 family loads them.

A ``.wfmx`` is an XML header (``<DataFile offset="NNNNNNNNN">``: the header's length in bytes)
followed by ``NumberSamples`` little-endian float32 samples and, if ``MarkersIncluded``, one
marker byte per sample (bit k-1 = marker k).  A ``.seqx`` is a zip of ``Sequences/*.sml`` (XML
sequence tables), ``Waveforms/*.wfmx``, ``setup.xml`` and ``userNotes.txt``.  Layout as written
by QCoDeS' ``TektronixAWG70000Base.makeWFMXFile``/``makeSEQXFile``.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np

from dotstack.mocks.instruments.awg5208.state import Sequence, Step, Target, Waveform

_OFFSET = re.compile(rb'<DataFile[^>]*\boffset="(\d+)"')
_INPUTS = {"none": "OFF", "triga": "A", "trigb": "B", "internal": "I"}


class FileFormatError(ValueError):
    """A file the instrument cannot load (names the file and what is wrong)."""


@dataclass
class SeqxContents:
    """What a .seqx holds: its sequences (in file order), waveforms and main sequence."""

    sequences: list[Sequence] = field(default_factory=list)
    waveforms: dict[str, Waveform] = field(default_factory=dict)
    main: str | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: ET.Element, name: str) -> ET.Element | None:
    for el in root.iter():
        if _local(el.tag) == name:
            return el
    return None


def _child_text(el: ET.Element, name: str, default: str = "") -> str:
    for child in el:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return default


def parse_wfmx(data: bytes, name: str) -> Waveform:
    """The waveform in a .wfmx file (``name``: its name in the waveform list)."""
    m = _OFFSET.search(data[:512])
    if m is None:
        raise FileFormatError(f"{name}: not a .wfmx file (no DataFile offset)")
    offset = int(m.group(1))
    try:
        root = ET.fromstring(data[:offset].decode("utf-8"))
    except (ET.ParseError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{name}: bad .wfmx header ({exc})") from None
    desc = _find(root, "DataDescription")
    if desc is None:
        raise FileFormatError(f"{name}: .wfmx header has no DataDescription")
    try:
        n = int(_child_text(desc, "NumberSamples"))
    except ValueError:
        raise FileFormatError(f"{name}: bad NumberSamples") from None
    markers = _child_text(desc, "MarkersIncluded", "false").lower() == "true"
    fmt, endian = _child_text(desc, "NumberFormat", "Single"), _child_text(desc, "Endian", "Little")
    if fmt != "Single" or endian != "Little":
        raise FileFormatError(f"{name}: unsupported sample format {fmt}/{endian}")
    need = offset + 4 * n + (n if markers else 0)
    if len(data) < need:
        raise FileFormatError(f"{name}: {len(data)} bytes, the header announces {need}")
    samples = np.frombuffer(data, "<f4", n, offset).astype(np.float32)
    marks = (np.frombuffer(data, np.uint8, n, offset + 4 * n).copy() if markers
             else np.zeros(n, np.uint8))
    if not np.all(np.isfinite(samples)):
        raise FileFormatError(f"{name}: samples are not finite")
    return Waveform(name, samples, marks)


def _target(kind: str, step: str) -> Target:
    key = kind.strip().lower()
    if key == "stepindex":
        return int(step)
    if key in ("next", "first", "last", "end"):
        return key.upper()
    raise FileFormatError(f"unknown jump target {kind!r}")


def _step(el: ET.Element, tracks: int) -> Step:
    rep_kind = _child_text(el, "Repeat", "Once").lower()
    count = int(_child_text(el, "RepeatCount", "1") or 1)
    repeat = 0 if rep_kind == "infinite" else (1 if rep_kind == "once" else count)
    names: list[str | None] = []
    kinds: list[str] = []
    assets = next((c for c in el if _local(c.tag) == "Assets"), None)
    for asset in assets if assets is not None else ():
        names.append(_child_text(asset, "AssetName") or None)
        kinds.append("SEQ" if _child_text(asset, "AssetType").lower() == "sequence" else "WAV")
    names += [None] * (tracks - len(names))
    kinds += ["WAV"] * (tracks - len(kinds))
    try:
        wait = _INPUTS[_child_text(el, "WaitInput", "None").lower()]
        jump_in = _INPUTS[_child_text(el, "EventJumpInput", "None").lower()]
    except KeyError as exc:
        raise FileFormatError(f"unknown trigger input {exc}") from None
    return Step(names, repeat, wait, jump_in,
                _target(_child_text(el, "EventJumpTo", "Next"), _child_text(el, "EventJumpToStep", "1")),
                _target(_child_text(el, "GoTo", "Next"), _child_text(el, "GoToStep", "1")), kinds)


def parse_sml(text: str | bytes, source: str) -> Sequence:
    """The sequence in an .sml document."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FileFormatError(f"{source}: bad .sml ({exc})") from None
    desc = _find(root, "DataDescription")
    steps_el = _find(root, "Steps")
    if desc is None or steps_el is None:
        raise FileFormatError(f"{source}: .sml without DataDescription/Steps")
    name = _child_text(desc, "SequenceName") or PurePosixPath(source).stem
    tracks = int(steps_el.get("TrackCount", "1"))
    steps = [_step(el, tracks) for el in steps_el if _local(el.tag) == "Step"]
    if len(steps) != int(steps_el.get("StepCount", len(steps))):
        raise FileFormatError(f"{source}: StepCount does not match the steps")
    timing = "END" if _child_text(desc, "JumpTiming", "JumpImmed").lower() == "jumpend" else "IMM"
    return Sequence(name, tracks, steps, timing)


def parse_seqx(data: bytes, source: str) -> SeqxContents:
    """Sequences and waveforms of a .seqx file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FileFormatError(f"{source}: not a .seqx (zip) file") from None
    out = SeqxContents()
    with archive:
        for info in archive.infolist():
            path = PurePosixPath(info.filename)
            folder, suffix = path.parent.name.lower(), path.suffix.lower()
            if folder == "waveforms" and suffix == ".wfmx":
                out.waveforms[path.stem] = parse_wfmx(archive.read(info), path.stem)
            elif folder == "sequences" and suffix == ".sml":
                out.sequences.append(parse_sml(archive.read(info), info.filename))
            elif path.name.lower() == "setup.xml":
                try:
                    setup = ET.fromstring(archive.read(info))
                except ET.ParseError as exc:
                    raise FileFormatError(f"{source}: bad setup.xml ({exc})") from None
                main = _find(setup, "MainSequence")
                out.main = (main.text or "").strip() if main is not None else None
    if not out.sequences:
        raise FileFormatError(f"{source}: no sequence in the file")
    return out

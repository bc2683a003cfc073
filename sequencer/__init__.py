"""Pulse language and compiler: schedules in gate names, volts and seconds -> per-instrument
programs. Pure: no I/O.

Spin-qubit features (issue 9; details in the modules named):

- Carrier phase in program time (``segments``): a :class:`Burst` is
  ``offset + A env(t - t_start) sin(2π f t + phase + Z)`` with ``t`` counted from the start of
  the program (all sweep points one after another on the AWG's grid; trigger waits not
  counted), so bursts at one frequency are phase-coherent across waits, blocks and sweep
  points, like a running oscillator. ``Z`` is the lane's virtual-Z frame:
  :func:`phase_shift` ``(lane or (I, Q), radians)`` (a zero-duration block; radians may be a
  :class:`Param`) or :class:`PhaseShift` ``(phase=...)`` inside a lane's list advances it for
  every later burst; each sweep point starts at ``Z = 0``. With ``loop=True`` the carrier
  restarts at the program's start (coherent only when the program lasts whole periods).
- Rest level: after a :class:`Burst` or :class:`Chirp` a lane rests at the segment's
  ``offset`` (0 V for I/Q) through gaps, other blocks and step padding.
- IQ: :func:`iq_burst` (one block) and :func:`iq_pair` (the two segments) give
  ``I = A env cos(2π f t + φ + Z)``, ``Q = A env sin(...)``; ``par(iq_burst(...), P1=...)``
  plays them beside gate lanes in one block (``par`` merges blocks and lane mappings).
- IQ mixer correction (``targets``): ``AwgTarget(..., iq_pairs=(("I", "Q",
  MixerCorrection(gain, phase, offset_i, offset_q)),))``: ``I' = I + offset_i``,
  ``Q' = gain (Q cos phase + I sin phase) + offset_q`` at compile time.
- Single shot (``acquire``, ``program``): ``Acquire(d, name, threshold=V | Param,
  single_shot=True)``; ``AcquisitionProgram.record_single_shot``, ``record_threshold``,
  ``integrate(volts)`` (per-shot window means), ``classify(values)`` (value > threshold).
- Hardware repeats (``cut``): a top-level ``repeat(body, n)`` compiles to one sequence-table
  step with a repeat count (``n / u``, ``u`` bodies per waveform when one body is shorter
  than ``min_length``) if the AWG has repeats and every body plays the same samples; else
  it is unrolled. The program's size does not grow with ``n``.
"""

from dotstack.sequencer.biast import BiasT
from dotstack.sequencer.compiler import compile_schedule
from dotstack.sequencer.cut import Window, cut_step
from dotstack.sequencer.errors import (
    BiasTDroopWarning,
    LimitError,
    SequencerError,
    UnregisteredFunctionError,
)
from dotstack.sequencer.evaluate import evaluate
from dotstack.sequencer.limits import ATS9360, AWG5208, AwgLimits, DigitizerLimits
from dotstack.sequencer.plot import plot_program, plot_schedule
from dotstack.sequencer.program import (
    AcquisitionProgram,
    AcquisitionWindow,
    Compiled,
    Note,
    Padding,
    Program,
    SequenceTable,
    Step,
    Waveform,
)
from dotstack.sequencer.render import render, render_markers
from dotstack.sequencer.schedule import (
    Axis,
    Block,
    Repeat,
    Schedule,
    Sweep,
    axis,
    iq_burst,
    iq_pair,
    par,
    phase_shift,
    repeat,
    seq,
    sweep,
)
from dotstack.sequencer.segments import (
    Acquire,
    Arbitrary,
    Burst,
    Chirp,
    Gap,
    Hold,
    Marker,
    Param,
    PhaseShift,
    Ramp,
    Segment,
    get_function,
    register_function,
)
from dotstack.sequencer.serialize import from_json, to_json
from dotstack.sequencer.targets import AwgTarget, DigitizerTarget, MixerCorrection
from dotstack.sequencer.virtual_gates import VirtualGateLayer, VirtualGates
from dotstack.sequencer.waves import DenseChunk, LinearChunk, RunChunk, WaveStore

compile = compile_schedule

__all__ = [
    "ATS9360", "AWG5208", "Acquire", "AcquisitionProgram", "AcquisitionWindow", "Arbitrary",
    "AwgLimits", "AwgTarget", "Axis", "BiasT", "BiasTDroopWarning", "Block", "Burst", "Chirp",
    "Compiled", "DenseChunk", "DigitizerLimits", "DigitizerTarget", "Gap", "Hold", "LimitError",
    "LinearChunk", "Marker", "MixerCorrection", "Note", "Padding", "Param", "PhaseShift", "Program", "Ramp",
    "Repeat", "RunChunk",
    "Schedule", "Segment",
    "SequenceTable", "SequencerError", "Step", "Sweep", "UnregisteredFunctionError",
    "VirtualGateLayer", "VirtualGates", "WaveStore", "Waveform", "Window", "axis", "compile",
    "compile_schedule", "cut_step", "evaluate", "from_json", "get_function", "iq_burst",
    "iq_pair", "par", "phase_shift",
    "plot_program", "plot_schedule", "register_function", "render", "render_markers", "repeat",
    "seq", "sweep", "to_json",
]

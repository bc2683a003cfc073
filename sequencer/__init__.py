"""Pulse language and compiler: schedules in gate names, volts and seconds -> per-instrument programs. Pure: no I/O."""  # noqa: E501

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

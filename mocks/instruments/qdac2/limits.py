"""Fixed figures of the QDAC-II: trigger counts, output ranges, slew and list limits."""

from __future__ import annotations

N_INTERNAL_TRIGGERS = 14
N_EXTERNAL_INPUTS = 4
N_EXTERNAL_OUTPUTS = 5
RANGES = {"low": 2.0, "high": 10.0}  # V, symmetric
MAX_SLEW = 2e7  # V/s
MIN_SLEW = 0.01
MAX_LIST_POINTS = 65536
LEAKAGE_OHM = 1e11  # per-channel leakage seen by the current sensor
SAMPLE_RATE = 1e6  # S/s: the update rate of every generator (DC, sine, triangle, square, AWG)
MIN_WAVE_PERIOD = 1e-6  # s (one sample)
MAX_WAVE_PERIOD = 1e5  # s
TRACE_MEMORY = 1 << 23  # AWG trace points all traces share (8 Mi; one trace may take it all)
MAX_TRACES = 1000
MAX_TRACE_NAME = 32  # characters

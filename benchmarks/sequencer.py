"""Sequencer benchmark: ours vs qupulse, broadbean and a plain numpy fill, in one run.

Workloads (AWG5208-like limits at 1 GS/s: granularity 1, min waveform length 2400):
  (a) video-mode raster: P1 stepped over 100 points in each of 100 rows of P2, 2 channels,
      1 µs per step (2e7 samples);
  (b) Rabi chevron: 100 burst durations × 50 frequencies, sine burst on one channel,
      each followed by a 10 µs readout plateau.
  (c) video raster (issue 8 point 6), at the AWG5208 rate 2.5 GS/s, float32 output: a
      100x100-pixel frame, 2000 samples (0.8 us) per pixel, so one row is a 200000-sample
      (80 us) P1 ramp (sawtooth fast axis) while P2 holds the row's level (staircase slow
      axis, 100 rows); both are virtual gates mixed by a 2x2 matrix onto the real channels
      P1, P2: 2 x 100 x 200000 = 4e7 samples.
"Ours" = compile + render of every sample (int16), best of 3; anchors run once (imported
beforehand); the numpy fill writes the same number of int16 samples (best of 3). Also:
virtual-gate recompile.
The video raster reports medians of repeats run side by side with its numpy fill (the
expected float32 samples written with vectorised numpy), anchors as medians of 3 runs, the
machine load, and its own virtual-gate change (matrix change -> Program, samples not
written). ``--video`` runs only the video raster.

Programs keep plateau-like waveforms compactly (levels and run lengths); their samples
are written on demand (render, ``Program.waveform_data`` for upload). "compile+render"
therefore includes every sample written; the virtual-gate recompile is timed to a
Program object and the materialisation of its waveform samples is timed on its own line.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from dotstack.sequencer import (
    AWG5208,
    AwgTarget,
    Burst,
    Hold,
    Param,
    Ramp,
    VirtualGateLayer,
    VirtualGates,
    compile_schedule,
    par,
    render,
    seq,
    sweep,
)

warnings.filterwarnings("ignore", module="qupulse")
SR = 1e9
LIM = AWG5208.with_(sample_rate=SR)
P1 = np.linspace(-0.3, 0.3, 100)
P2 = np.linspace(-0.2, 0.2, 100)
T_BURST = 10e-9 * np.arange(1, 101)  # 10 ns .. 1 µs
FREQ = np.linspace(100e6, 200e6, 50)


def best(fn: Callable[[], Any], n: int = 3) -> tuple[float, Any]:
    out, times = None, []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def peak_bytes(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


# --- ours ------------------------------------------------------------------------------
def raster_sweep() -> Any:
    step = par(P1=Hold(1e-6, Param("p1")), P2=Hold(1e-6, Param("p2")))
    return sweep(step, ("p2", P2), ("p1", P1))


def rabi_sweep() -> Any:
    sched = seq(par(P1=Burst(Param("t"), Param("f"), 0.3)), par(P1=Hold(10e-6, 0.1)))
    return sweep(sched, ("t", T_BURST), ("f", FREQ))


def ours(item: Any, chans: tuple[str, ...], gates: VirtualGates | None = None) -> Any:
    prog = compile_schedule(item, [AwgTarget("awg", LIM, chans)],
                            virtual_gates=gates).programs["awg"]
    return prog, render(prog, "raw")


# --- anchors -----------------------------------------------------------------------------
def qupulse_raster() -> int:
    from qupulse.plotting import render as qrender
    from qupulse.pulses import ConstantPT, ForLoopPT

    step = ConstantPT(1000, {"P1": "p1_0 + i*dp1", "P2": "p2_0 + j*dp2"})
    pt = ForLoopPT(ForLoopPT(step, "i", 100), "j", 100)
    prog = pt.create_program(parameters=dict(p1_0=P1[0], dp1=P1[1] - P1[0], p2_0=P2[0],
                                             dp2=P2[1] - P2[0]))
    _, vals, _ = qrender(prog, sample_rate=1.0)
    return sum(v.size for v in vals.values())


def qupulse_rabi() -> int:
    from qupulse.plotting import render as qrender
    from qupulse.pulses import ConstantPT, ForLoopPT, FunctionPT, MappingPT

    burst = FunctionPT("a*sin(2*pi*f*t)", "t_b", channel="P1")
    body = burst @ ConstantPT(10000, {"P1": 0.1})
    mapped = MappingPT(body, parameter_mapping={"t_b": "10*(i+1)", "f": "f0 + j*df", "a": 0.3})
    pt = ForLoopPT(ForLoopPT(mapped, "i", 100), "j", 50)
    prog = pt.create_program(parameters=dict(f0=FREQ[0] / 1e9, df=(FREQ[1] - FREQ[0]) / 1e9))
    _, vals, _ = qrender(prog, sample_rate=1.0)
    return sum(v.size for v in vals.values())


def broadbean_raster() -> int:
    """One element per P2 row (100 segments per channel); one flat blueprint of 10000
    segments takes minutes in broadbean (insertSegment is quadratic), so rows it is."""
    import broadbean as bb

    ramp = bb.PulseAtoms.ramp
    seqn = bb.Sequence()
    for row, p2 in enumerate(P2, start=1):
        elem = bb.Element()
        for ch, levels in ((1, P1), (2, np.full(100, p2))):
            bp = bb.BluePrint()
            for v in levels:
                bp.insertSegment(-1, ramp, (float(v), float(v)), dur=1e-6)
            bp.setSR(SR)
            elem.addBluePrint(ch, bp)
        seqn.addElement(row, elem)
    seqn.setSR(SR)
    for ch in (1, 2):
        seqn.setChannelAmplitude(ch, 1.5)
        seqn.setChannelOffset(ch, 0)
    forged = seqn.forge(apply_delays=False, apply_filters=False)
    return sum(len(c["wfm"]) for s in forged.values() for c in s["content"][1]["data"].values())


def broadbean_rabi() -> int:
    import broadbean as bb

    sine, ramp = bb.PulseAtoms.sine, bb.PulseAtoms.ramp
    seqn = bb.Sequence()
    pos = 1
    for f in FREQ:
        for t in T_BURST:
            bp = bb.BluePrint()
            bp.insertSegment(0, sine, (float(f), 0.3, 0.0, 0.0), dur=float(t))
            bp.insertSegment(-1, ramp, (0.1, 0.1), dur=10e-6)
            bp.setSR(SR)
            elem = bb.Element()
            elem.addBluePrint(1, bp)
            seqn.addElement(pos, elem)
            pos += 1
    seqn.setSR(SR)
    seqn.setChannelAmplitude(1, 1.5)
    seqn.setChannelOffset(1, 0)
    forged = seqn.forge(apply_delays=False, apply_filters=False)
    return sum(len(s["content"][1]["data"][1]["wfm"]) for s in forged.values())


def warm_anchor_imports() -> None:
    """Import the anchors before timing them: the first import of qupulse (sympy) takes
    about a second, which would otherwise be charged to whichever anchor runs first."""
    for mod in ("qupulse.pulses", "qupulse.plotting", "broadbean"):
        with contextlib.suppress(ImportError):
            __import__(mod)


def anchor(fn: Callable[[], int], repeats: int = 1) -> tuple[float | None, str]:
    """Wall time of ``fn`` (median of ``repeats`` runs) and what it produced."""
    try:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            n = fn()
            times.append(time.perf_counter() - t0)
        how = f", median of {repeats}" if repeats > 1 else ""
        return statistics.median(times), f"{n:.3g} samples{how}"
    except Exception as err:  # report, do not hide: the anchor could not express it
        return None, f"failed: {type(err).__name__}: {str(err)[:80]}"


def numpy_fill_raster() -> np.ndarray:
    out = np.empty((2, 10_000_000), dtype=np.int16)
    out[0].reshape(100, 100, 1000)[:] = np.rint(P1 / LIM.lsb).astype(np.int16)[None, :, None]
    out[1].reshape(100, 100_000)[:] = np.rint(P2 / LIM.lsb).astype(np.int16)[:, None]
    return out


def numpy_fill(n: int) -> Callable[[], np.ndarray]:
    return lambda: np.full(n, 7, dtype=np.int16)


def line(name: str, t_ours: float, t_render: float, t_fill: float,
         anchors: dict[str, tuple[float | None, str]], extra: str) -> str:
    parts = [f"{name}: ours compile+render {t_ours * 1e3:.1f} ms, render {t_render * 1e3:.1f} ms",
             f"numpy fill {t_fill * 1e3:.1f} ms; render/fill {t_render / t_fill:.2f}x "
             f"[goal <=2x: {'MET' if t_render <= 2 * t_fill else 'NOT MET'}], "
             f"(compile+render)/fill {t_ours / t_fill:.2f}x"]
    parts += anchor_parts(anchors, t_ours, with_note=False)
    return "; ".join([*parts, extra])


def anchor_parts(anchors: dict[str, tuple[float | None, str]], t_ours: float, *,
                 with_note: bool) -> list[str]:
    """One part per anchor (its time and how much slower it is), then the >= 10x goal."""
    parts, times = [], []
    for key, (t, note) in anchors.items():
        if t is None:
            parts.append(f"{key} {note}")
        else:
            times.append(t)
            why = f"{note}; " if with_note else ""
            parts.append(f"{key} {t:.2f} s ({why}{t / t_ours:.0f}x slower than ours)")
    if times:
        r = min(times) / t_ours
        parts.append(f"fastest anchor / ours {r:.0f}x [goal >=10x: "
                     f"{'MET' if r >= 10 else 'NOT MET'}]")
    return parts


def main() -> None:
    warm_anchor_imports()
    # (a) raster
    rs = raster_sweep()
    t_ours, (prog, out) = best(lambda: ours(rs, ("P1", "P2")))
    t_render, _ = best(lambda: render(prog, "raw"))
    n_samples = sum(v.size for v in out.values())
    t_fill, ref = best(numpy_fill_raster)
    assert np.array_equal(out["P1"], ref[0]) and np.array_equal(out["P2"], ref[1])
    mem = peak_bytes(lambda: ours(rs, ("P1", "P2"))) / n_samples
    anchors = {"qupulse": anchor(qupulse_raster), "broadbean": anchor(broadbean_raster)}
    print(line(f"raster {n_samples:.3g} samples", t_ours, t_render, t_fill, anchors,
               f"{len(prog.table)} steps, {prog.n_waveforms} unique waveforms; "
               f"peak memory {mem:.2f} B/sample [goal <=4: {'MET' if mem <= 4 else 'NOT MET'}]"))

    # (b) Rabi chevron
    rb = rabi_sweep()
    target = [AwgTarget("awg", LIM, ("P1",))]
    t_compile, prog = best(lambda: compile_schedule(rb, target).programs["awg"], 5)
    t_ours, (prog, out) = best(lambda: ours(rb, ("P1",)))
    t_render, _ = best(lambda: render(prog, "raw"))
    n_samples = out["P1"].size
    t_fill, _ = best(numpy_fill(n_samples))
    mem = peak_bytes(lambda: ours(rb, ("P1",))) / n_samples
    lengths = prog.waveform_lengths
    gran_ok = bool(np.all(lengths % LIM.granularity == 0) and np.all(lengths >= LIM.min_length))
    unique = len({w.data.tobytes() for w in prog.waveforms}) == len(prog.waveforms)
    plateaus = sum(1 for w in prog.waveforms if np.all(w.data == w.data[0]))
    anchors = {"qupulse": anchor(qupulse_rabi), "broadbean": anchor(broadbean_rabi)}
    ok = t_compile <= 0.1 and gran_ok and unique
    print(line(f"rabi {n_samples:.3g} samples", t_ours, t_render, t_fill, anchors,
               f"compile {t_compile * 1e3:.1f} ms to {len(prog.table)} steps / "
               f"{len(prog.waveforms)} unique waveforms ({plateaus} shared plateau), "
               f"granularity/min-length ok={gran_ok}, dedup ok={unique} [goal <=100 ms: "
               f"{'MET' if ok else 'NOT MET'}]; peak memory {mem:.2f} B/sample "
               f"[goal <=4: {'MET' if mem <= 4 else 'NOT MET'}]"))

    virtual_gate_recompile()


def virtual_gate_recompile() -> None:
    """Raster in virtual gates; change the matrix; recompile. The timeline binding is
    reused (the sweep did not change). The goal is judged on the recompile to a Program;
    materialising the waveform samples (what an upload sends) is timed on its own."""
    layer = VirtualGateLayer(("vP1", "vP2"), ("P1", "P2"), [[1.0, -0.2], [-0.3, 1.0]])
    gates = VirtualGates((layer,))
    vstep = par(vP1=Hold(1e-6, Param("p1")), vP2=Hold(1e-6, Param("p2")))
    vs = sweep(vstep, ("p2", P2), ("p1", P1))
    vt = [AwgTarget("awg", LIM, ("P1", "P2"))]
    t0 = time.perf_counter()
    compile_schedule(vs, vt, virtual_gates=gates)
    t_cold = time.perf_counter() - t0
    mats = [[[1.0, -0.2 - 0.001 * k], [-0.3, 1.0]] for k in range(1, 12)]
    times, t_mat, progs = [], [], []
    for m in mats:
        g = gates.with_matrix(0, m)
        t0 = time.perf_counter()
        prog = compile_schedule(vs, vt, virtual_gates=g).programs["awg"]
        times.append(time.perf_counter() - t0)
        progs.append((prog, g))
    for prog, _ in progs[:5]:  # buffers freed between runs, as for the numpy fill
        t0 = time.perf_counter()
        data = prog.waves.materialise()
        t_mat.append(time.perf_counter() - t0)
        del data
    prog, g = progs[0]
    n_mat = int(prog.waveform_lengths.sum())
    t_fill, _ = best(numpy_fill(n_mat), 5)
    assert sum(len(d) for d in prog.waveform_data) == n_mat
    got = render(prog, "raw")
    p2, p1 = (a.ravel() for a in np.meshgrid(P2, P1, indexing="ij"))
    real = g.to_real({"vP1": p1, "vP2": p2})
    want = {ch: np.rint((real[ch] - LIM.mid) / LIM.lsb) for ch in ("P1", "P2")}
    exact = all(np.abs(got[ch].reshape(p1.size, -1) - want[ch][:, None]).max() <= 1
                for ch in ("P1", "P2"))
    small = sweep(vstep, ("p2", P2[::4]), ("p1", P1[::4]))
    t_small, _ = best(lambda: compile_schedule(small, vt, virtual_gates=gates.with_matrix(
        0, mats[1])), 5)
    med, med_mat = float(np.median(times)), float(np.median(t_mat))
    print(f"virtual-gate recompile (matrix change -> Program: sequence table + unique "
          f"waveforms as levels/run lengths, samples not yet written): 100x100 raster median "
          f"{med * 1e3:.1f} ms (min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f} ms, "
          f"{len(times)} matrices; first compile incl. binding {t_cold * 1e3:.1f} ms) "
          f"[goal <=10 ms on the median: {'MET' if med <= 0.01 else 'NOT MET'}]; "
          f"{len(prog.table)} steps, {prog.n_waveforms} unique waveforms "
          f"({prog.waves.n_compact()} as runs), rendered = expected DAC codes (+-1 LSB): "
          f"{exact}; 25x25 raster {t_small * 1e3:.1f} ms")
    print(f"virtual-gate materialise (lazy: Program.waveform_data on first access, as an "
          f"upload needs it): {n_mat:.3g} samples ({n_mat * 2 / 1e6:.0f} MB int16) "
          f"median {med_mat * 1e3:.1f} ms (min {min(t_mat) * 1e3:.1f} ms; numpy fill of as "
          f"many samples {t_fill * 1e3:.1f} ms); recompile + materialise median "
          f"{(med + med_mat) * 1e3:.1f} ms [no goal: the goal is on the recompile]")


# --- (c) video raster ------------------------------------------------------------------------
VR_LIM = AWG5208  # 2.5 GS/s, min waveform length 2400, +-0.75 V
VR_NX, VR_NY, VR_SPP = 100, 100, 2000  # pixels per row, rows, samples per pixel
VR_ROW = VR_NX * VR_SPP  # samples per row (one P1 ramp)
VR_T = VR_ROW / VR_LIM.sample_rate  # 80 us
VR_A1, VR_A2 = 0.3, 0.2  # V: vP1 ramps -A1 -> A1 along a row, vP2 steps -A2 .. A2 over rows
VR_P2 = np.linspace(-VR_A2, VR_A2, VR_NY)
VR_M = ((1.0, -0.2), (-0.3, 1.0))  # real (P1, P2) = M @ virtual (vP1, vP2)
VR_LSB16 = 1.5 / (2**16 - 2)  # a 16-bit LSB over +-0.75 V


def video_sweep() -> Any:
    row = par(vP1=Ramp(VR_T, -VR_A1, VR_A1), vP2=Hold(VR_T, Param("p2")))
    return sweep(row, ("p2", VR_P2))


def video_gates(m: Any = VR_M) -> VirtualGates:
    return VirtualGates((VirtualGateLayer(("vP1", "vP2"), ("P1", "P2"), m),))


VR_TARGET = [AwgTarget("awg", VR_LIM, ("P1", "P2"), output="float32")]


VR_TARGET16 = [AwgTarget("awg", VR_LIM, ("P1", "P2"))]  # the default output: int16 DAC codes


def video_ours(vs: Any, gates: VirtualGates, target: Any = VR_TARGET) -> Any:
    prog = compile_schedule(vs, target, virtual_gates=gates).programs["awg"]
    return prog, render(prog, "raw")


def video_fill16(m: Any = VR_M) -> np.ndarray:
    """The expected int16 DAC codes, written with vectorised numpy (row by row, in place)."""
    out = np.empty((2, VR_NY, VR_ROW), dtype=np.int16)
    ramp = np.arange(VR_ROW) * (2 * VR_A1 / VR_ROW) - VR_A1
    for c in range(2):
        base = (m[c][0] * ramp - VR_LIM.mid) / VR_LIM.lsb
        for j, level in enumerate(m[c][1] * VR_P2 / VR_LIM.lsb):
            np.rint(base + level, out=out[c, j], casting="unsafe")
    return out.reshape(2, -1)


def video_codes(repeats: int = 5) -> None:
    """The same raster in the sequencer's default output, int16 DAC codes (what a 16-bit DAC
    plays): compile + render vs a numpy fill of the codes, and the peak memory."""
    vs, gates = video_sweep(), video_gates()
    n = 2 * VR_NY * VR_ROW
    video_ours(vs, gates, VR_TARGET16)
    t_ours, t_fill = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        prog, out = video_ours(vs, gates, VR_TARGET16)
        t_ours.append(time.perf_counter() - t0)
        del prog, out
        t0 = time.perf_counter()
        ref = video_fill16()
        t_fill.append(time.perf_counter() - t0)
        del ref
    _, out = video_ours(vs, gates, VR_TARGET16)
    ref = video_fill16()
    err = max(int(np.abs(out[ch].astype(np.int32) - ref[c]).max())
              for c, ch in enumerate(("P1", "P2")))
    del out, ref
    mem = peak_bytes(lambda: video_ours(vs, gates, VR_TARGET16)) / n
    med, fill = statistics.median(t_ours), statistics.median(t_fill)
    print(f"video raster as int16 DAC codes (the sequencer's default output; same raster): ours "
          f"compile+render median {med * 1e3:.1f} ms, numpy fill of the codes median "
          f"{fill * 1e3:.1f} ms; (compile+render)/fill {med / fill:.2f}x "
          f"[goal <=3x: {'MET' if med / fill <= 3 else 'NOT MET'}]; max |ours - numpy| {err} LSB "
          f"[<=1: {'ok' if err <= 1 else 'FAILED'}]; peak memory {mem:.4f} B/sample (output 2 + "
          f"working {mem - 2:.4f}) [goal <=4: {'MET' if mem <= 4 else 'NOT MET'}]")


def video_fill(m: Any = VR_M) -> np.ndarray:
    """The expected float32 samples, written with vectorised numpy (one pass per channel)."""
    out = np.empty((2, VR_NY, VR_ROW), dtype=np.float32)
    ramp = np.arange(VR_ROW) * (2 * VR_A1 / VR_ROW) - VR_A1
    for c in range(2):
        np.add((m[c][0] * ramp).astype(np.float32)[None, :],
               (m[c][1] * VR_P2).astype(np.float32)[:, None], out=out[c])
    return out.reshape(2, -1)


def qupulse_video() -> int:
    from qupulse.plotting import render as qrender
    from qupulse.pulses import AtomicMultiChannelPT, ForLoopPT, FunctionPT

    (a, b), (c, d) = VR_M
    ramp = "(-a1 + 2*a1*t/T)"
    level = "(p0 + j*dp)"
    p1 = FunctionPT(f"{a}*{ramp} + {b}*{level}", "T", channel="P1")
    p2 = FunctionPT(f"{c}*{ramp} + {d}*{level}", "T", channel="P2")
    pt = ForLoopPT(AtomicMultiChannelPT(p1, p2), "j", VR_NY)
    prog = pt.create_program(parameters=dict(a1=VR_A1, T=VR_T * 1e9, p0=VR_P2[0],
                                             dp=VR_P2[1] - VR_P2[0]))
    _, vals, _ = qrender(prog, sample_rate=VR_LIM.sample_rate / 1e9)
    return sum(v.size for v in vals.values())


def broadbean_video() -> int:
    """One element per row, one ramp segment per channel (the virtual-gate mix done by hand:
    broadbean has no virtual gates)."""
    import broadbean as bb

    seqn = bb.Sequence()
    for row, p2 in enumerate(VR_P2, start=1):
        elem = bb.Element()
        for ch in (1, 2):
            a, b = VR_M[ch - 1]
            bp = bb.BluePrint()
            bp.insertSegment(0, bb.PulseAtoms.ramp, (-a * VR_A1 + b * p2, a * VR_A1 + b * p2),
                             dur=VR_T)
            bp.setSR(VR_LIM.sample_rate)
            elem.addBluePrint(ch, bp)
        seqn.addElement(row, elem)
    seqn.setSR(VR_LIM.sample_rate)
    for ch in (1, 2):
        seqn.setChannelAmplitude(ch, 1.5)
        seqn.setChannelOffset(ch, 0)
    forged = seqn.forge(apply_delays=False, apply_filters=False)
    return sum(len(c["wfm"]) for s in forged.values() for c in s["content"][1]["data"].values())


def _installed(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def video_raster(repeats: int = 7) -> None:
    """Compile + render vs a numpy fill, side by side; anchors; virtual-gate change."""
    warm_anchor_imports()
    load0 = os.getloadavg()
    vs, gates = video_sweep(), video_gates()
    n = 2 * VR_NY * VR_ROW
    video_ours(vs, gates)  # first compile binds the sweep to the sample grid (cached)
    t_ours, t_fill = [], []
    for _ in range(repeats):  # side by side; buffers freed between runs
        t0 = time.perf_counter()
        prog, out = video_ours(vs, gates)
        t_ours.append(time.perf_counter() - t0)
        del prog, out
        t0 = time.perf_counter()
        ref = video_fill()
        t_fill.append(time.perf_counter() - t0)
        del ref
    _, out = video_ours(vs, gates)
    ref = video_fill()
    err = max(float(np.abs(out[ch].astype(np.float64) - ref[c]).max())
              for c, ch in enumerate(("P1", "P2")))
    del out, ref
    mem = peak_bytes(lambda: video_ours(vs, gates)) / n
    anchors = {}
    for key, fn in (("qupulse", qupulse_video), ("broadbean", broadbean_video)):
        anchors[key] = anchor(fn, 3) if _installed(key) else (None, "not installed (missing)")
    # virtual-gate change: a new matrix -> Program (levels and slopes per segment recomputed)
    mats = [((1.0, -0.2 - 0.001 * k), (-0.3 + 0.002 * k, 1.0)) for k in range(1, 12)]
    t_vg, t_vg_render = [], []
    for m in mats:
        g = video_gates(m)
        t0 = time.perf_counter()
        p = compile_schedule(vs, VR_TARGET, virtual_gates=g).programs["awg"]
        t_vg.append(time.perf_counter() - t0)
        if len(t_vg_render) < 3:
            t0 = time.perf_counter()
            o = render(p, "raw")
            t_vg_render.append(time.perf_counter() - t0)
            del o
        del p
    g = video_gates(mats[-1])
    got = render(compile_schedule(vs, VR_TARGET, virtual_gates=g).programs["awg"], "raw")
    want = video_fill(mats[-1])
    vg_err = max(float(np.abs(got[ch].astype(np.float64) - want[c]).max())
                 for c, ch in enumerate(("P1", "P2")))
    del got, want
    load1 = os.getloadavg()

    med, fill = statistics.median(t_ours), statistics.median(t_fill)
    r = med / fill
    ok_err = err <= 0.5 * VR_LSB16 and vg_err <= 0.5 * VR_LSB16
    parts = [f"video raster {n:.3g} samples ({VR_NY} rows x {VR_NX} px x {VR_SPP} samples/px at "
             f"{VR_LIM.sample_rate / 1e9:g} GS/s, float32, 2x2 virtual gates; load "
             f"{load0[0]:.2f} -> {load1[0]:.2f} on {os.cpu_count()} cores): ours compile+render "
             f"median {med * 1e3:.1f} ms (min {min(t_ours) * 1e3:.1f}, {repeats} runs), "
             f"numpy fill median {fill * 1e3:.1f} ms (min {min(t_fill) * 1e3:.1f}); "
             f"(compile+render)/fill {r:.2f}x [goal <=3x: {'MET' if r <= 3 else 'NOT MET'}]",
             f"max |ours - numpy| {err:.2g} V = {err / VR_LSB16:.3f} LSB16 "
             f"[<=0.5: {'ok' if ok_err else 'FAILED'}]"]
    parts += anchor_parts(anchors, med, with_note=True)
    out_b = 4.0  # the float32 output itself
    parts.append(f"peak memory {mem:.4f} B/sample (output {out_b:.0f} + working "
                 f"{mem - out_b:.4f}) [goal <=4: {'MET' if mem <= 4 else 'NOT MET'}"
                 f"{'' if mem <= 4 else f' by {(mem - 4) / 4:.2%}: the float32 output alone is 4'}]")
    print("; ".join(parts))
    vmed, vr = statistics.median(t_vg), statistics.median(t_vg) / fill
    print(f"video raster virtual-gate change (matrix -> Program: levels and slopes per segment, "
          f"samples not written): median {vmed * 1e3:.2f} ms (min {min(t_vg) * 1e3:.2f}, max "
          f"{max(t_vg) * 1e3:.2f} ms, {len(mats)} matrices) = {vr:.3f}x numpy fill "
          f"[goal <=2x fill: {'MET' if vr <= 2 else 'NOT MET'}; <=10 ms: "
          f"{'MET' if vmed <= 0.01 else 'NOT MET'}]; then render median "
          f"{statistics.median(t_vg_render) * 1e3:.1f} ms; new samples vs numpy "
          f"{vg_err / VR_LSB16:.3f} LSB16")


if __name__ == "__main__":
    if "--video" in sys.argv[1:]:
        video_raster()
        video_codes()
    else:
        main()
        video_raster()
        video_codes()

"""Fault campaign (issue 10 point 2): >= 200 injected faults across the DC experiments.

Each case runs one experiment (gate_sweep in software and hardware mode, pinch_off,
sensor_scan, charge_stability; small grids, virtual clock) on a fresh mock station with one
seeded random fault on the QDAC-II or the 34465A: timeout, dropped connection, garbled reply,
SCPI error, reset, slow reply; most hit one message, some leave the instrument broken for the
rest of the run.  ``python benchmarks/fault_campaign.py`` prints::

    faults injected: N (of M planned; the others found no message to hit)
    errors naming instrument and command: E/F
    runs ended failed with data readable: D/R (and B experiments stopped before their run)
    hangs (watchdog 120 s): 0/N
    gates safe: S/N (restored R, not restored but reported P)
    committed points lost: 0 of W written
    tolerated (run completed): slow replies C/…, resets with no effect …

(F: the faults that ended the run with an error) and exits 1 on any hang, lost point, unsafe
gate, error not naming its instrument and command, or failed run without readable data.  A
slow reply is a fault the stack should ride out (the reply arrives, later in lab time): its
run completes.  A reset is caught by read-backs (a held gate, the meter's settings); one that
changes nothing the run relies on (e.g. before any gate moved) lets the run complete.  The
harness is ``tests/faults/harness.py``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))

from harness import EXPERIMENTS, INSTRUMENTS, Verdict, run_case, traffic

from dotstack.mocks.scpi import Fault
from dotstack.mocks.scpi.faults import KINDS, REPLY_KINDS


def plan_fault(rng: random.Random, kind: str, instrument: str,
               counts: tuple[int, int]) -> Fault:
    """A fault of ``kind`` on ``instrument`` somewhere in a run of ``counts`` (messages,
    queries): on the n-th counted message, or at random with p = 1/counted."""
    counted = max(1, counts[1] if kind in REPLY_KINDS else counts[0])
    broken = rng.random() < 0.15 and kind in ("timeout", "drop", "error", "garble")
    if rng.random() < 0.3:
        return Fault(kind, instrument, probability=min(1.0, 2.0 / counted),
                     count=None if broken else 1, delay=rng.uniform(0.05, 2.0) if kind == "slow"
                     else 0.0)
    return Fault(kind, instrument, at=rng.randint(1, counted), count=None if broken else 1,
                 delay=rng.uniform(0.05, 2.0) if kind == "slow" else 0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--faults", type=int, default=200, help="faults to inject (that fire)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--show", type=int, default=5, help="problems printed")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    verdicts: list[Verdict] = []
    planned = 0
    with tempfile.TemporaryDirectory(prefix="fault_campaign_") as tmp:
        out = Path(tmp)
        load = {name: traffic(name, out / "reference") for name in EXPERIMENTS}
        combos = [(e, i, k) for e in EXPERIMENTS for i in INSTRUMENTS for k in KINDS]
        while len(verdicts) < args.faults:
            experiment, instrument, kind = combos[planned % len(combos)]
            planned += 1
            fault = plan_fault(rng, kind, instrument, load[experiment][instrument])
            v = run_case(fault, experiment, out / f"case{planned}")
            if v.fired:
                verdicts.append(v)
    elapsed = time.perf_counter() - t0
    return report(verdicts, planned, elapsed, args.show)


def report(verdicts: list[Verdict], planned: int, elapsed: float, show: int) -> int:
    n = len(verdicts)
    errored = [v for v in verdicts if not v.completed and not v.hang]
    named = sum(v.names_instrument_and_command for v in errored)
    runs = [v for v in errored if not v.before_run]
    failed_readable = sum(v.failed_in_store and v.data_readable for v in runs)
    hangs = sum(v.hang for v in verdicts)
    safe = sum(v.gates_safe for v in verdicts if not v.hang)
    restored = sum(v.gates_restored for v in verdicts if not v.hang)
    reported = sum(v.gates_reported for v in verdicts if not v.hang)
    written = sum(v.written for v in verdicts)
    lost = sum(v.lost for v in verdicts)
    kinds = Counter(v.fault.kind for v in verdicts)
    completed = Counter(v.fault.kind for v in verdicts if v.completed)
    print(f"fault campaign: {n} faults over {len(EXPERIMENTS)} experiments x "
          f"{len(INSTRUMENTS)} instruments ({', '.join(f'{k} {kinds[k]}' for k in KINDS)})  "
          f"[{elapsed:.0f} s]")
    print(f"faults injected: {n} (of {planned} planned; the others found no message to hit)")
    print(f"errors naming instrument and command: {named}/{len(errored)}")
    print(f"runs ended failed with data readable: {failed_readable}/{len(runs)} (and "
          f"{len(errored) - len(runs)} experiments stopped before their run was created)")
    print(f"hangs (watchdog): {hangs}/{n}")
    print(f"gates safe: {safe}/{n - hangs} (restored {restored}, not restored but reported "
          f"{reported})")
    print(f"committed points lost: {lost} of {written} written")
    recovered = sum(v.completed and v.after_data and v.fault.kind not in ("slow", "reset")
                    for v in verdicts)
    print(f"tolerated (run completed): slow replies {completed['slow']}/{kinds['slow']}, "
          f"resets with no effect {completed['reset']}/{kinds['reset']}, other faults hitting "
          f"the final restore (reconnected and retried) {recovered}")
    bad = [v for v in verdicts if v.hang or v.lost or not v.gates_safe
           or (v.completed and v.fault.kind not in ("slow", "reset") and not v.after_data)
           or (not v.completed and not v.names_instrument_and_command)
           or (not v.completed and not v.before_run and not (v.failed_in_store
                                                             and v.data_readable))]
    for v in bad[:show]:
        print(f"  PROBLEM {v.experiment} {v.fault}: completed={v.completed} hang={v.hang} "
              f"lost={v.lost} gates_safe={v.gates_safe} error={v.error[:300]!r} {v.notes}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

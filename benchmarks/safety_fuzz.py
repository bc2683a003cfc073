"""Safety fuzz (issue 10 point 3): >= 10,000 random gate requests on the QDAC-II and >= 1,000
random AWG5208 programs, seeded; every output a mock is asked for is checked against the limits.

``python benchmarks/safety_fuzz.py`` prints one line per workload::

    dac: requests N, refused R, reached the instrument A, outputs checked K, outside limits 0

and exits 1 if any value outside a gate's limits (or a DAC step above ``max_step``, or a slew
above ``max_ramp_rate``) reached a mock.  The harness is ``tests/safety/safety_harness.py``.

By default every request pattern is fuzzed, including those of the holes already found (see
``tests/safety/test_safety_fuzz.py``: restarting a stale or running DC generator, limits with a
finite ``max_step`` and an infinite ``max_ramp_rate``); ``--without-known-holes`` leaves those
patterns out, to check the rest on its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "safety"))

from safety_harness import Counts, awg_session, dac_session

COMMAND_TIMES = (0.0, 2e-5, 1e-3)  # lab time a QDAC query takes: none, realistic, slow


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dac-requests", type=int, default=10_000)
    ap.add_argument("--awg-programs", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--without-known-holes", action="store_true")
    ap.add_argument("--show", type=int, default=5, help="violations printed per workload")
    args = ap.parse_args()
    known = not args.without_known_holes

    dac, t0 = Counts(), time.perf_counter()
    session, per_session = 0, 200
    while dac.requests < args.dac_requests:
        n = min(per_session, args.dac_requests - dac.requests)
        c = dac_session(
            args.seed * 100_003 + session,
            n,
            command_time=COMMAND_TIMES[session % len(COMMAND_TIMES)],
            known_holes=known,
        )
        dac.requests += c.requests
        dac.refused += c.refused
        dac.reached += c.reached
        dac.outputs += c.outputs
        dac.violations += c.violations
        session += 1
    t_dac = time.perf_counter() - t0

    awg, t0 = Counts(), time.perf_counter()
    session, per_session = 0, 100
    while awg.requests < args.awg_programs:
        n = min(per_session, args.awg_programs - awg.requests)
        c = awg_session(args.seed * 100_003 + session, n)
        awg.requests += c.requests
        awg.refused += c.refused
        awg.reached += c.reached
        awg.outputs += c.outputs
        awg.violations += c.violations
        session += 1
    t_awg = time.perf_counter() - t0

    mode = "all request patterns" if known else "without the known holes' patterns"
    print(f"safety fuzz, seed {args.seed}, {mode}")
    for what, c, dt in (("dac (QDAC-II)", dac, t_dac), ("awg (AWG5208)", awg, t_awg)):
        print(f"{c.line(what)}  [{dt:.1f} s]")
        for v in c.violations[: args.show]:
            print(f"    {v[:300]}")
    return 1 if dac.violations or awg.violations else 0


if __name__ == "__main__":
    sys.exit(main())

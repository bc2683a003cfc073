"""`SpinSimulator`: batches of single-shot spin records from a sequence of segments.

One call of `SpinSimulator.run` simulates ``shots`` repetitions of one `SpinSequence`: per shot
a fresh realisation of the charge noise (`dephasing.sample_means`), the two spins' density
matrices through the segments in closed form (`engine.evolve`), a projective measurement of
both spins, and the readout's single-shot signal (`readout`).  Every shot starts with both
spins down.  Randomness comes from a stream seeded by (seed, stream, key): the same seed, key
and sequence give the same records; without a key, calls are numbered in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics.spin import engine
from dotstack.mocks.physics.spin.dephasing import sample_means
from dotstack.mocks.physics.spin.params import AcField, SpinNoise, SpinParams, integer
from dotstack.mocks.physics.spin.readout import PsbReadout, Readout, draw
from dotstack.mocks.physics.spin.segments import SpinSegment, SpinSequence
from dotstack.mocks.physics.spin.truth import spin_truth

Array = NDArray[np.float64]
_M64 = (1 << 64) - 1


@dataclass(frozen=True)
class ShotRecords:
    """What one batch of shots gave.

    ``signal``: the readout's single-shot signal (V) per shot, what a digitizer integrates;
    ``up``: the projected spin states (shots, 2) behind it (simulator truth); ``p_up``: each
    shot's spin-up probabilities before the projection (shots, 2); ``up_level``/``down_level``:
    the readout's nominal signal for the read spin up/down (V)."""

    signal: Array
    up: NDArray[np.bool_]
    p_up: Array
    up_level: float
    down_level: float

    @property
    def shots(self) -> int:
        return int(self.signal.size)

    def classify(self, threshold: float) -> NDArray[np.bool_]:
        """Spin up per shot: the signal on the up level's side of ``threshold``."""
        if self.up_level > self.down_level:
            return np.asarray(self.signal > threshold)
        return np.asarray(self.signal < threshold)


class SpinSimulator:
    """Spin physics of the double dot (see the package docstring).

    ``params``, ``noise``, ``readout`` (`PsbReadout` or `ElzermanReadout`), ``ac_field`` (None:
    none); ``seed`` and ``stream`` seed the random streams."""

    def __init__(self, params: SpinParams | None = None, *, noise: SpinNoise | None = None,
                 readout: Readout | None = None, ac_field: AcField | None = None,
                 seed: int = 0, stream: int = 90) -> None:
        self.params = params if params is not None else SpinParams()
        self.noise = noise if noise is not None else SpinNoise()
        self.readout: Readout = readout if readout is not None else PsbReadout()
        self.ac_field = ac_field
        self.seed = integer("SpinSimulator", "seed", seed) & _M64
        self.stream = integer("SpinSimulator", "stream", stream)
        self._calls = 0

    def rng(self, key: Sequence[int] | int | None = None) -> np.random.Generator:
        """The random stream of one call (``key`` None: the next call number)."""
        if key is None:
            words = [self._calls]
            self._calls += 1
        else:
            raw = [key] if isinstance(key, int | np.integer) else list(key)
            words = [integer("SpinSimulator", "key", k) & _M64 for k in raw]
        return np.random.default_rng([self.seed, self.stream, *words])

    def run(self, sequence: SpinSequence | Sequence[SpinSegment], shots: int, *,
            key: Sequence[int] | int | None = None) -> ShotRecords:
        """``shots`` single-shot records of ``sequence`` followed by the readout."""
        seq = sequence if isinstance(sequence, SpinSequence) else SpinSequence.of(sequence)
        n = integer("SpinSimulator.run", "shots", shots, minimum=1)
        rng = self.rng(key)
        noise = sample_means(self.noise, seq.duration, n, rng)
        p, _ = engine.evolve(self.params, seq, noise, engine.ac_means(self.params,
                                                                       self.ac_field, seq))
        p_up = np.clip(p.T, 0.0, 1.0)
        up = rng.random((n, 2)) < p_up
        signal = draw(self.readout, up, self.params.t1, rng)
        return ShotRecords(signal=signal, up=up, p_up=p_up, up_level=self.readout.up_level,
                           down_level=self.readout.down_level)

    def ground_truth(self, *, drive_amplitude: float, spin: int = 1,
                     detuning_ev: float | None = None,
                     cpmg_pulses: Sequence[int] = (1, 2, 4, 8, 16)) -> dict[str, Any]:
        """JSON-able ground truth (see `dotstack.mocks.physics.spin.truth`)."""
        out = spin_truth(self.params, self.noise, self.readout, self.ac_field,
                         drive_amplitude=drive_amplitude, spin=spin, detuning_ev=detuning_ev,
                         cpmg_pulses=cpmg_pulses)
        out["seed"] = self.seed
        return out

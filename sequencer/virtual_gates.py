"""Virtual gates: layered linear maps from virtual to real gate voltages.

Each layer maps its ``inputs`` to its ``outputs`` (``out = matrix @ in``); names a layer
does not consume pass through unchanged. Layers apply in order, e.g. a virtual-plunger
layer followed by a sensor-compensation layer. The composed map is linear, so the
compiler applies it to the levels and slopes of holds and ramps (a matrix change
recomputes those per segment, no samples) and to the samples of other segments (any
segment type works on virtual lanes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.errors import SequencerError

Matrix = tuple[tuple[float, ...], ...]


def _as_matrix(m: Sequence[Sequence[float]] | npt.ArrayLike) -> Matrix:
    try:
        arr = np.asarray(m, dtype=float)
    except (TypeError, ValueError) as err:
        raise SequencerError(f"virtual-gate matrix is not numeric: {err}") from None
    if arr.ndim != 2:
        raise SequencerError(f"virtual-gate matrix must be 2D, got shape {arr.shape}")
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        i, j = (int(x) for x in bad[0])
        raise SequencerError(f"virtual-gate matrix entry [{i}, {j}] is {float(arr[i, j])!r}: "
                             "non-finite values (NaN, inf) are refused")
    return tuple(tuple(row) for row in arr.tolist())


@dataclass(frozen=True)
class VirtualGateLayer:
    """``outputs = matrix @ inputs`` (matrix shape: len(outputs) × len(inputs))."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    matrix: Matrix

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "matrix", _as_matrix(self.matrix))
        rows, cols = len(self.matrix), len(self.matrix[0]) if self.matrix else 0
        if (rows, cols) != (len(self.outputs), len(self.inputs)):
            raise SequencerError(
                f"virtual-gate matrix is {rows}×{cols}, expected "
                f"{len(self.outputs)}×{len(self.inputs)} (outputs × inputs)")
        if len(set(self.inputs)) != len(self.inputs) or len(set(self.outputs)) != len(
                self.outputs):
            raise SequencerError("virtual-gate layer names must be unique")

    @classmethod
    def from_capacitance(cls, real: Sequence[str], virtual: Sequence[str],
                         cross_capacitance: npt.ArrayLike) -> VirtualGateLayer:
        """Layer whose virtual gates undo a cross-capacitance matrix (real = C⁻¹ @ virtual)."""
        cap = _as_matrix(cross_capacitance)
        try:
            inv = np.linalg.inv(np.asarray(cap, dtype=float))
        except np.linalg.LinAlgError as err:
            raise SequencerError(f"cross-capacitance matrix cannot be inverted: {err}") from None
        return cls(tuple(virtual), tuple(real), _as_matrix(inv))


@dataclass(frozen=True)
class VirtualGates:
    """An ordered stack of layers."""

    layers: tuple[VirtualGateLayer, ...] = ()

    def with_matrix(self, index: int, matrix: npt.ArrayLike) -> VirtualGates:
        """Copy with layer ``index``'s matrix replaced."""
        layers = list(self.layers)
        layers[index] = replace(layers[index], matrix=_as_matrix(matrix))
        return VirtualGates(tuple(layers))

    def compose(self, lanes: Sequence[str]) -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
        """Real channel names and the matrix M with ``real = M @ lanes``."""
        names, mat = _compose(self, tuple(lanes))
        return names, mat.copy()

    def to_real(self, values: dict[str, npt.ArrayLike]) -> dict[str, npt.NDArray[np.float64]]:
        """Map virtual values (arrays broadcasting together) to real-gate values."""
        names, mat = _compose(self, tuple(values))
        stacked = np.stack(np.broadcast_arrays(*[np.asarray(v, float) for v in values.values()]))
        out = np.tensordot(mat, stacked, axes=1)
        return {n: out[i] for i, n in enumerate(names)}


@lru_cache(maxsize=256)
def _compose(gates: VirtualGates, lanes: tuple[str, ...]
             ) -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
    n = len(lanes)
    current: dict[str, npt.NDArray[np.float64]] = {
        name: np.eye(n)[i] for i, name in enumerate(lanes)}
    for layer in gates.layers:
        passed = {k: v for k, v in current.items() if k not in layer.inputs}
        clash = set(passed) & set(layer.outputs)
        if clash:
            raise SequencerError(
                f"virtual-gate layer outputs {sorted(clash)} collide with untouched names; "
                "list them as layer inputs too")
        ins = np.stack([current.get(i, np.zeros(n)) for i in layer.inputs]) if layer.inputs \
            else np.zeros((0, n))
        outs = np.asarray(layer.matrix, dtype=float) @ ins
        passed.update({o: outs[k] for k, o in enumerate(layer.outputs)})
        current = passed
    names = tuple(current)
    mat = np.stack([current[k] for k in names]) if names else np.zeros((0, n))
    return names, mat

# mypy: allow-untyped-defs
"""Shared helpers for the run-store tests."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.store import Axis, Quantity


@pytest.fixture
def axes_2d() -> list[Axis]:
    return [Axis("P1", "V", "plunger P1", np.linspace(0, 0.1, 7)),
            Axis("P2", "V", "plunger P2", np.linspace(-0.1, 0, 5))]


@pytest.fixture
def current() -> Quantity:
    return Quantity("I", "A", "sensor current")


@pytest.fixture
def direct_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys the committer writes through its direct whole-chunk path (``_zarrio.put``)."""
    from dotstack.store import _zarrio as zio

    keys: list[str] = []
    put = zio.put

    def spy(store: object, key: str, data: bytes) -> None:
        keys.append(key)
        put(store, key, data)

    monkeypatch.setattr(zio, "put", spy)
    return keys

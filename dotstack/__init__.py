"""dotstack: hardware control for quantum-dot and quantum-sensor labs."""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("dotstack")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = ["__version__", "load"]


def __getattr__(name: str) -> Any:
    """``dotstack.load`` on first use: importing a subpackage (e.g. the pure sequencer) does not
    pull in zarr and xarray."""
    if name == "load":
        from dotstack.store import load

        return load
    raise AttributeError(f"module 'dotstack' has no attribute {name!r}")

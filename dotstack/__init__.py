"""dotstack: hardware control for quantum-dot and quantum-sensor labs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dotstack")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

from dotstack.store import load

__all__ = ["__version__", "load"]

"""Errors of the `dotstack` command line: one line and a hint, the traceback only with ``--debug``.

Every command runs inside `ReportingGroup.invoke`, which turns an exception into `CliError`
(`explain`) and prints it as ``error: <what went wrong> (hint: <what to do>)`` on stderr; exit
status 2 for a mistake in the command or its files, 1 for a failure while running.  A new command
therefore needs no error handling of its own: it raises `CliError` for what it checks itself and
lets the library's exceptions (`StationConfigError`, `LimitError`, ``KeyError("no gate ...")``,
an address in use, ...) through.
"""

from __future__ import annotations

import errno
import warnings
from typing import Any, TextIO

import typer
from typer.core import TyperGroup

#: exit status of a usage mistake (a bad option, parameter or file) and of a failed run
USAGE, FAILED = 2, 1


class CliError(Exception):
    """A mistake the command line reports in one line, with a hint of what to do instead."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def render(self) -> str:
        """``error: message (hint: hint)``; a multi-line message (a station file's problems,
        one per line) gets its hint on a last line."""
        text = f"error: {self.message}"
        if not self.hint:
            return text
        return f"{text}\nhint: {self.hint}" if "\n" in self.message else f"{text} (hint: {self.hint})"


_LIMITS_HINT = "each gate's limits are set in the station file (dotstack.gates.NAME.limits)"
_BUG_HINT = "not a known mistake: --debug prints the traceback"


def explain(exc: BaseException) -> CliError:
    """``exc`` as a one-line `CliError` with a hint."""
    from dotstack.drivers.protocols import LimitError
    from dotstack.station_config import StationConfigError
    from dotstack.store import RunStoreError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, StationConfigError):
        text = str(exc)
        if "could not connect" in text or "no mock lab at" in text:
            return CliError(text, "is the instrument (or `dotstack mock-lab serve`) running at the "
                                  "station's address?", FAILED)
        return CliError(text, "compare with the shipped dotstack/stations/mock.yaml and "
                              "real-template.yaml; editors check station.schema.json")
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return CliError(f"cannot listen: {exc.strerror or exc}",
                        "another process (a running `dotstack mock-lab serve`?) holds the port: "
                        "stop it, or choose another --base-port (0: free ports)", FAILED)
    if isinstance(exc, LimitError) or (isinstance(exc, ValueError) and "limits" in str(exc)):
        return CliError(str(exc), _LIMITS_HINT, FAILED)
    if isinstance(exc, KeyError):
        text = str(exc.args[0]) if exc.args else repr(exc)
        if text.startswith("no gate"):
            return CliError(text, "gate names are the keys of dotstack.gates in the station file",
                            USAGE)
        if text.startswith("no readout"):
            return CliError(text, "readout names are the keys of dotstack.readout in the station file",
                            USAGE)
        return CliError(f"KeyError: {text}", _BUG_HINT, FAILED)
    if isinstance(exc, RunStoreError):
        return CliError(str(exc), "`dotstack runs DIR` lists the runs of a data directory", FAILED)
    if isinstance(exc, (ConnectionError, TimeoutError)) or type(exc).__module__.startswith("pyvisa"):
        return CliError(f"{type(exc).__name__}: {exc}", "is the instrument (or the mock lab) "
                        "reachable at the station's address?", FAILED)
    if isinstance(exc, FileNotFoundError):
        return CliError(f"no such file: {exc.filename}", "check the path", USAGE)
    if isinstance(exc, ValueError):  # our library's refusals name what is wrong
        return CliError(str(exc), "--debug prints the traceback", FAILED)
    return CliError(f"{type(exc).__name__}: {exc}", _BUG_HINT, FAILED)


def _passes_through(exc: BaseException) -> bool:
    """Typer's own exceptions (exit, abort, usage errors): typer reports those itself."""
    return isinstance(exc, (typer.Exit, typer.Abort)) or \
        type(exc).__module__.split(".")[0] in ("typer", "click")


def _warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    typer.echo(f"warning: {message}", err=True)


class ReportingGroup(TyperGroup):
    """The root command group: runs a command, reports what it raises as `CliError` (unless the
    root's ``--debug`` is set), and shows warnings as one line each."""

    def invoke(self, ctx: Any) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            with warnings.catch_warnings():
                if not debug:
                    warnings.showwarning = _warning_line
                return super().invoke(ctx)
        except Exception as exc:
            if debug or _passes_through(exc):
                raise
            error = explain(exc)
            typer.echo(error.render(), err=True)
            raise typer.Exit(error.exit_code) from None

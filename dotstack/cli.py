"""The `dotstack` command line.

A command is one function: ``@app.command()`` on a function whose typed parameters are its
options (see `runs` below).  Errors need no code of their own: the root group (`ReportingGroup`)
prints whatever a command raises as one line with a hint (``--debug``: the traceback), so a
command raises `CliError` for what it checks itself and lets library exceptions through.  Import
heavy modules inside the function, so that ``dotstack --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from dotstack.cli_errors import CliError, ReportingGroup

app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,  # --debug: Python's own full traceback
                  help="dotstack: quantum-dot lab control, with a mock lab for hardware-free runs.")
mock_lab_app = typer.Typer(help="The simulated lab (mock instruments over loopback SCPI).",
                           no_args_is_help=True)
app.add_typer(mock_lab_app, name="mock-lab")
_STORAGE_HELP = ("fsspec storage options of a URL data directory, as JSON (e.g. "
                 """'{"client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}}')""")


def _version(value: bool) -> None:
    if value:
        from dotstack import __version__

        typer.echo(f"dotstack {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option(
        "--debug", help="On an error, print the full traceback instead of one line.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """dotstack: quantum-dot lab control, with a mock lab for hardware-free runs."""


@mock_lab_app.command("serve")
def mock_lab_serve(
    base_port: Annotated[int, typer.Option(help="First TCP port (0: ephemeral ports).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated device's noise.")] = 0,
    host: Annotated[str, typer.Option(help="Address to bind (loopback unless told).")] = "127.0.0.1",
    clock: Annotated[str, typer.Option(
        help="realtime: lab time is the wall clock (scripts may time.sleep; data differ from "
             "run to run); virtual: lab time moves only when an instrument waits (the same seed "
             "and commands give the same data; wait with LAB:WAIT? on the 'lab' port or a "
             "station's sleep).")] = "realtime",
) -> None:
    """Start the mock lab, print each instrument's VISA address, and run until interrupted.

    Each run against a served lab starts where the previous one left it (lab time, noise, gate
    voltages); for identical data, start a fresh lab with --clock virtual per run."""
    from dotstack.mocks.lab import MockLab

    if clock not in ("realtime", "virtual"):
        raise CliError(f"--clock must be 'realtime' or 'virtual', got {clock!r}",
                       hint="virtual for reproducible data, realtime to rehearse pacing")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with MockLab.create(seed=seed, clock=clock) as lab:
        addresses = lab.serve(host=host, base_port=base_port)
        for name, address in addresses.items():
            typer.echo(f"{name:6s} {address}")
        typer.echo(f"mock lab running on a {clock} clock; Ctrl-C to stop", err=True)
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
    typer.echo("mock lab stopped", err=True)


@app.command()
def demo(
    out: Annotated[str, typer.Option(
        help="Data directory for the runs and plots: a path or an fsspec URL (s3://...).")
    ] = "demo-out",
    seed: Annotated[int, typer.Option(help="Seed of the mock lab.")] = 1234,
    points: Annotated[int, typer.Option(help="Points per axis of the charge-stability map.")] = 81,
    storage_options: Annotated[str | None, typer.Option(help=_STORAGE_HELP)] = None,
) -> None:
    """Tune the sensor and map the charge-stability diagram on the mock lab."""
    from dotstack.experiments.dc import charge_stability, sensor_scan
    from dotstack.station import LabStation
    from dotstack.station_config import StationConfig
    from dotstack.stations import MOCK

    config = StationConfig.from_file(MOCK)
    if config.mock is not None:
        config = replace(config, mock=replace(config.mock, seed=seed))
    with LabStation(config) as station:
        truth = station.ground_truth() or {}
        data_dir, options = _data_dir(out), _options(storage_options)
        sensor = sensor_scan(station, data_dir=data_dir, storage_options=options)
        typer.echo(f"sensor scan        {sensor.path}")
        _echo_fit(sensor.fit, ("peak_V", "operating_point_V", "slope_A_per_V"))
        csd = charge_stability(station, p1=(-0.2, 0.2, points), p2=(-0.2, 0.2, points),
                               data_dir=data_dir, storage_options=options)
        typer.echo(f"charge stability   {csd.path}")
        typer.echo(f"plot               {csd.plot}")
        _echo_fit(csd.fit, ("slope_dot1", "slope_dot2", "cross_ratio_12", "cross_ratio_21"))
        lines = truth.get("transition_lines", {})
        ratios = truth.get("cross_capacitance_ratios", {})
        if lines:
            typer.echo(f"  ground truth: slope_dot1 {lines['dot1']['dP2_dP1']:+.4g}, slope_dot2 "
                       f"{lines['dot2']['dP2_dP1']:+.4g}, cross_ratio_12 {ratios['P2_on_dot1']:.4g}, "
                       f"cross_ratio_21 {ratios['P1_on_dot2']:.4g}")
        matrix = csd.fit.get("virtual_gate_matrix")
        if matrix is not None:
            typer.echo(f"  virtual-gate matrix [vP1, vP2] = M @ [P1, P2]: M = {matrix}")


def _echo_fit(fit: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    if "error" in fit:
        typer.echo(f"  fit failed: {fit['error']}")
        return
    typer.echo("  " + ", ".join(f"{k} {fit[k]:+.5g}{_pm(fit, k)}" for k in keys if k in fit))


def _pm(fit: Mapping[str, Any], key: str) -> str:
    """`` ± <stderr>`` of ``key`` if the fit has one."""
    err = fit.get(f"{key}_stderr")
    return f" ± {err:.2g}" if isinstance(err, int | float) and not isinstance(err, bool) else ""


def _echo_fit_all(fit: Mapping[str, Any]) -> None:
    """Every fitted value with its uncertainty; line segments and errors not on lines of their
    own (they are in the run's meta/fit)."""
    for key, value in fit.items():
        if key.endswith("_stderr") or key.startswith("lines_"):
            continue
        if key == "fit_quality" and isinstance(value, Mapping):
            typer.echo("  fit quality: " + ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in value.items()))
            continue
        typer.echo(f"  {key}: {value}{_pm(fit, key)}")


@app.command("run", no_args_is_help=True, context_settings={"help_option_names": []})
def run_experiment(
    ctx: typer.Context,
    experiment: Annotated[str | None, typer.Argument(
        help="The experiment: pinch_off, sensor_scan, charge_stability, ... "
             "(`dotstack run NAME --help` lists its parameters).", show_default=False)] = None,
    station: Annotated[Path | None, typer.Option(help="Station YAML file.", show_default=False)] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Experiment parameter NAME=VALUE, repeatable; sweeps as "
                              "START,STOP,POINTS (e.g. -p p1=-0.2,0.2,101).")] = None,
    out: Annotated[str | None, typer.Option(
        help="Data directory, a path or an fsspec URL (s3://...) (default: $DOTSTACK_DATA_DIR "
             "or ./data).")] = None,
    storage_options: Annotated[str | None, typer.Option(help=_STORAGE_HELP)] = None,
    max_points: Annotated[int, typer.Option(
        help="Refuse a run of more points than this (all sweeps multiplied).")] = 1_000_000,
    show_help: Annotated[bool, typer.Option(
        "--help", "-h", help="Show this message (with EXPERIMENT: its parameters) and exit.")] = False,
) -> None:
    """Run one experiment against a station: every parameter is checked against the
    experiment's signature and the station file before anything connects."""
    from dotstack import cli_run

    if show_help:
        typer.echo(ctx.get_help())
        if experiment is not None:
            typer.echo("\n" + cli_run.parameter_table(experiment))
        else:
            typer.echo("\nExperiments: " + ", ".join(cli_run.experiments()))
        raise typer.Exit()
    if experiment is None:
        raise CliError("which experiment?", hint="known: " + ", ".join(cli_run.experiments()))
    if max_points < 1:
        raise CliError(f"--max-points must be >= 1, got {max_points}", hint="e.g. --max-points 2000000")
    run = cli_run.prepare(experiment, station, param or [], max_points)
    data_dir, options = None if out is None else _data_dir(out), _options(storage_options)

    import inspect

    from dotstack.experiments.sweep import RunInterrupted
    from dotstack.station import LabStation

    accepted = inspect.signature(run.function).parameters
    extra: dict[str, Any] = {"data_dir": data_dir}
    if "storage_options" in accepted:
        extra["storage_options"] = options
    elif options:
        raise CliError(f"{experiment} takes no --storage-options", hint="give a local --out")
    try:
        with LabStation(run.config) as lab:
            result = run.function(lab, **extra, **run.kwargs)
    except RunInterrupted as exc:
        typer.echo(f"{exc.status:10s} {exc.path}")
        raise typer.Exit(130) from None
    typer.echo(f"{result.status:10s} {result.path}")
    if result.plot:
        typer.echo(f"plot       {result.plot}")
    _echo_fit_all(result.fit)


@app.command("video", no_args_is_help=True)
def video(
    station: Annotated[Path | None, typer.Option(help="Station YAML file.", show_default=False)] = None,
    x: Annotated[str, typer.Option(
        "-x", help="Fast axis NAME,START,STOP,POINTS (volts at the gate, around its DC level).")
    ] = "P1,-0.05,0.05,100",
    y: Annotated[str, typer.Option("-y", help="Slow axis NAME,START,STOP,POINTS.")] = "P2,-0.05,0.05,100",
    frames: Annotated[int, typer.Option(help="Frames to take (0: until Ctrl-C).")] = 0,
    dwell: Annotated[float, typer.Option(help="Seconds per pixel.")] = 1e-6,
    settle: Annotated[float, typer.Option(help="Seconds per row before its ramp.")] = 10e-6,
    averages: Annotated[int, typer.Option(help="Plays averaged per frame.")] = 1,
    set_dc: Annotated[list[str] | None, typer.Option(
        "--set", help="DC level GATE=VOLTS set first (ramped back at the end), repeatable.")] = None,
    virtual_gates: Annotated[str | None, typer.Option(
        help="A fitted charge-stability run: axes may then be its virtual plungers vP1, vP2.")
    ] = None,
    compensation: Annotated[str | None, typer.Option(
        help="A sensor_compensation run: the sensor gate follows the plungers.")] = None,
    display: Annotated[str, typer.Option(
        help="auto (a window if matplotlib can open one), window, offscreen or none.")] = "auto",
    out: Annotated[str | None, typer.Option(
        help="Data directory, a path or an fsspec URL (default: $DOTSTACK_DATA_DIR or ./data).")
    ] = None,
    storage_options: Annotated[str | None, typer.Option(help=_STORAGE_HELP)] = None,
) -> None:
    """Video mode: the AWG rasters two gates, the digitizer records the sensor, frames are shown
    live and appended to a zarr run, until --frames or Ctrl-C (AWG stopped, DC gates back)."""
    from dotstack import cli_video
    from dotstack.experiments.live import MODES

    plan = cli_video.plan(station, x, y, frames, set_dc or [], virtual_gates is not None)
    if display not in MODES:
        raise CliError(f"--display {display!r} is not one of {', '.join(MODES)}",
                       hint="--display offscreen for a headless machine")
    for name, value in (("--dwell", dwell), ("--settle", settle)):
        if not (value > 0 and value < 1):
            raise CliError(f"{name} must be a time in (0, 1) s, got {value}", hint=f"e.g. {name} 1e-6")
    if averages < 1:
        raise CliError(f"--averages must be >= 1, got {averages}", hint="e.g. --averages 4")
    data_dir, options = None if out is None else _data_dir(out), _options(storage_options)
    gates = cli_video.virtual_gates(virtual_gates, options)

    from dotstack.experiments.live import resolve_mode
    from dotstack.experiments.sweep import RunInterrupted
    from dotstack.experiments.video import video_mode
    from dotstack.station import LabStation

    quiet = resolve_mode(display) == "none"

    def progress(i: int, image: Any) -> None:
        if quiet and (i + 1) % 25 == 0:
            typer.echo(f"frame {i + 1}", err=True)

    try:
        with LabStation(plan.config) as lab:
            result = video_mode(lab, plan.x, plan.y, frames=plan.frames, dwell=dwell,
                                settle=settle, averages=averages, virtual_gates=gates,
                                compensation=compensation, set_gates=plan.set_gates,
                                display=display, on_frame=progress, data_dir=data_dir,
                                storage_options=options)
    except RunInterrupted as exc:
        typer.echo(f"{exc.status:10s} {exc.path}")
        raise typer.Exit(130) from None
    typer.echo(f"{result.status:10s} {result.path}")
    typer.echo(f"  {result.fit['frames']} frames, {result.fit['frames_per_second']:.1f} frames/s")


@app.command("runs")
def runs(
    data_dir: Annotated[str | None, typer.Argument(
        help="Data directory, a path or an fsspec URL (default: $DOTSTACK_DATA_DIR or ./data).")
    ] = None,
    storage_options: Annotated[str | None, typer.Option(help=_STORAGE_HELP)] = None,
) -> None:
    """List the runs in a data directory: id, start, end, duration, status, points, shape, name
    and path. A running run whose writer is gone shows as dead (its process is gone) or stale
    (no heartbeat for a while)."""
    from dotstack.store import default_data_dir, format_runs, list_runs
    from dotstack.store.location import exists

    where = _data_dir(data_dir) if data_dir else default_data_dir()
    options = _options(storage_options)
    if not exists(where, options):
        raise CliError(f"no data directory {where!r}",
                       hint="give the folder runs were written to (`dotstack run --out`)")
    typer.echo(format_runs(list_runs(where, storage_options=options)))


def _data_dir(text: str) -> str:
    """A data directory as given: an fsspec URL untouched (a ``Path`` would mangle ``s3://``
    to ``s3:/``), a local path made absolute."""
    from dotstack.store.location import is_url

    return text if is_url(text) else os.path.abspath(os.path.expanduser(text))


def _options(text: str | None) -> dict[str, Any] | None:
    """``--storage-options`` parsed: a JSON object, or None."""
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError as e:
        raise CliError(f"--storage-options is not JSON: {e}",
                       hint="""e.g. '{"anon": true}'""") from None
    if not isinstance(parsed, dict):
        raise CliError("--storage-options must be a JSON object", hint="""e.g. '{"anon": true}'""")
    return parsed


def main() -> None:
    app()


if __name__ == "__main__":
    main()

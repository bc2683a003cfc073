"""The station: the one place that chooses real instruments or the mock lab.

`LabStation.from_file("station.yaml")` reads a `StationConfig`, creates a QCoDeS `Station`
with the configured instruments and exposes what experiments use: `gates` (safe, ramped,
limited DC outputs by name) and `readouts` (DC readout in amperes).  With ``dotstack.mock``
set, the same experiment code runs on the simulated lab: in-process (the mock lab's servers
run in this process; our own SCPI drivers talk to their models directly, tier 1; upstream
drivers reach them over loopback through pyvisa-py, tier 2) or against a running
``dotstack mock-lab serve`` (``connect:``).
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qcodes.instrument import Instrument
from qcodes.station import Station

from dotstack.drivers.keysight344xx import DmmReadout
from dotstack.drivers.protocols import AWG, DAC, ChannelLimits, LimitError, Readout
from dotstack.drivers.scpi_base import ScpiInstrument
from dotstack.drivers.transport import InProcessTransport, enable_nodelay
from dotstack.labclock import LabTime, LocalLab, RemoteLab, WallTime
from dotstack.station_config import GateConfig, StationConfig, StationConfigError


class Gate:
    """One named gate electrode: a DAC channel with the station's (narrowed) limits."""

    def __init__(self, name: str, dac: DAC, channel: int, unit: str = "V") -> None:
        self.name = name
        self.dac = dac
        self.channel = channel
        self.unit = unit

    @property
    def limits(self) -> ChannelLimits:
        return self.dac.limits(self.channel)

    def set(self, volts: float) -> None:
        """Move to ``volts`` safely (limits checked, large moves ramped from the read-back value)."""
        self.dac.set_voltage(self.channel, float(volts))

    def get(self) -> float:
        return self.dac.get_voltage(self.channel)

    def __repr__(self) -> str:
        lim = self.limits
        return f"Gate({self.name}: ch{self.channel}, [{lim.min_v:+g}, {lim.max_v:+g}] V)"


@dataclass(frozen=True)
class PulseLine:
    """An AWG channel's line to a gate (through a bias-T's AC port): ``gate = DC + gain * AWG``."""

    gate: str
    instrument: str  # the AWG (a station instrument)
    channel: int
    attenuation_db: float = 20.0
    #: the bias-T's time constant (s); inf: a DC-coupled line (no bias-T)
    bias_tee_s: float = math.inf

    @property
    def gain(self) -> float:
        """Voltage transmission of the line, ``10**(-attenuation_db / 20)``."""
        return float(10.0 ** (-self.attenuation_db / 20.0))


class LabStation:
    """Instruments, gates and readouts of one lab set-up (real or mock).

    Pulsed gates: ``pulse_lines`` (gate -> `PulseLine`) says which AWG channel drives which gate
    through how much attenuation: the station file's ``dotstack.pulse_lines``; an in-process
    mock lab fills it from its cabling (and refuses a file that says otherwise).  `limit_awg`
    narrows each AWG channel to what keeps DC + AWG at the gate within the gate's limits;
    `digitizer` gives the Digitizer role.

    Opening a station connects every instrument of the file (in mock mode: to the mock lab,
    started in this process or reached at ``dotstack.mock.connect``), narrows each gate's DAC
    channel to the station's limits and wraps each readout.  Use it as a context manager, or
    call `close`.

    Args:
        config: The validated station file (`StationConfig.from_file`).

    Raises:
        StationConfigError: An instrument cannot be connected, a gate's channel or limits do
            not fit its DAC (limits may only narrow the driver's), a readout's instrument
            cannot read, or (mock mode) the mock lab cannot provide what the file asks for.
    """

    def __init__(self, config: StationConfig) -> None:
        self.config = config
        self.mock_lab: Any = None  # dotstack.mocks.lab.MockLab when the mock lab runs in-process
        #: how this station waits: the wall clock on hardware, the mock lab's clock in mock mode
        self.lab_time: LabTime = WallTime()
        self.qc_station = Station()
        self.instruments: dict[str, Instrument] = {}
        self.gates: dict[str, Gate] = {}
        self.readouts: dict[str, Readout] = {}
        self.pulse_lines: dict[str, PulseLine] = {}
        self._digitizers: dict[str, Any] = {}
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_file(cls, path: str | Path) -> LabStation:
        """Open the station described by the station file at ``path``.

        Args:
            path: A station YAML file (QCoDeS Station format plus a ``dotstack:`` section).

        Returns:
            The open station.

        Raises:
            StationConfigError: Every problem of the file, one per line, or a connection
                failure naming the instrument.
        """
        return cls(StationConfig.from_file(path))

    @classmethod
    def from_yaml(cls, text: str) -> LabStation:
        """Open the station described by the station YAML ``text`` (as `from_file`)."""
        return cls(StationConfig.from_yaml(text))

    # -- set-up --------------------------------------------------------------------------
    def _start(self) -> None:
        cfg = self.config
        self.qc_station.load_config(cfg.qcodes_yaml())
        overrides = self._mock_overrides() if cfg.mock is not None else {}
        for name in cfg.instruments:
            key = f"instruments.{name}"
            with contextlib.suppress(KeyError):
                Instrument.find_instrument(name).close()  # a stale instance from an earlier run
            try:
                instrument = self.qc_station.load_instrument(name, **overrides.get(name, {}))
            except StationConfigError:
                raise
            except Exception as exc:
                raise StationConfigError(f"{cfg.source}: {key}: could not connect ({exc})") from exc
            handle = getattr(instrument, "visa_handle", None)
            if handle is not None:  # upstream VisaInstrument drivers: pyvisa-py leaves Nagle on
                enable_nodelay(handle)
            self.instruments[name] = instrument
        for gate in cfg.gates.values():
            self.gates[gate.name] = self._make_gate(gate)
        self._pulse_lines()
        for readout in cfg.readouts.values():
            key = f"{cfg.source}: dotstack.readout.{readout.name}"
            instrument = self.instruments[readout.instrument]
            if hasattr(instrument, "volt") and hasattr(instrument, "NPLC"):
                dmm = DmmReadout(instrument, gain=readout.gain, unit=readout.unit)  # type: ignore[arg-type]
                if readout.nplc is not None:
                    dmm.configure(nplc=readout.nplc)
                self.readouts[readout.name] = dmm
            elif isinstance(instrument, Readout):
                self.readouts[readout.name] = instrument
            else:
                raise StationConfigError(f"{key}.instrument: {readout.instrument} "
                                         f"({type(instrument).__name__}) cannot act as a readout")

    def _pulse_lines(self) -> None:
        """The station file's ``pulse_lines``; with an in-process mock lab they must match its
        cabling (which gives them when the file has none)."""
        declared = {g: PulseLine(g, p.instrument, p.channel, p.attenuation_db,
                                 math.inf if p.bias_tee_s is None else p.bias_tee_s)
                    for g, p in self.config.pulse_lines.items()}
        if not declared:
            return
        for gate, line in declared.items():
            key = f"{self.config.source}: dotstack.pulse_lines.{gate}"
            if self.mock_lab is None:
                continue
            lab = self.pulse_lines.get(gate)
            if lab is not None and self.config.pulse_lines[gate].bias_tee_s is None:
                line = replace(line, bias_tee_s=lab.bias_tee_s)  # the lab's, where not stated
            if lab is None or (lab.instrument, lab.channel) != (line.instrument, line.channel) \
                    or not math.isclose(lab.attenuation_db, line.attenuation_db, abs_tol=1e-9) \
                    or not math.isclose(lab.bias_tee_s, line.bias_tee_s, rel_tol=1e-9):
                found = "no AWG line" if lab is None else \
                    f"{lab.instrument} channel {lab.channel} through {lab.attenuation_db:g} dB" \
                    f" and a {lab.bias_tee_s:g} s bias-T"
                raise StationConfigError(f"{key}: the mock lab has {found} to {gate}, not "
                                         f"{line.instrument} channel {line.channel} through "
                                         f"{line.attenuation_db:g} dB and a "
                                         f"{line.bias_tee_s:g} s bias-T")
            declared[gate] = line
        self.pulse_lines = declared

    def _fault_plan(self) -> Any:
        """The station file's ``dotstack.mock.faults`` as the mock lab's fault plan (or None)."""
        mock = self.config.mock
        if mock is None or not mock.faults:
            return None
        from dotstack.mocks.scpi import Fault, FaultPlan

        faults = []
        for i, doc in enumerate(mock.faults):
            try:
                faults.append(Fault.from_dict(doc))
            except ValueError as exc:
                raise StationConfigError(f"{self.config.source}: dotstack.mock.faults[{i}]: "
                                         f"{exc}") from exc
        return FaultPlan(tuple(faults), seed=mock.seed)

    def _mock_overrides(self) -> dict[str, dict[str, Any]]:
        from dotstack.mocks.lab import INSTRUMENTS, MockLab

        mock = self.config.mock
        assert mock is not None
        if mock.connect is None:
            triggers = {self._lab_port(s): [self._lab_port(d) for d in dests]
                        for s, dests in self.config.triggers.items()} or None
            self.mock_lab = MockLab.create(seed=mock.seed, clock=mock.clock or "virtual",
                                           triggers=triggers, faults=self._fault_plan())
            awg = next((n for n in self.config.instruments
                        if mock.instruments.get(n, n) == "awg"), None)
            if awg is not None:
                td = self.mock_lab.timedomain
                self.pulse_lines = {g: PulseLine(g, awg, int(d.channel), d.line.attenuation_db,
                                                 d.line.bias_tee_time_constant)
                                    for g, d in td.drives.items() if g in self.config.gates}
            self.lab_time = LocalLab(self.mock_lab)
            addresses = self.mock_lab.serve()
        else:
            addresses = {name: f"TCPIP0::{mock.connect}::{mock.base_port + i}::SOCKET"
                         for i, name in enumerate(INSTRUMENTS)}
            try:
                self.lab_time = RemoteLab(addresses["lab"])
            except Exception as exc:
                raise StationConfigError(f"{self.config.source}: dotstack.mock.connect: no mock lab "
                                         f"at {addresses['lab']} ({exc})") from exc
            if mock.clock is not None and self.lab_time.mode != mock.clock:
                raise StationConfigError(
                    f"{self.config.source}: dotstack.mock.clock: the served lab runs a "
                    f"{self.lab_time.mode} clock, the station asks for {mock.clock} "
                    f"(start it with `dotstack mock-lab serve --clock {mock.clock}`)")
        overrides: dict[str, dict[str, Any]] = {}
        for name, cfg in self.config.instruments.items():
            lab_name = mock.instruments.get(name, name)
            if lab_name not in addresses and not _is_alazar(_instrument_class(cfg["type"])):
                raise StationConfigError(
                    f"{self.config.source}: instruments.{name}: the mock lab has no instrument "
                    f"{lab_name!r} (it has {sorted(addresses)}); map it in dotstack.mock.instruments")
            cls = _instrument_class(cfg["type"])
            if _is_alazar(cls):  # a vendor-API instrument: the mock board's API object
                if self.mock_lab is None:
                    raise StationConfigError(
                        f"{self.config.source}: instruments.{name}: an AlazarTech board needs "
                        "the mock lab in this process (a served lab's ATS API is not reachable)")
                overrides[name] = {"api": self.mock_lab.ats_api(lab_name)}
                continue
            # (the class's own __init__: qcodes' metaclass hides it from signature(cls))
            if "sleep" in inspect.signature(getattr(cls, "__init__")).parameters:  # noqa: B009
                overrides.setdefault(name, {})["sleep"] = self.sleep  # waits in lab time
            if issubclass(cls, ScpiInstrument):
                if self.mock_lab is not None:
                    model = self.mock_lab.models[lab_name]
                    overrides.setdefault(name, {}).update(
                        address=None, transport=InProcessTransport(model, name=name))
                else:
                    overrides.setdefault(name, {}).update(address=addresses[lab_name],
                                                          visa_library="@py")
            else:
                overrides.setdefault(name, {}).update(address=addresses[lab_name], visalib="@py")
        return overrides

    def _lab_port(self, port: str) -> str:
        """A station port ("dmm.ext") under the mock lab's instrument name."""
        assert self.config.mock is not None
        instrument, _, connector = port.partition(".")
        return f"{self.config.mock.instruments.get(instrument, instrument)}.{connector}"

    def _make_gate(self, gate: GateConfig) -> Gate:
        key = f"{self.config.source}: dotstack.gates.{gate.name}"
        dac = self.instruments[gate.instrument]
        if not isinstance(dac, DAC):
            raise StationConfigError(f"{key}.instrument: {gate.instrument} "
                                     f"({type(dac).__name__}) is not a DAC")
        if gate.channel not in dac.channels:
            raise StationConfigError(f"{key}.channel: channel {gate.channel} does not exist on "
                                     f"{gate.instrument} (channels {min(dac.channels)}..{max(dac.channels)})")
        try:
            dac.set_limits(gate.channel, dac.limits(gate.channel).narrowed(gate.limits, gate.name))
        except LimitError as exc:
            raise StationConfigError(f"{key}.limits: {exc}") from exc
        return Gate(gate.name, dac, gate.channel, gate.unit)

    # -- pulsed gates ----------------------------------------------------------------------
    def limit_awg(self) -> dict[str, tuple[float, float]]:
        """Narrow each pulse line's AWG channel to ``(gate limits - DC level) / gain`` (and the
        AWG's amplitude range), the DC level read from the gate's DAC now: an AWG program that
        would take a gate outside its limits is then refused before anything is uploaded.
        Call it again after moving a pulsed gate's DC level.  The bias-T removes the AWG's
        running mean, so a pattern with a nonzero mean swings further: `check_pulses` checks a
        program as the gates see it.
        Returns gate -> (min, max) AWG volts."""
        out = {}
        for line in self.pulse_lines.values():
            awg = self.instruments[line.instrument]
            if not isinstance(awg, AWG):
                raise TypeError(f"pulse line {line.gate}: {line.instrument} is not an AWG")
            lim, dc = self.gate(line.gate).limits, self.gate(line.gate).get()
            lo, hi = sorted(((lim.min_v - dc) / line.gain, (lim.max_v - dc) / line.gain))
            a_lo, a_hi = awg.limits.amplitude_range
            lo, hi = max(lo, a_lo), min(hi, a_hi)
            if lo > hi:
                raise LimitError(f"gate {line.gate} at {dc:+.6g} V leaves no room for the AWG")
            awg.set_channel_limits(line.channel, lo, hi)
            out[line.gate] = (lo, hi)
        return out

    def check_pulses(self, program: Any) -> None:
        """Refuse (`LimitError`, nothing uploaded) an AWG program whose channels, seen at their
        gates through each line's bias-T (`dotstack.biastee.gate_range`: any number of plays,
        and the AWG stopping anywhere), would leave the AWG channel limits `limit_awg` set.
        Channels are the program's channel names that are pulse lines."""
        from dotstack.biastee import gate_range
        from dotstack.sequencer import render

        lines = {g: line for g, line in self.pulse_lines.items() if g in program.channels}
        if not lines:
            return
        rate = float(program.limits.sample_rate)
        played = render(program, channels=tuple(lines))
        for gate, line in lines.items():
            awg = self.instruments[line.instrument]
            lim = awg.channel_limits(line.channel)
            lo, hi = gate_range(played[gate], rate, line.bias_tee_s)
            if lo < lim.min_v - 1e-9 or hi > lim.max_v + 1e-9:
                raise LimitError(
                    f"gate {gate}: through its bias-T ({line.bias_tee_s:g} s) the program swings "
                    f"the gate by [{lo * line.gain:+.4g}, {hi * line.gain:+.4g}] V around its DC "
                    f"level ({lo:+.4g}..{hi:+.4g} V at the AWG), beyond what its limits leave "
                    f"({lim.min_v:+.4g}..{lim.max_v:+.4g} V at the AWG): a pattern with a "
                    "nonzero mean charges the bias-T")

    def digitizer(self, name: str = "ats", **options: Any) -> Any:
        """The Digitizer role (`dotstack.drivers.alazar.AlazarDigitizer`, ``options`` to it on
        first use) on the AlazarTech board ``name``: the station's instrument of that name, or
        in mock mode (in-process) QCoDeS's ``AlazarTechATS9360`` on the mock lab's board.  In
        mock mode an unconnected trigger input ``<name>.trigA`` is cabled to ``awg.marker1``
        (the mock lab's default cable)."""
        dig = self._digitizers.get(name)
        if dig is not None:
            return dig
        from dotstack.drivers.alazar import AlazarDigitizer

        board = self.instruments.get(name)
        if board is None:
            if self.mock_lab is None:
                raise KeyError(f"no digitizer {name!r}: add an AlazarTech board of that name to "
                               f"instruments: (the station has {sorted(self.instruments)})")
            from qcodes.instrument_drivers.AlazarTech import AlazarTechATS9360

            with contextlib.suppress(KeyError):
                Instrument.find_instrument(name).close()
            board = AlazarTechATS9360(name, api=self.mock_lab.ats_api(self._lab_port(name + ".x")
                                                                      .split(".")[0]))
            self.instruments[name] = board
            self.qc_station.add_component(board)
        if self.mock_lab is not None:
            trig = self._lab_port(f"{name}.trigA")
            if self.mock_lab.lab.triggers.source_of(trig) is None:
                self.mock_lab.cable("awg.marker1", trig)
        dig = self._digitizers[name] = AlazarDigitizer(board, **options)  # type: ignore[arg-type]
        return dig

    # -- use -----------------------------------------------------------------------------
    def sleep(self, dt: float) -> None:
        """Let ``dt`` s of lab time pass (hardware: `time.sleep`; mock lab: its clock)."""
        self.lab_time.sleep(dt)

    def time(self) -> float:
        """Lab time (s): the wall clock on hardware, the mock lab's clock in mock mode."""
        return self.lab_time.now()

    def readout_for(self, gate: str, name: str | None = None) -> tuple[str, Readout]:
        """The readout to observe ``gate``: ``name``, else the first that declares it sees the
        gate (``sees:``), else the default one.  A readout that declares what it sees and does
        not list ``gate`` is refused: its data would say nothing about that gate.

        Args:
            gate: The gate to observe.
            name: A readout to use (default: chosen as above).

        Returns:
            The readout's name and the readout.

        Raises:
            KeyError: No such gate or readout, or the station has no readout.
            ValueError: The readout declares what it sees, and not ``gate``.
        """
        self.gate(gate)
        if name is None:
            seeing = [r.name for r in self.config.readouts.values() if gate in r.sees]
            name = seeing[0] if seeing else next(iter(self.config.readouts), None)
            if name is None:
                raise KeyError("the station has no readout (dotstack.readout)")
        readout = self.readout(name)
        sees = self.config.readouts[name].sees
        if sees and gate not in sees:
            raise ValueError(f"readout {name!r} cannot see gate {gate!r} (it sees {list(sees)}); "
                             f"use a readout that does, e.g. "
                             f"{[r.name for r in self.config.readouts.values() if gate in r.sees]}")
        return name, readout

    def gate_values(self) -> dict[str, float]:
        """Every gate's voltage as read from its DAC."""
        return {name: gate.get() for name, gate in self.gates.items()}

    def readout(self, name: str | None = None) -> Readout:
        """The readout ``name`` (default: the station's first).

        Raises:
            KeyError: No readout of that name (the message lists them), or none at all.
        """
        if name is None:
            if not self.readouts:
                raise KeyError("the station has no readout (dotstack.readout)")
            return next(iter(self.readouts.values()))
        try:
            return self.readouts[name]
        except KeyError:
            raise KeyError(f"no readout {name!r}; the station has {sorted(self.readouts)}") from None

    def gate(self, name: str) -> Gate:
        """The gate ``name``.

        Raises:
            KeyError: No gate of that name (the message lists the station's gates).
        """
        try:
            return self.gates[name]
        except KeyError:
            raise KeyError(f"no gate {name!r}; the station has {sorted(self.gates)}") from None

    def snapshot(self) -> dict[str, Any]:
        """QCoDeS snapshot of every instrument (parameters as last read)."""
        snap = self.qc_station.snapshot(update=False)
        return dict(snap) if isinstance(snap, Mapping) else {}

    def ground_truth(self) -> dict[str, Any] | None:
        """The simulator's ground truth in mock mode (in-process or served), else None."""
        return self.lab_time.ground_truth()

    def close(self) -> None:
        """Close every instrument and the lab clock (and an in-process mock lab)."""
        for instrument in self.instruments.values():
            with contextlib.suppress(Exception):
                instrument.close()
        self.instruments.clear()
        self._digitizers.clear()
        with contextlib.suppress(Exception):
            self.lab_time.close()
        self.lab_time = WallTime()
        self.mock_lab = None

    def __enter__(self) -> LabStation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_alazar(cls: type) -> bool:
    module = getattr(cls, "__module__", "")
    return module.startswith("qcodes.instrument_drivers.AlazarTech")


def _instrument_class(type_name: str) -> type:
    import importlib

    module_name, _, class_name = type_name.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not isinstance(cls, type):
        raise StationConfigError(f"{type_name} is not a class")
    return cls

"""The mock lab: one `VirtualLab` shared by every mock instrument, each optionally served on loopback.

`MockLab.create()` builds the simulated device on a lab clock (``clock="virtual"``: lab time moves
only when an instrument waits, deterministic; ``"realtime"``: the wall clock), the trigger
cabling, and the instrument models:

- ``qdac``: QDevil QDAC-II gate DAC;
- ``dmm``: Keysight 34465A reading the charge sensor through a transimpedance amplifier;
- ``dmm_transport``: a second 34465A reading the double dot's transport current (ohmic contact);
- ``lab``: the lab's control channel (clock, ground truth; see `LabControlModel`);
- ``awg``: Tektronix AWG5208 (sequences, markers on the trigger cabling; see `AWG5208Model`);
- ``mw``: Rohde & Schwarz SGS100A microwave source (`SGS100AModel`), the spins' EDSR drive;
- ``spin``: the spin physics (`SpinLab`): AWG channels 4/5 (`IQ_WIRING`) into the source's I/Q
  inputs, the source's carrier at the dot, P1/P2 pulses as detuning, Pauli-spin-blockade readout
  on the digitizer's channel B (``ats.chB``, `SPIN_PORT`); ground truth in
  ``ground_truth()["spin"]``;
- ``timedomain``: the time-domain physics (`TimeDomainLab`) the AWG drives and the digitizer
  reads: AWG channel 1 -> P1, 2 -> P2, 3 -> S (`AWG_WIRING`), each through a default
  `LineModel` (20 dB, 10 ms bias-T, no delay; ``awg_lines`` to change), gate = DAC level +
  line(AWG); its reflectometry signal is the analog source of ``ats.chA`` (the ATS9360 mock's
  channel A, `ats_api`).  The wiring and lines are in its ground truth
  (``ground_truth()["time_domain"]["lines"]``, transition lines in AWG volts).

`inject(plan)` gives instruments faults (timeouts, dropped connections, garbled replies, SCPI
errors, resets, slow replies: `dotstack.mocks.scpi.faults`); `fired_faults()` lists those that
fired.

`serve()` puts each model behind its own SCPI socket server (tier 2: reached through PyVISA with
pyvisa-py at ``TCPIP0::127.0.0.1::<port>::SOCKET``); the models can also be used in-process
(tier 1) by handing them to an `InProcessTransport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dotstack.mocks.instruments.awg5208 import AWG5208Model
from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.instruments.labcontrol import LabControlModel
from dotstack.mocks.instruments.qdac2 import QDac2Model
from dotstack.mocks.instruments.sgs100a import SGS100AModel
from dotstack.mocks.physics import DeviceParams, NoiseParams, VirtualLab
from dotstack.mocks.physics.clock import LabClock, RealtimeClock, make_clock
from dotstack.mocks.physics.spin import AcField, SpinSimulator
from dotstack.mocks.physics.spin_lab import SpinLab, SpinWiring
from dotstack.mocks.physics.timedomain import LineModel, TimeDomainLab
from dotstack.mocks.physics.wiring import TriggerLines
from dotstack.mocks.scpi import Fault, FaultPlan, FiredFault, ScpiModel, ScpiServer, serve_tcp

if TYPE_CHECKING:  # imported on use: it loads QCoDeS's Alazar driver package
    from dotstack.mocks.instruments.ats9360 import ATS9360API

#: Instrument names of the mock lab, in the order their ports are assigned from ``base_port``.
INSTRUMENTS: tuple[str, ...] = ("qdac", "dmm", "dmm_transport", "lab", "awg", "mw")

#: AWG5208 channel driving each gate through its line (the mock lab's AWG cabling).
AWG_WIRING: Mapping[str, int] = {"P1": 1, "P2": 2, "S": 3}
#: The digitizer input the time-domain physics feeds (the sensor's demodulated RF signal).
ANALOG_PORT = "ats.chA"
#: AWG5208 channels feeding the microwave source's I and Q inputs.
IQ_WIRING: Mapping[str, int] = {"I": 4, "Q": 5}
#: The digitizer input of the spin readout (the qubit pair's sensor).
SPIN_PORT = "ats.chB"
#: The AC magnetic field the default mock lab's spins sense (T, Hz).
SPIN_AC_FIELD = AcField(amplitude=80e-9, frequency=500e3)

#: Lab time (s) one SCPI message keeps each instrument busy on a virtual clock: a LAN round
#: trip plus parsing, so that the virtual clock's run times are those of a real set-up.
COMMAND_TIME: Mapping[str, float] = {"qdac": 0.5e-3, "dmm": 1e-3, "dmm_transport": 1e-3,
                                     "awg": 1e-3, "mw": 1e-3}


@dataclass
class MockLab:
    """The simulated device plus its mock instruments (and their servers once `serve` ran)."""

    lab: VirtualLab
    models: dict[str, ScpiModel]
    servers: dict[str, ScpiServer] = field(default_factory=dict)
    vendor_apis: dict[str, Any] = field(default_factory=dict)  # `ats_api` objects by name
    #: the time-domain physics: AWG outputs + DAC levels -> device -> ``ats.chA`` volts
    timedomain: TimeDomainLab | None = None
    #: the spin physics: AWG I/Q x the ``mw`` carrier, P1/P2 detuning -> ``ats.chB`` volts
    spin: SpinLab | None = None

    @classmethod
    def create(
        cls,
        *,
        seed: int = 0,
        device: DeviceParams | None = None,
        noise: NoiseParams | None = None,
        dmm_gain: float = 1e8,
        transport_gain: float = 1e8,
        clock: str | LabClock = "virtual",
        triggers: Mapping[str, Any] | TriggerLines | None = None,
        command_time: Mapping[str, float] | None = None,
        awg_wiring: Mapping[str, int] | None = None,
        awg_lines: Mapping[str, LineModel] | None = None,
        faults: FaultPlan | None = None,
        spin: SpinSimulator | None = None,
    ) -> MockLab:
        """``triggers``: cabling ``{source port: destination port(s)}`` (default
        `TriggerLines.default`); ``command_time``: per-instrument lab time per message (s);
        ``awg_wiring``: gate -> AWG channel (default `AWG_WIRING`); ``awg_lines``: gate ->
        `LineModel` (default: `LineModel()` for each wired gate); ``faults``: the fault plan
        (see `inject`); ``spin``: the spin physics (default: `SpinSimulator` seeded by
        ``seed`` with `SPIN_AC_FIELD`)."""
        lab_clock = make_clock(clock) if isinstance(clock, str) else clock
        lines = triggers if isinstance(triggers, TriggerLines) or triggers is None \
            else TriggerLines(triggers)
        lab = VirtualLab(device, seed=seed, noise=noise, clock=lab_clock, triggers=lines)
        qdac = QDac2Model(lab, name="qdac")
        dmm = Keysight34465AModel(lab, name="dmm", gain=dmm_gain, seed=seed)
        transport = Keysight34465AModel(lab, name="dmm_transport", gain=transport_gain,
                                        seed=seed + 1, signal="transport")
        models: dict[str, ScpiModel] = {"qdac": qdac, "dmm": dmm, "dmm_transport": transport,
                                        "lab": LabControlModel(lab),
                                        "awg": AWG5208Model(lab, name="awg"),
                                        "mw": SGS100AModel(lab, name="mw")}
        times = {**COMMAND_TIME, **(command_time or {})}
        for name, model in models.items():
            if name in times:
                model.command_time = float(times[name])  # type: ignore[attr-defined]
        wiring = dict(AWG_WIRING if awg_wiring is None else awg_wiring)
        td = TimeDomainLab(lab, {g: (awg_lines or {}).get(g, LineModel()) for g in wiring})
        td.attach_awg(models["awg"].channel_segments, wiring)  # type: ignore[attr-defined]
        td.connect(ANALOG_PORT)
        mock = cls(lab=lab, models=models, timedomain=td,
                   spin=_spin_lab(lab, models, wiring, td, spin, seed))
        models["lab"].truth = mock.ground_truth  # type: ignore[attr-defined]  # with time_domain
        if faults is not None:
            mock.inject(faults)
        return mock

    @property
    def clock(self) -> LabClock:
        return self.lab.clock

    def ats_api(self, name: str = "ats", **options: Any) -> ATS9360API:
        """The mock ATS9360's vendor API (tier 3) on this lab, for the QCoDeS driver's ``api=``:
        one board per ``name`` (ports ``<name>.trigA``, ``<name>.chA``...); ``options`` go to
        `ATS9360API` on first use.  In-process only: it is bound to this process's `VirtualLab`
        (a lab served by another process is not reachable from it yet)."""
        from dotstack.mocks.instruments.ats9360 import ATS9360API

        api = self.vendor_apis.get(name)
        if api is None:
            api = self.vendor_apis[name] = ATS9360API(self.lab, name=name, **options)
        elif options:
            raise ValueError(f"ats_api({name!r}) exists already; options apply on first use only")
        return api

    def serve(self, host: str = "127.0.0.1", base_port: int = 0) -> dict[str, str]:
        """Serve every model on ``host``; ports ``base_port + i`` (0: ephemeral). Returns addresses."""
        if self.servers:
            raise RuntimeError("the mock lab is already being served")
        try:
            for i, name in enumerate(INSTRUMENTS):
                port = base_port + i if base_port else 0
                server = serve_tcp(self.models[name], host, port, name=name)
                self.servers[name] = server
                probe = getattr(server, "busy_threads", None)
                if probe is not None:  # the virtual clock waits for every connection to settle
                    self.clock.register_activity(probe)
        except OSError:
            self.close()
            raise
        return self.addresses

    @property
    def addresses(self) -> dict[str, str]:
        """VISA resource string of every served instrument."""
        return {name: server.address for name, server in self.servers.items()}

    @property
    def awg_wiring(self) -> dict[str, int]:
        """Gate -> AWG channel of the time-domain physics."""
        td = self.timedomain
        return {} if td is None else {g: int(d.channel) for g, d in td.drives.items()}

    def cable(self, source: str, dest: str) -> None:
        """Plug a trigger cable ``source`` -> ``dest`` (e.g. ``awg.marker1`` -> ``ats.trigA``);
        an input already fed by another source is refused (`TriggerLines`)."""
        with self.lab.lock:
            lines = self.lab.triggers.to_dict()
            if dest in lines.get(source, []):
                return
            lines.setdefault(source, []).append(dest)
            self.lab.triggers = TriggerLines(lines)

    # -- fault injection -------------------------------------------------------------------
    def inject(self, plan: FaultPlan | Fault | None) -> None:
        """Replace the lab's fault plan (`dotstack.mocks.scpi.faults`).  Counting starts afresh
        from the next message; every instrument then counts its messages (``faults.messages``,
        ``faults.queries``), an empty plan measuring a run's traffic.  None: no injection."""
        if isinstance(plan, Fault):
            plan = FaultPlan.of(plan)
        if plan is not None:
            unknown = [n for n in plan.instruments if n not in self.models]
            if unknown:
                raise ValueError(f"fault plan: no instrument {unknown[0]!r} in the mock lab "
                                 f"(it has {', '.join(self.models)})")
        for name, model in self.models.items():
            model.faults = None if plan is None else plan.injector(name, self.clock.now)

    def fired_faults(self) -> list[FiredFault]:
        """Every fault that fired since the last `inject`, in the order of the instruments."""
        return [f for m in self.models.values() if m.faults is not None for f in m.faults.fired]

    def ground_truth(self) -> dict[str, Any]:
        """The lab's ground truth plus (``time_domain``) the time-domain physics': AWG wiring
        and lines, tunnel rates, readout, and the transition lines in AWG volts."""
        truth = self.lab.ground_truth()
        if self.timedomain is not None:
            truth["time_domain"] = self.timedomain.ground_truth()
        if self.spin is not None:
            truth["spin"] = self.spin.ground_truth()
        return truth

    def close(self) -> None:
        """Stop every server and the clock's dispatcher (idempotent)."""
        for server in self.servers.values():
            probe = getattr(server, "busy_threads", None)
            if probe is not None:
                self.clock.unregister_activity(probe)
            server.close()
        self.servers.clear()
        if isinstance(self.clock, RealtimeClock):
            self.clock.close()

    def __enter__(self) -> MockLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _spin_lab(lab: VirtualLab, models: Mapping[str, ScpiModel], wiring: Mapping[str, int],
              td: TimeDomainLab, sim: SpinSimulator | None, seed: int) -> SpinLab | None:
    """The spin path on the AWG's I/Q channels and P1/P2 (None if the plungers are not wired)."""
    from dotstack.mocks.physics.params import GATES
    from dotstack.mocks.physics.truth import lever_arms

    if not {"P1", "P2"} <= set(wiring):
        return None
    _, alpha = lever_arms(lab.device, 0.0)
    kappa = tuple((g, float(alpha[1, GATES.index(g)] - alpha[0, GATES.index(g)]))
                  for g in ("P1", "P2"))
    gates = tuple((g, int(wiring[g]), td.lines[g].gain) for g in ("P1", "P2"))
    spin_wiring = SpinWiring(iq_channels=(IQ_WIRING["I"], IQ_WIRING["Q"]), gate_channels=gates,
                             kappa=kappa)
    awg, mw = models["awg"], models["mw"]
    spin = SpinLab(lab, sim if sim is not None else SpinSimulator(ac_field=SPIN_AC_FIELD,
                                                                  seed=seed),
                   spin_wiring, awg_segments=awg.segments,  # type: ignore[attr-defined]
                   carrier_at=mw.carrier_at)  # type: ignore[attr-defined]
    spin.connect(SPIN_PORT)
    return spin

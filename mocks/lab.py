"""The mock lab: one `VirtualLab` shared by every mock instrument, each optionally served on loopback.

`MockLab.create()` builds the simulated device on a lab clock (``clock="virtual"``: lab time moves
only when an instrument waits, deterministic; ``"realtime"``: the wall clock), the trigger
cabling, and the instrument models:

- ``qdac``: QDevil QDAC-II gate DAC;
- ``dmm``: Keysight 34465A reading the charge sensor through a transimpedance amplifier;
- ``dmm_transport``: a second 34465A reading the double dot's transport current (ohmic contact);
- ``lab``: the lab's control channel (clock, ground truth; see `LabControlModel`);
- ``awg``: Tektronix AWG5208 (sequences, markers on the trigger cabling; see `AWG5208Model`).

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
from dotstack.mocks.physics import DeviceParams, NoiseParams, VirtualLab
from dotstack.mocks.physics.clock import LabClock, RealtimeClock, make_clock
from dotstack.mocks.physics.wiring import TriggerLines
from dotstack.mocks.scpi import ScpiModel, ScpiServer, serve_tcp

if TYPE_CHECKING:  # imported on use: it loads QCoDeS's Alazar driver package
    from dotstack.mocks.instruments.ats9360 import ATS9360API

#: Instrument names of the mock lab, in the order their ports are assigned from ``base_port``.
INSTRUMENTS: tuple[str, ...] = ("qdac", "dmm", "dmm_transport", "lab", "awg")

#: Lab time (s) one SCPI message keeps each instrument busy on a virtual clock: a LAN round
#: trip plus parsing, so that the virtual clock's run times are those of a real set-up.
COMMAND_TIME: Mapping[str, float] = {"qdac": 0.5e-3, "dmm": 1e-3, "dmm_transport": 1e-3,
                                     "awg": 1e-3}


@dataclass
class MockLab:
    """The simulated device plus its mock instruments (and their servers once `serve` ran)."""

    lab: VirtualLab
    models: dict[str, ScpiModel]
    servers: dict[str, ScpiServer] = field(default_factory=dict)
    vendor_apis: dict[str, Any] = field(default_factory=dict)  # `ats_api` objects by name

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
    ) -> MockLab:
        """``triggers``: cabling ``{source port: destination port(s)}`` (default
        `TriggerLines.default`); ``command_time``: per-instrument lab time per message (s)."""
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
                                        "awg": AWG5208Model(lab, name="awg")}
        times = {**COMMAND_TIME, **(command_time or {})}
        for name, model in models.items():
            if name in times:
                model.command_time = float(times[name])  # type: ignore[attr-defined]
        return cls(lab=lab, models=models)

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

    def ground_truth(self) -> dict[str, Any]:
        return self.lab.ground_truth()

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

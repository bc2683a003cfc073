"""The mock lab: one `VirtualLab` shared by every mock instrument, each optionally served on loopback.

`MockLab.create()` builds the simulated device and the instrument models (QDAC-II gate DAC and a
Keysight 34465A DMM reading the charge sensor through a transimpedance amplifier).  `serve()`
puts each model behind its own SCPI socket server (tier 2: reached through PyVISA with
pyvisa-py at ``TCPIP0::127.0.0.1::<port>::SOCKET``); the models can also be used in-process
(tier 1) by handing them to an `InProcessTransport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.instruments.qdac2 import QDac2Model
from dotstack.mocks.physics import DeviceParams, NoiseParams, VirtualLab
from dotstack.mocks.scpi import ScpiModel, ScpiServer, serve_tcp

#: Instrument names of the mock lab, in the order their ports are assigned from ``base_port``.
INSTRUMENTS: tuple[str, ...] = ("qdac", "dmm")


@dataclass
class MockLab:
    """The simulated device plus its mock instruments (and their servers once `serve` ran)."""

    lab: VirtualLab
    models: dict[str, ScpiModel]
    servers: dict[str, ScpiServer] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        *,
        seed: int = 0,
        device: DeviceParams | None = None,
        noise: NoiseParams | None = None,
        dmm_gain: float = 1e8,
    ) -> MockLab:
        lab = VirtualLab(device, seed=seed, noise=noise)
        models: dict[str, ScpiModel] = {
            "qdac": QDac2Model(lab, name="qdac"),
            "dmm": Keysight34465AModel(lab, name="dmm", gain=dmm_gain),
        }
        return cls(lab=lab, models=models)

    def serve(self, host: str = "127.0.0.1", base_port: int = 0) -> dict[str, str]:
        """Serve every model on ``host``; ports ``base_port + i`` (0: ephemeral). Returns addresses."""
        if self.servers:
            raise RuntimeError("the mock lab is already being served")
        try:
            for i, name in enumerate(INSTRUMENTS):
                port = base_port + i if base_port else 0
                self.servers[name] = serve_tcp(self.models[name], host, port, name=name)
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
        """Stop every server (idempotent)."""
        for server in self.servers.values():
            server.close()
        self.servers.clear()

    def __enter__(self) -> MockLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

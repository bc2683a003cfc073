"""SCPI mock framework: a command router, IEEE 488.2 common commands, an error queue and a
loopback TCP server, the base of every SCPI mock instrument."""

from dotstack.ieee488 import MessageFramer, format_block
from dotstack.mocks.scpi.call import Call
from dotstack.mocks.scpi.errors import STANDARD_MESSAGES, ScpiError
from dotstack.mocks.scpi.faults import ConnectionDropped, Fault, FaultInjector, FaultPlan, FiredFault
from dotstack.mocks.scpi.model import ScpiModel
from dotstack.mocks.scpi.router import command
from dotstack.mocks.scpi.server import ScpiServer, serve_tcp
from dotstack.mocks.scpi.values import format_float

__all__ = [
    "STANDARD_MESSAGES",
    "Call",
    "ConnectionDropped",
    "Fault",
    "FaultInjector",
    "FaultPlan",
    "FiredFault",
    "MessageFramer",
    "ScpiError",
    "ScpiModel",
    "ScpiServer",
    "command",
    "format_block",
    "format_float",
    "serve_tcp",
]

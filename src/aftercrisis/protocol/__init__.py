"""The trial protocol as data: typed models and a loader with path-precise errors."""

from aftercrisis.protocol.loader import Problem, ProtocolError, load_protocol, parse_protocol
from aftercrisis.protocol.models import Protocol

__all__ = ["Problem", "Protocol", "ProtocolError", "load_protocol", "parse_protocol"]

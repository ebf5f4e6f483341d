"""The protocol this installation runs, loaded once from settings.PROTOCOL_FILE."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from aftercrisis.protocol import Protocol, load_protocol


@cache
def protocol() -> Protocol:
    return load_protocol(settings.PROTOCOL_FILE)

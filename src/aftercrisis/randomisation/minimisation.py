"""Minimisation inside the allocation service: levels of each factor, and reproducible draws.

Each allocation's random element is drawn from HMAC-SHA256(stratum secret, stratum:position),
so the sequence is reproducible by whoever holds the secret, and unpredictable to anyone else.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from aftercrisis.participants.models import Participant
from aftercrisis.protocol.models import MinimisationFactor


class MissingFactor(ValueError):
    """A participant lacks a value that minimisation needs; the text names the field."""


def factor_levels(participant: Participant, factors: Sequence[MinimisationFactor]) -> dict[str, str]:
    levels = {}
    for factor in factors:
        if factor.code == "site":
            levels["site"] = participant.site.code
            continue
        value = getattr(participant, factor.code)
        if value in (None, ""):
            raise MissingFactor(f"{factor.code}: record it before randomising {participant.trial_id}")
        if factor.cutpoints:
            value = sum(float(value) >= c for c in factor.cutpoints)
        levels[factor.code] = str(value)
    return levels


def draw_seed(secret: str, stratum: str, position: int) -> int:
    if not secret:
        raise ValueError("the stratum has no minimisation secret: set minimisation up first")
    digest = hmac.new(bytes.fromhex(secret), f"{stratum}:{position}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:16], "big")

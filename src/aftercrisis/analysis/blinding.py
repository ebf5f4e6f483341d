"""Arm labels for reports: the protocol's names, or "A"/"B" while the analysis is blinded.

Blinded labels come from a key held by the trial manager: HMAC-SHA256 of the fixed message
below under the key; when the first byte of the digest is even the intervention arm is "A",
otherwise "B". Without the key the mapping cannot be told, and with it anyone can check it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

MESSAGE = b"aftercrisis arm labels v1"


@dataclass(frozen=True)
class ArmLabels:
    """`compared` is the arm coded 1 in the models, `reference` the arm coded 0."""

    compared_code: str
    compared: str
    reference_code: str
    reference: str
    blinded: bool

    def label(self, code: str) -> str:
        return self.compared if code == self.compared_code else self.reference

    def indicator(self, code: str) -> int:
        return 1 if code == self.compared_code else 0


def intervention_is_a(key: str) -> bool:
    if not key:
        raise ValueError("a blinded report needs a non-empty blinding key")
    digest = hmac.new(key.encode("utf-8"), MESSAGE, hashlib.sha256).digest()
    return digest[0] % 2 == 0


def arm_labels(
    *,
    blinded: bool,
    key: str | None = None,
    intervention: str = "intervention",
    control: str = "control",
    names: dict[str, str] | None = None,
) -> ArmLabels:
    """Unblinded: intervention compared with control, under their names. Blinded: A compared with B."""
    if not blinded:
        shown = names or {}
        return ArmLabels(
            intervention, shown.get(intervention, intervention), control, shown.get(control, control), False
        )
    a_code, b_code = (intervention, control) if intervention_is_a(key or "") else (control, intervention)
    return ArmLabels(a_code, "A", b_code, "B", True)

"""Eligibility, item by item, against the protocol's coded criteria (pure).

An answer is whether the criterion applies to the person: an inclusion criterion must apply,
an exclusion criterion must not. Every criterion needs an answer; a missing one is an error,
never a silent pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aftercrisis.protocol.models import Eligibility


@dataclass(frozen=True)
class Assessment:
    answers: dict[str, bool]
    not_met: tuple[str, ...]  # inclusion criteria that do not apply
    excluded_by: tuple[str, ...]  # exclusion criteria that apply

    @property
    def eligible(self) -> bool:
        return not self.not_met and not self.excluded_by

    @property
    def reasons(self) -> tuple[str, ...]:
        """The coded reasons for ineligibility, in protocol order."""
        return self.not_met + self.excluded_by


class EligibilityError(ValueError):
    """Answers that do not match the protocol's criteria; the text names the criterion."""


def assess(eligibility: Eligibility, answers: Mapping[str, bool]) -> Assessment:
    inclusion = [c.code for c in eligibility.inclusion]
    exclusion = [c.code for c in eligibility.exclusion]
    unknown = sorted(set(answers) - set(inclusion) - set(exclusion))
    if unknown:
        raise EligibilityError(f"{unknown[0]}: not a criterion of this protocol")
    missing = [code for code in inclusion + exclusion if code not in answers]
    if missing:
        raise EligibilityError(f"{missing[0]}: answer whether this criterion applies")
    return Assessment(
        answers={code: bool(answers[code]) for code in inclusion + exclusion},
        not_met=tuple(code for code in inclusion if not answers[code]),
        excluded_by=tuple(code for code in exclusion if answers[code]),
    )

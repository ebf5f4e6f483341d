"""The trial report from live data: blinded (arms A and B) until database lock, unblinded after it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from aftercrisis import __version__
from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.analysis.blinding import arm_labels
from aftercrisis.analysis.dataset import DatasetError, from_frame
from aftercrisis.analysis.economics import counted
from aftercrisis.analysis.effects import NotEstimable
from aftercrisis.analysis.figures import svg
from aftercrisis.analysis.run import run_plan
from aftercrisis.lock.services import is_locked
from aftercrisis.protocol import Protocol
from aftercrisis.randomisation.selectors import sees_every_arm
from aftercrisis.recruitment.selectors import consort_counts
from aftercrisis.reporting.dataset import analysis_dataset, disposition
from aftercrisis.reporting.models import ReportSnapshot
from aftercrisis.reporting.report import Stamp, render_html
from aftercrisis.reporting.selectors import unblinded_assessments


def enrolment(actor: Actor, randomised: int) -> tuple[int | None, dict[str, int]]:
    """Assessed and excluded (with reasons) from the live screening log; no arm in it."""
    counts = consort_counts(actor)
    if counts.screened == 0:
        return None, {}
    excluded = {
        "not eligible": counts.not_eligible,
        "not approached": counts.not_approached,
        "declined": counts.declined,
    }
    waiting = counts.screened - randomised - sum(excluded.values())
    if waiting:
        excluded["eligible, not randomised"] = waiting
    return counts.screened, {reason: n for reason, n in excluded.items() if n}


def produce_report(
    actor: Actor, trial: Protocol, *, by: User, today: dt.date | None = None
) -> ReportSnapshot:
    if not actor.can(Capability.PRODUCE_REPORT):
        raise PermissionDenied
    locked = is_locked()
    blinded = not locked
    try:
        frame, digest = from_frame(
            analysis_dataset(trial, today or timezone.localdate()),
            sites=[s.code for s in trial.sites],
            resources=counted(trial.health_economics) if trial.health_economics else None,
        )
    except DatasetError as exc:
        raise ValidationError([str(p) for p in exc.problems[:20]]) from exc
    labels = arm_labels(
        blinded=blinded, key=settings.BLINDING_KEY, names={a.code: a.name for a in trial.arms}
    )
    assessed, excluded = enrolment(actor, len(frame))
    flow = disposition(
        trial,
        frame,
        assessed,
        excluded,
        labels_for={labels.compared_code: labels.compared, labels.reference_code: labels.reference},
        blinded=blinded,
    )
    # A secondary outcome that cannot be estimated yet is shown as such; without the primary, no report.
    try:
        outputs = run_plan(frame, trial.analysis, labels, disposition=flow, economics=trial.health_economics)
    except NotEstimable as exc:
        raise ValidationError(
            f"The trial report cannot be produced yet: the primary outcome cannot be estimated ({exc})"
        ) from exc
    stamp = Stamp(digest, trial.trial.protocol_version, __version__, timezone.now(), blinded)
    figures = {name: svg(figure) for name, figure in outputs.figures.items()}
    unblinded = unblinded_assessments()
    html = render_html(
        outputs, stamp, trial=trial.trial.short_name, figures=figures, unblinded_assessments=unblinded
    )
    return ReportSnapshot.objects.create(
        produced_by=by,
        blinded=blinded,
        database_locked=locked,
        dataset_sha256=digest,
        protocol_version=trial.trial.protocol_version,
        software_version=__version__,
        participants=len(frame),
        html=html,
        results={"stamp": stamp.as_dict(), **outputs.results, "unblinded_assessments": unblinded},
    )


def snapshots_for(actor: Actor) -> QuerySet[ReportSnapshot]:
    """Masked readers see blinded reports only while the database is open."""
    if not actor.can(Capability.PRODUCE_REPORT):
        return ReportSnapshot.objects.none()
    rows = ReportSnapshot.objects.select_related("produced_by")
    return rows if sees_every_arm(actor) else rows.filter(blinded=True)

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.charts import bar_chart_svg
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.lock.services import (
    decide_unlock,
    is_locked,
    lock_database,
    lock_history,
    request_unlock,
    unlock_state,
)
from aftercrisis.pagination import page_of
from aftercrisis.randomisation.selectors import sees_every_arm
from aftercrisis.reporting.checklist import (
    lock_checklist,
    primary_outcome_not_known,
    visits_in_window,
    with_trial_ids,
)
from aftercrisis.reporting.forms import LockForm, UnlockDecisionForm, UnlockRequestForm
from aftercrisis.reporting.reports import produce_report, snapshots_for
from aftercrisis.reporting.selectors import follow_up_completeness, randomisations_by_month, research_export


@requires(Capability.VIEW_REPORTS)
def index(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    months = randomisations_by_month(actor)
    return render(
        request,
        "reporting/index.jinja",
        {
            "trial": trial,
            "months": months,
            "randomised": sum(n for _, n in months),
            "chart": bar_chart_svg(months, title="Participants randomised each month (all arms)")
            if months
            else "",
            "completeness": follow_up_completeness(actor, trial, timezone.localdate()),
            "can_export": actor.can(Capability.RESEARCH_EXPORT),
            "can_lock": actor.can(Capability.LOCK_DATABASE),
            "can_report": actor.can(Capability.PRODUCE_REPORT),
            "locked": is_locked(),
        },
    )


@requires(Capability.LOCK_DATABASE)
@require_http_methods(["GET", "POST"])
def database_lock(request: HttpRequest) -> HttpResponse:
    """Open: the pre-lock checklist and the lock. Locked: the unlock, which takes two people."""
    actor = acting(request)
    locked, events = lock_history()
    form = LockForm(request.POST or None)
    if request.method == "POST":
        if locked:
            raise ValidationError("The database is already locked: an unlock is requested below")
        if form.is_valid():
            try:
                lock_database(
                    actor,
                    by=staff_user(request),
                    reason=form.cleaned_data["reason"],
                    reviewed=form.cleaned_data["reviewed"],
                )
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, "The database is now locked.")
                return redirect("reporting:lock")
    return render(
        request,
        "reporting/lock.jinja",
        {
            "locked": locked,
            # Not `form`: this page says itself whether the database is locked (see layout.jinja).
            "lock_form": form,
            "checklist": [] if locked else lock_checklist(actor, protocol(), timezone.localdate()),
            "unlock": unlock_state(actor, staff_user(request)) if locked else None,
            "events": events,
        },
    )


@requires(Capability.LOCK_DATABASE)
def lock_outcomes(request: HttpRequest) -> HttpResponse:
    """The checklist's participants whose primary outcome is not known, a page at a time."""
    trial = protocol()
    page = page_of(request, primary_outcome_not_known(trial, timezone.localdate()))
    page.object_list = with_trial_ids(list(page))
    horizon = dt.timedelta(days=trial.outcomes.primary.horizon_days)
    return render(
        request,
        "reporting/lock_list.jinja",
        {
            "title": "Participants whose primary outcome is not known",
            "headings": ["Randomised", "Follow-up ends"],
            "page": page,
            "rows": [(p, [p.randomised_on, p.randomised_on + horizon]) for p in page],
        },
    )


@requires(Capability.LOCK_DATABASE)
def lock_visits(request: HttpRequest) -> HttpResponse:
    """The checklist's follow-up visits still in their window, closing soonest first, a page at a time."""
    page = page_of(request, visits_in_window(protocol(), timezone.localdate()))
    return render(
        request,
        "reporting/lock_list.jinja",
        {
            "title": "Follow-up visits still in their window",
            "headings": ["Visit", "Window opens", "Window closes"],
            "page": page,
            "rows": [(v.participant, [v.window.name, v.window.opens, v.window.closes]) for v in page],
        },
    )


def _back(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    return redirect("reporting:lock" if actor.can(Capability.LOCK_DATABASE) else actor.home)


@requires(Capability.AGREE_UNLOCK)
@require_POST
def unlock_request(request: HttpRequest) -> HttpResponse:
    form = UnlockRequestForm(request.POST)
    if not form.is_valid():
        raise ValidationError(list(form.errors["reason"]))
    request_unlock(acting(request), by=staff_user(request), reason=form.cleaned_data["reason"])
    messages.success(
        request, "Unlock requested: it needs the agreement of the other person before it happens."
    )
    return _back(request)


@requires(Capability.AGREE_UNLOCK)
@require_POST
def unlock_decision(request: HttpRequest) -> HttpResponse:
    form = UnlockDecisionForm(request.POST)
    if not form.is_valid():
        raise ValidationError(list(form.errors["decision"]))
    agree = form.cleaned_data["decision"] == "agree"
    decide_unlock(acting(request), by=staff_user(request), agree=agree)
    messages.success(request, "The database is now unlocked." if agree else "The unlock was declined.")
    return _back(request)


@requires(Capability.PRODUCE_REPORT)
@require_http_methods(["GET", "POST"])
def trial_report(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    if request.method == "POST":
        snapshot = produce_report(actor, protocol(), by=staff_user(request))
        kind = "blinded" if snapshot.blinded else "unblinded"
        messages.success(request, f"The {kind} report of {snapshot.participants} participants is ready.")
        return redirect("reporting:trial_report")
    return render(
        request,
        "reporting/trial_report.jinja",
        {
            "snapshots": page_of(request, snapshots_for(actor).defer("html", "results")),
            "locked": is_locked(),
            "unblinded": sees_every_arm(actor),
        },
    )


@requires(Capability.PRODUCE_REPORT)
def snapshot(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    found = snapshots_for(acting(request)).filter(pk=pk).first()
    if found is None or kind not in ("html", "pdf"):
        raise Http404("no such report")
    name = f"trial-report-{'blinded' if found.blinded else 'unblinded'}-{found.produced_at:%Y%m%d-%H%M}"
    if kind == "pdf":
        from weasyprint import HTML

        response = HttpResponse(HTML(string=found.html).write_pdf(), content_type="application/pdf")
    else:
        response = HttpResponse(found.html, content_type="text/html; charset=utf-8")
    # A download, opened outside the application: the report carries its own styles and figures.
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


@requires(Capability.PRODUCE_REPORT)
def analysis_dataset_csv(request: HttpRequest) -> HttpResponse:
    if not sees_every_arm(acting(request)):
        raise PermissionDenied  # the dataset holds the arm
    from aftercrisis.reporting.dataset import analysis_dataset

    frame = analysis_dataset(protocol(), timezone.localdate())
    response = HttpResponse(frame.to_csv(index=False), content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="analysis-dataset-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


@requires(Capability.RESEARCH_EXPORT)
def export(request: HttpRequest) -> StreamingHttpResponse:
    columns, rows = research_export(acting(request))
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(columns)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="research-export-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response

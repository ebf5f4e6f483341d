"""The trial manager's peer support pages: workbook dispatch, supervision, fidelity and uptake."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Capability
from aftercrisis.accounts.roles import Role
from aftercrisis.charts import bar_chart_svg
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.intervention.dispatch import (
    awaiting_dispatch,
    mark_posted,
    mark_returned,
    postal_queue,
    queue_everyone_for_post,
    record_dispatch,
)
from aftercrisis.intervention.fidelity import fidelity as compute_fidelity
from aftercrisis.intervention.forms import DispatchForm, PostedForm, ReturnedForm, SupervisionForm
from aftercrisis.intervention.models import Dispatch
from aftercrisis.intervention.selectors import (
    dispatches_of,
    open_risk_concerns,
    supervision_records,
    supported_participants,
)
from aftercrisis.intervention.services import acknowledge_risk, record_supervision
from aftercrisis.pagination import page_of
from aftercrisis.participants.selectors import identity_for, participant_for
from aftercrisis.workbook.content import load_workbook
from aftercrisis.workbook.pdf import render_pdf


@requires(Capability.MANAGE_DISPATCH)
def dispatch(request: HttpRequest) -> HttpResponse:
    queue = list(postal_queue())
    waiting = page_of(request, awaiting_dispatch().order_by("trial_id"))
    returned = (
        Dispatch.objects.filter(returned_on__isnull=False)
        .select_related("participant")
        .order_by("-returned_on")[:50]
    )
    return render(
        request,
        "intervention/dispatch.jinja",
        {
            "queue": queue,
            "waiting": waiting,
            "returned": returned,
            "posted_form": PostedForm(
                initial={"dispatches": [d.pk for d in queue], "posted_on": timezone.localdate()}
            ),
        },
    )


@requires(Capability.MANAGE_DISPATCH)
@require_POST
def queue_post(request: HttpRequest) -> HttpResponse:
    queued = queue_everyone_for_post(on=timezone.localdate(), by=staff_user(request))
    messages.success(request, f"{queued} workbooks were added to the postal queue.")
    return redirect("peer_support:dispatch")


@requires(Capability.MANAGE_DISPATCH)
def print_batch(request: HttpRequest) -> HttpResponse:
    """Letters and address labels for every postal dispatch waiting to be posted."""
    html = render_to_string(
        "intervention/print_batch.jinja",
        {"queue": list(postal_queue()), "trial": protocol(), "today": timezone.localdate()},
    )
    response = HttpResponse(render_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="workbook-post-{timezone.localdate():%Y%m%d}.pdf"'
    return response


@requires(Capability.MANAGE_DISPATCH)
@require_POST
def posted(request: HttpRequest) -> HttpResponse:
    form = PostedForm(request.POST)
    if form.is_valid():
        n = mark_posted(
            form.cleaned_data["dispatches"], on=form.cleaned_data["posted_on"], by=staff_user(request)
        )
        messages.success(request, f"{n} workbooks were marked as posted.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("peer_support:dispatch")


@requires(Capability.MANAGE_DISPATCH)
@require_http_methods(["GET", "POST"])
def participant_dispatch(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    person = participant_for(actor, trial_id)
    form = DispatchForm(initial={"on": timezone.localdate()})
    returned_form = ReturnedForm(initial={"returned_on": timezone.localdate()})
    if request.method == "POST" and request.POST.get("action") == "returned":
        returned_form = ReturnedForm(request.POST)
        if returned_form.is_valid():
            sent = get_object_or_404(Dispatch, pk=returned_form.cleaned_data["dispatch"], participant=person)
            try:
                mark_returned(sent, on=returned_form.cleaned_data["returned_on"], by=staff_user(request))
            except ValidationError as exc:
                show_refusal(returned_form, exc)
            else:
                messages.success(request, "The workbook was recorded as returned undelivered.")
                return redirect("peer_support:participant_dispatch", trial_id=trial_id)
    elif request.method == "POST":
        form = DispatchForm(request.POST)
        if form.is_valid():
            try:
                record_dispatch(person, by=staff_user(request), **form.cleaned_data)
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, "The workbook dispatch was recorded.")
                return redirect("peer_support:participant_dispatch", trial_id=trial_id)
    return render(
        request,
        "intervention/participant_dispatch.jinja",
        {
            "participant": person,
            "identity": identity_for(actor, person),
            "dispatches": list(dispatches_of(person)),
            "form": form,
            "returned_form": returned_form,
        },
    )


def _workers() -> list[User]:
    return list(
        User.objects.filter(role_assignments__role=Role.PEER_SUPPORT_WORKER).distinct().order_by("last_name")
    )


@requires(Capability.RECORD_SUPERVISION)
@require_http_methods(["GET", "POST"])
def supervision(request: HttpRequest) -> HttpResponse:
    workers = (
        User.objects.filter(role_assignments__role=Role.PEER_SUPPORT_WORKER).distinct().order_by("last_name")
    )
    form = SupervisionForm(workers, request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            record_supervision(
                d["worker"],
                supervisor=staff_user(request),
                on=d["on"],
                topics=d["topics"],
                concerns=d["concerns"],
                by=staff_user(request),
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Supervision of {d['worker'].display_name} was recorded.")
            return redirect("peer_support:supervision")
    records = supervision_records(acting(request))
    return render(request, "intervention/supervision.jinja", {"form": form, "records": records[:200]})


def _fidelity(request: HttpRequest):  # type: ignore[no-untyped-def]
    trial = protocol()
    codes = load_workbook().section_codes
    return compute_fidelity(
        *supported_participants(acting(request), trial, codes),
        threshold=trial.analysis.uptake_threshold,
        max_sessions=trial.intervention.max_sessions,
        section_codes=codes,
    )


@requires(Capability.VIEW_FIDELITY)
def fidelity(request: HttpRequest) -> HttpResponse:
    figures = _fidelity(request)
    titles = {s.code: s.title for s in load_workbook().sections}
    return render(
        request,
        "intervention/fidelity.jinja",
        {
            "f": figures,
            "trial": protocol(),
            "titles": titles,
            "chart": bar_chart_svg(
                [(str(k), n) for k, n in figures.sessions_histogram],
                title="Participants by number of peer support sessions attended",
            ),
        },
    )


@requires(Capability.VIEW_FIDELITY)
def fidelity_csv(request: HttpRequest) -> HttpResponse:
    figures = _fidelity(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "grouping",
            "group",
            "participants",
            "started",
            f"at_least_{figures.threshold}",
            "sessions",
            "mean_sessions",
            "median_days_to_first_session",
        ]
    )
    for grouping, rows in [
        ("all", [figures.overall]),
        ("worker", figures.by_worker),
        ("site", figures.by_site),
    ]:
        for u in rows:
            writer.writerow(
                [
                    grouping,
                    u.label,
                    u.participants,
                    u.started,
                    u.reached_threshold,
                    u.sessions,
                    f"{u.mean_sessions:.2f}" if u.mean_sessions is not None else "",
                    f"{u.median_days_to_first:g}" if u.median_days_to_first is not None else "",
                ]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="peer-support-uptake-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


# Open concerns are worked through oldest first; more than this waiting is itself the thing to see.
RISK_CONCERNS_SHOWN = 100


@requires(Capability.ACKNOWLEDGE_RISK)
def risk_concerns(request: HttpRequest) -> HttpResponse:
    rows = open_risk_concerns(acting(request))
    return render(
        request,
        "intervention/risk_concerns.jinja",
        {"total": rows.count(), "concerns": list(rows[:RISK_CONCERNS_SHOWN])},
    )


@requires(Capability.ACKNOWLEDGE_RISK)
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting(request)
    concern = get_object_or_404(open_risk_concerns(actor), pk=pk)
    try:
        acknowledge_risk(actor, concern, by=staff_user(request), at=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The risk concern about {concern.participant.trial_id} was acknowledged.")
    return redirect("peer_support:risk_concerns")

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.accounts.selectors import sites_for
from aftercrisis.audit import history_of
from aftercrisis.config.trial import protocol
from aftercrisis.followup.selectors import schedule_of
from aftercrisis.forms import show_refusal
from aftercrisis.intervention.selectors import sessions_of
from aftercrisis.pagination import filter_value, page_of, sorted_by
from aftercrisis.participants.forms import IdentityForm, ResearchDataForm
from aftercrisis.participants.models import Identity, Participant, Status
from aftercrisis.participants.selectors import (
    identity_for,
    matching,
    participant_for,
    participant_record,
    participants_for,
)
from aftercrisis.participants.services import update_identity, update_research_data
from aftercrisis.participants.withdrawals import withdrawals_for
from aftercrisis.randomisation.readiness import BASELINE_INCOMPLETE, why_not_ready
from aftercrisis.randomisation.selectors import allocation_for, sees_every_arm
from aftercrisis.recruitment.consent import needs_reconsent

# What the list may be ordered by: nothing that follows from an arm.
LIST_COLUMNS = {"trial_id": "trial_id", "site": "site__code", "status": "status", "referred": "referred_on"}


@requires(Capability.VIEW_PARTICIPANTS)
def participant_list(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    sites = list(sites_for(actor))
    site = filter_value(request, "site", {s.code for s in sites})
    status = filter_value(request, "status", Status.values)
    text = request.GET.get("q", "")
    rows = matching(actor, participants_for(actor), text)
    if site:
        rows = rows.filter(site__code=site)
    if status:
        rows = rows.filter(status=status)
    rows, sort = sorted_by(request, rows, LIST_COLUMNS, default="trial_id")
    return render(
        request,
        "participants/list.jinja",
        {
            "page": page_of(request, rows),
            "sites": sites,
            "statuses": Status.choices,
            "site": site,
            "status": status,
            "q": text,
            "sort": sort,
            "identity": actor.can(Capability.VIEW_IDENTITY),
        },
    )


@requires(Capability.VIEW_PARTICIPANTS)
def participant_detail(request: HttpRequest, trial_id: str) -> HttpResponse:
    """The participant's record as a hub: the schedule of visits, what happened, and each next step."""
    actor = acting(request)
    trial = protocol()
    participant = participant_record(actor, trial_id)
    # No allocation to look for before randomisation (which keeps the page within its queries).
    arm, allocation = (participant.randomised_on and allocation_for(actor, participant)) or (None, None)
    withdrawals = list(withdrawals_for(actor, participant))
    return render(
        request,
        "participants/detail.jinja",
        {
            "participant": participant,
            "identity": identity_for(actor, participant),
            "arm": trial.arm(arm) if arm else None,
            "allocation": allocation,
            "sessions": list(sessions_of(participant)) if arm == trial.intervention.arm else None,
            "schedule": schedule_of(
                trial,
                participant,
                timezone.localdate(),
                randomised_on=participant.randomised_on,
                withdrawals=withdrawals,
            ),
            "death": getattr(participant, "death", None),
            "can": {c.name: actor.can(c) for c in Capability},
            "withdrawals": withdrawals,
            "reconsent": needs_reconsent(participant, trial),
            "baseline_incomplete": BASELINE_INCOMPLETE,
            "not_ready": why_not_ready(participant, trial)
            if actor.can(Capability.RANDOMISE) and participant.status == Status.CONSENTED
            else [],
        },
    )


def _edit(request: HttpRequest, trial_id: str, *, identity: bool) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    instance: Identity | Participant = participant.identity if identity else participant
    form: IdentityForm | ResearchDataForm = (
        IdentityForm(request.POST or None, instance=participant.identity)
        if identity
        else ResearchDataForm(request.POST or None, instance=participant)
    )
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form._meta.fields or []}
        # The ModelForm has already copied the values onto the instance; start again from the database.
        instance.refresh_from_db()
        save = update_identity if identity else update_research_data
        try:
            save(participant, changes, by=staff_user(request), reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The change was saved and recorded in the audit history.")
            return redirect("participants:detail", trial_id=trial_id)
    return render(
        request,
        "participants/edit.jinja",
        {
            "participant": participant,
            "form": form,
            "what": "contact details" if identity else "research data",
        },
    )


@requires(Capability.EDIT_PARTICIPANTS)
@require_http_methods(["GET", "POST"])
def edit_research_data(request: HttpRequest, trial_id: str) -> HttpResponse:
    return _edit(request, trial_id, identity=False)


@requires(Capability.EDIT_IDENTITY)
@require_http_methods(["GET", "POST"])
def edit_identity(request: HttpRequest, trial_id: str) -> HttpResponse:
    return _edit(request, trial_id, identity=True)


@requires(Capability.VIEW_AUDIT)
def participant_history(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    if not sees_every_arm(actor):
        raise PermissionDenied  # the history includes the allocation
    records = [participant, participant.identity]
    if hasattr(participant, "allocation"):
        records.append(participant.allocation)
    entries = sorted((e for r in records for e in history_of(r)), key=lambda e: e["when"], reverse=True)
    return render(
        request,
        "participants/history.jinja",
        {"participant": participant, "entries": page_of(request, entries)},
    )

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.intervention.forms import ContactAttemptForm, SessionForm
from aftercrisis.intervention.selectors import (
    caseload_counts,
    caseload_entries,
    contact_attempts_of,
    on_caseload,
    sessions_of,
)
from aftercrisis.intervention.services import record_contact_attempt, record_session
from aftercrisis.pagination import page_of
from aftercrisis.participants.models import Participant
from aftercrisis.participants.selectors import identity_for, participant_for
from aftercrisis.workbook.content import load_workbook


@requires(Capability.VIEW_CASELOAD)
def caseload(request: HttpRequest) -> HttpResponse:
    trial = protocol()
    actor, today = acting(request), timezone.localdate()
    open_count, closed_count = caseload_counts(actor, trial, today)
    # Open windows come first, so a page holds the open before the closed.
    page = page_of(request, on_caseload(actor, trial, today), count=open_count + closed_count)
    page.object_list = caseload_entries(trial, page.object_list, today)
    return render(
        request,
        "intervention/caseload.jinja",
        {
            "page": page,
            "open": [e for e in page if e.days_left_in_window >= 0],
            "closed": [e for e in page if e.days_left_in_window < 0],
            "open_count": open_count,
            "closed_count": closed_count,
            "trial": trial,
        },
    )


def _own(request: HttpRequest, trial_id: str) -> Participant:
    """A participant on the worker's own caseload; anyone else's does not exist."""
    return participant_for(acting(request), trial_id)


@requires(Capability.RECORD_SESSIONS)
def participant(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    person = _own(request, trial_id)
    trial = protocol()
    today = timezone.localdate()
    entries = caseload_entries(trial, on_caseload(actor, trial, today).filter(pk=person.pk), today)
    if not entries:  # withdrawn from peer support: off the caseload, as on the caseload page
        raise Http404("not on your caseload")
    (entry,) = entries
    titles = {s.code: s.title for s in load_workbook().sections}
    return render(
        request,
        "intervention/participant.jinja",
        {
            "participant": person,
            "identity": identity_for(actor, person),
            "entry": entry,
            "sessions": list(sessions_of(person)),
            "attempts": list(contact_attempts_of(person)),
            "titles": titles,
            "trial": trial,
            "full": entry.sessions_held >= trial.intervention.max_sessions,
        },
    )


@requires(Capability.RECORD_SESSIONS)
@require_http_methods(["GET", "POST"])
def new_session(request: HttpRequest, trial_id: str) -> HttpResponse:
    person = _own(request, trial_id)
    form = SessionForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            session = record_session(person, protocol(), form.details(), by=staff_user(request))
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            what = f"Session {session.number}" if session.number else session.get_outcome_display()
            note = " The risk concern was sent to the crisis team." if session.risk_concern else ""
            messages.success(request, f"{what} on {session.on:%-d %b %Y} was recorded.{note}")
            return redirect("intervention:participant", trial_id=trial_id)
    return render(
        request,
        "intervention/session_form.jinja",
        {"participant": person, "form": form, "trial": protocol()},
    )


@requires(Capability.RECORD_SESSIONS)
@require_http_methods(["GET", "POST"])
def new_contact_attempt(request: HttpRequest, trial_id: str) -> HttpResponse:
    person = _own(request, trial_id)
    form = ContactAttemptForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            record_contact_attempt(person, by=staff_user(request), **form.cleaned_data)
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The contact attempt was recorded.")
            return redirect("intervention:participant", trial_id=trial_id)
    return render(request, "intervention/contact_form.jinja", {"participant": person, "form": form})

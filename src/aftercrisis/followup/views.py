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
from aftercrisis.followup.forms import CodeForm, ContactForm, QuestionnaireForm
from aftercrisis.followup.models import ContactAttempt, QuestionnaireResponse, VisitMethod, VisitRecord
from aftercrisis.followup.selectors import due_questionnaires, due_visits, worklist_counts, worklist_entries
from aftercrisis.followup.services import (
    enter_questionnaire,
    instrument_for_entry,
    log_contact,
    visit_instruments,
)
from aftercrisis.forms import show_refusal
from aftercrisis.pagination import page_of
from aftercrisis.participants.links import (
    LinkRefused,
    open_link,
    participant_required,
    start_participant_session,
)
from aftercrisis.participants.models import LinkPurpose, Participant
from aftercrisis.participants.selectors import participant_for
from aftercrisis.queries.checks import FIELD_LABELS
from aftercrisis.queries.selectors import queries_to_answer
from aftercrisis.randomisation.selectors import refuse_unblinded_assessor

QUERIES_SHOWN = 10  # the oldest; the rest are on the data queries page


@requires(Capability.VIEW_WORKLIST)
def worklist(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    actor = acting(request)
    trial = protocol()
    counts = worklist_counts(actor, trial, today)
    page = page_of(request, due_visits(actor, trial, today), count=sum(counts.values()))
    page.object_list = worklist_entries(trial, page.object_list, today)
    queries = queries_to_answer(actor)
    return render(
        request,
        "followup/worklist.jinja",
        {
            "page": page,
            "counts": counts,
            "today": today,
            "queries": list(queries[:QUERIES_SHOWN]),
            "queries_count": queries.count(),
            "fields": FIELD_LABELS,
        },
    )


def _unblinded_for(request: HttpRequest, participant: Participant) -> HttpResponse | None:
    """Back to the worklist, with the reason, for a researcher emergency-unblinded for this participant."""
    try:
        refuse_unblinded_assessor(participant, acting(request).user_id)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("followup:worklist")
    return None


def _visit_or_404(visit: str) -> list[str]:
    try:
        return visit_instruments(protocol(), visit)
    except ValidationError:
        raise Http404("no such visit") from None


@requires(Capability.ENTER_QUESTIONNAIRES)
@require_http_methods(["GET", "POST"])
def visit(request: HttpRequest, trial_id: str, visit: str) -> HttpResponse:
    """One participant's visit: its questionnaires, the contact attempts, and a form to log another."""
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    codes = _visit_or_404(visit)
    if refused := _unblinded_for(request, participant):
        return refused
    form = ContactForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            log_contact(actor, participant, visit, **form.cleaned_data, by=staff_user(request))
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The contact attempt was logged.")
            return redirect("followup:visit", trial_id=trial_id, visit=visit)
    returned = {
        r.instrument: r for r in QuestionnaireResponse.objects.filter(participant=participant, visit=visit)
    }
    return render(
        request,
        "followup/visit.jinja",
        {
            "participant": participant,
            "visit": protocol().visit(visit),
            "instruments": [(instrument_for_entry(c), returned.get(c)) for c in codes],
            "attempts": ContactAttempt.objects.filter(participant=participant, visit=visit).select_related(
                "by"
            ),
            "record": VisitRecord.objects.filter(participant=participant, visit=visit).first(),
            "form": form,
        },
    )


def _answers(form: QuestionnaireForm, codes: list[str]) -> dict[str, int | None]:
    return {c: form.cleaned_data.get(c) for c in codes}


@requires(Capability.ENTER_QUESTIONNAIRES)
@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, trial_id: str, visit: str, instrument: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    if instrument not in _visit_or_404(visit):
        raise Http404("no such questionnaire at this visit")
    if refused := _unblinded_for(request, participant):
        return refused
    inst = instrument_for_entry(instrument)
    stored = QuestionnaireResponse.objects.filter(
        participant=participant, visit=visit, instrument=instrument
    ).first()
    initial = (
        {**stored.answers, "completed_on": stored.completed_on, "method": stored.method}
        if stored
        else {"completed_on": timezone.localdate()}
    )
    form = QuestionnaireForm(
        request.POST or None, instrument=inst, staff=True, correcting=stored is not None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            enter_questionnaire(
                protocol(),
                participant,
                visit,
                instrument,
                _answers(form, [i.code for i in inst.items]),
                method=form.cleaned_data["method"],
                completed_on=form.cleaned_data["completed_on"],
                by=staff_user(request),
                reason=form.cleaned_data.get("reason", ""),
                outside_window_reason=form.cleaned_data["outside_window_reason"],
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"The {inst.name} answers were saved.")
            return redirect("followup:visit", trial_id=trial_id, visit=visit)
    return render(
        request,
        "followup/questionnaire.jinja",
        {
            "participant": participant,
            "visit": protocol().visit(visit),
            "instrument": inst,
            "form": form,
            "stored": stored,
        },
    )


@require_http_methods(["GET", "POST"])
def open_questionnaires(request: HttpRequest, token: str) -> HttpResponse:
    """A participant opens their questionnaire link with the code sent separately."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link = open_link(token, form.cleaned_data["code"])
        except LinkRefused as exc:
            form.add_error("code", str(exc))
        else:
            if link.purpose != LinkPurpose.QUESTIONNAIRES:
                form.add_error("code", "This link is not for questionnaires.")
            else:
                start_participant_session(request, link)
                return redirect("followup:my_questionnaires")
    return render(request, "followup/open.jinja", {"form": form})


@participant_required(LinkPurpose.QUESTIONNAIRES)
@require_http_methods(["GET", "POST"])
def my_questionnaires(request: HttpRequest, participant: Participant) -> HttpResponse:
    """The participant's due questionnaires, one at a time, until none is left."""
    due = due_questionnaires(protocol(), participant, timezone.localdate())
    if not due:
        return render(request, "followup/thanks.jinja", {})
    visit_code, code = due[0]
    inst = instrument_for_entry(code)
    form = QuestionnaireForm(request.POST or None, instrument=inst, staff=False)
    if request.method == "POST" and form.is_valid():
        try:
            enter_questionnaire(
                protocol(),
                participant,
                visit_code,
                code,
                _answers(form, [i.code for i in inst.items]),
                method=VisitMethod.ONLINE,
                completed_on=timezone.localdate(),
                by=None,
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            return redirect("followup:my_questionnaires")
    return render(request, "followup/self.jinja", {"instrument": inst, "form": form, "left": len(due)})

"""The workbook's pages: the participant's own (through a link and code), and printing for staff."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_http_methods

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.participants.links import (
    LinkRefused,
    open_link,
    participant_required,
    start_participant_session,
)
from aftercrisis.participants.models import LinkPurpose, Participant
from aftercrisis.participants.selectors import identity_for, participant_for
from aftercrisis.workbook.content import load_workbook
from aftercrisis.workbook.forms import SectionForm
from aftercrisis.workbook.pdf import blank_workbook_pdf, personal_workbook_pdf
from aftercrisis.workbook.selectors import answers_of, filled_workbook
from aftercrisis.workbook.services import issue_workbook_link, save_answers


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@requires(Capability.VIEW_WORKBOOK)
def blank_pdf(request: HttpRequest) -> HttpResponse:
    workbook = load_workbook()
    edition = blank_workbook_pdf(protocol(), workbook)
    unchanged = get_conditional_response(request, etag=edition.etag)
    if unchanged is not None:
        return unchanged  # the copy the browser holds is this edition
    response = _pdf(edition.content, f"recovery-workbook-edition-{workbook.version}.pdf")
    response["ETag"] = edition.etag
    # Staff only, so kept by the browser alone; asked for again each time, sent again only if changed.
    response["Cache-Control"] = "private, no-cache"
    return response


@requires(Capability.VIEW_WORKBOOK)
def participant_pdf(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    person = participant_for(actor, trial_id)
    identity = identity_for(actor, person)
    name = f"{identity.given_name} {identity.family_name}" if identity else person.trial_id
    content = personal_workbook_pdf(
        protocol(),
        filled_workbook(person),
        person=name,
        trial_id=person.trial_id,
        printed_on=timezone.localdate(),
    )
    return _pdf(content, f"recovery-workbook-{person.trial_id}.pdf")


@requires(Capability.ISSUE_WORKBOOK_LINK)
@require_http_methods(["GET", "POST"])
def issue_link(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    person = participant_for(actor, trial_id)
    issued = (
        issue_workbook_link(person, protocol(), by=staff_user(request)) if request.method == "POST" else None
    )
    return render(
        request,
        "workbook/issue_link.jinja",
        {
            "participant": person,
            "identity": identity_for(actor, person),
            "issued": issued,
            "link": request.build_absolute_uri(reverse("workbook:open", kwargs={"token": issued.token}))
            if issued
            else "",
        },
    )


@require_http_methods(["GET", "POST"])
def open_workbook(request: HttpRequest, token: str) -> HttpResponse:
    """The page a workbook link opens: it asks for the code sent separately."""
    error = ""
    code = ""
    if request.method == "POST":
        code = request.POST.get("code", "").strip()
        if not code.isdigit() or len(code) != 6:
            error = "Enter the 6-digit code from your letter or text message"
        else:
            try:
                link = open_link(token, code)
            except LinkRefused as exc:
                error = str(exc)
            else:
                if link.purpose != LinkPurpose.WORKBOOK:
                    raise Http404("no such workbook link")
                start_participant_session(request, link)
                return redirect("workbook:mine")
    return render(
        request, "workbook/open.jinja", {"error": error, "code": code}, status=400 if error else 200
    )


@participant_required(LinkPurpose.WORKBOOK)
def mine(request: HttpRequest, participant: Participant) -> HttpResponse:
    return render(
        request,
        "workbook/mine.jinja",
        {"workbook": load_workbook(), "filled": filled_workbook(participant)},
    )


@participant_required(LinkPurpose.WORKBOOK)
@require_http_methods(["GET", "POST"])
def section(request: HttpRequest, participant: Participant, section: str) -> HttpResponse:
    workbook = load_workbook()
    try:
        part = workbook.section(section)
    except KeyError:
        raise Http404("no such workbook section") from None
    form = SectionForm(part, answers_of(participant, workbook), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            save_answers(participant, form.answers(), by=None, reason="written by the participant")
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"“{part.title}” was saved.")
            return redirect("workbook:mine")
    codes = workbook.section_codes
    return render(
        request,
        "workbook/section.jinja",
        {"section": part, "form": form, "number": codes.index(part.code) + 1, "total": len(codes)},
    )


@participant_required(LinkPurpose.WORKBOOK)
def my_pdf(request: HttpRequest, participant: Participant) -> HttpResponse:
    content = personal_workbook_pdf(
        protocol(), filled_workbook(participant), person="", trial_id="", printed_on=timezone.localdate()
    )
    return _pdf(content, "my-recovery-workbook.pdf")

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.pagination import page_of
from aftercrisis.participants.selectors import participant_for
from aftercrisis.randomisation.forms import (
    BackupAllocationForm,
    CorrectionForm,
    UnblindingDecisionForm,
    UnblindingRequestForm,
)
from aftercrisis.randomisation.lists import checksum
from aftercrisis.randomisation.models import Allocation, AllocationSlot, UnblindingRequest, UnblindingStatus
from aftercrisis.randomisation.services import (
    Randomised,
    allocation_list_csv,
    correct_stratum,
    enter_backup_allocation,
    flag_randomised_in_error,
    randomise_in_scope,
)
from aftercrisis.randomisation.unblinding import (
    decide_unblinding,
    request_unblinding,
    requests_for,
    revealed_arm,
)


@requires(Capability.RANDOMISE)
@require_POST
def randomise(request: HttpRequest, trial_id: str) -> HttpResponse:
    # The participant is looked for among those the actor may open once the lock is held, in one read.
    done = randomise_in_scope(acting(request), trial_id, protocol(), by=staff_user(request))
    messages.success(request, _randomised_text(done))
    return redirect("participants:detail", trial_id=trial_id)


def _randomised_text(done: Randomised) -> str:
    trial = protocol()
    allocation = done.allocation
    who, arm = allocation.participant.trial_id, trial.arm(allocation.arm).name
    if not done.created:  # a second click, or someone else got there first
        return f"{who} was already randomised on {allocation.randomised_on:%-d %b %Y} to: {arm}."
    text = f"{who} is allocated to: {arm}."
    if done.assignment is not None:
        text += f" Added to {done.assignment.worker.display_name}'s caseload."
    elif allocation.arm == trial.intervention.arm:
        text += " There is no peer support worker at this site yet: assign one."
    n = len(done.notifications)
    return text + f" {n} notification{'s' if n != 1 else ''} sent."


@requires(Capability.RANDOMISE)
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    allocation = Allocation.objects.filter(participant=participant).first()
    if allocation is None:
        raise Http404("not randomised")
    form = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data, user = form.cleaned_data, staff_user(request)
        try:
            if data["kind"] == "stratum":
                correct_stratum(actor, allocation, data["site"], by=user, reason=data["reason"])
            else:
                flag_randomised_in_error(actor, allocation, by=user, reason=data["reason"])
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The correction is recorded; the original allocation is kept.")
            return redirect("participants:detail", trial_id=trial_id)
    return render(
        request,
        "randomisation/correct.jinja",
        {"participant": participant, "form": form, "allocation": allocation},
    )


@requires(Capability.RANDOMISE)
@require_http_methods(["GET", "POST"])
def backup(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    form = BackupAllocationForm(request.POST or None, arms=[(a.code, a.name) for a in trial.arms])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = participant_for(actor, data["trial_id"])
        except Http404:
            form.add_error("trial_id", "There is no participant with this trial ID")
        else:
            try:
                done = enter_backup_allocation(
                    actor,
                    participant,
                    protocol(),
                    position=data["position"],
                    arm=data["arm"],
                    on=data["randomised_on"],
                    by=staff_user(request),
                )
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                note = "" if done.allocation.matches_list else " It differs from the list: reconcile it."
                messages.success(
                    request, f"The backup allocation of {participant.trial_id} is entered.{note}"
                )
                return redirect("participants:detail", trial_id=participant.trial_id)
    return render(request, "randomisation/backup.jinja", {"form": form})


@requires(Capability.EXPORT_ALLOCATION_LIST)
def lists(request: HttpRequest) -> HttpResponse:
    """Each stratum's concealed list: its length, positions used and left, and the file's checksum."""
    summary = (
        AllocationSlot.objects.values("site__code", "site__name")
        .annotate(length=Count("pk"), used=Count("allocation"))
        .order_by("site__code")
    )
    return render(
        request,
        "randomisation/lists.jinja",
        {"summary": summary, "checksum": checksum(allocation_list_csv())},
    )


@requires(Capability.EXPORT_ALLOCATION_LIST)
def export_list(request: HttpRequest) -> HttpResponse:
    text = allocation_list_csv()
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="allocation-lists.csv"'
    return response


@requires(Capability.REQUEST_UNBLINDING)
@require_http_methods(["GET", "POST"])
def unblinding_request(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    form = UnblindingRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_unblinding(actor, participant, reason=form.cleaned_data["reason"], by=staff_user(request))
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "Your request is sent to the trial manager.")
            return redirect("randomisation:my_unblinding")
    return render(
        request, "randomisation/unblinding_request.jinja", {"participant": participant, "form": form}
    )


def _listing(request: HttpRequest, title: str) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    page = page_of(request, requests_for(actor))
    rows = []
    for r in page:
        code = revealed_arm(actor, r)
        rows.append({"request": r, "arm": trial.arm(code).name if code else None})
    return render(
        request, "randomisation/unblinding_list.jinja", {"page": page, "rows": rows, "title": title}
    )


@requires(Capability.REQUEST_UNBLINDING)
def my_unblinding(request: HttpRequest) -> HttpResponse:
    return _listing(request, "Your unblinding requests")


@requires(Capability.APPROVE_UNBLINDING)
@require_http_methods(["GET", "POST"])
def unblinding(request: HttpRequest) -> HttpResponse:
    """Every request (the data monitoring committee's listing), with open ones to decide."""
    actor = acting(request)
    if request.method == "POST":
        form = UnblindingDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
            return redirect("randomisation:unblinding")
        open_requests = requests_for(actor).filter(status=UnblindingStatus.REQUESTED)
        target: UnblindingRequest | None = open_requests.filter(pk=form.cleaned_data["request"]).first()
        if target is None:
            messages.error(request, "That unblinding request is no longer open")
        else:
            decide_unblinding(
                actor,
                target,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
                by=staff_user(request),
            )
            messages.success(request, f"The request for {target.participant.trial_id} is decided.")
        return redirect("randomisation:unblinding")
    return _listing(request, "Emergency unblinding requests")

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
from aftercrisis.charts import accrual_svg, completeness_svg, flow_svg
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.intervention.selectors import open_risk_concerns
from aftercrisis.pagination import filter_value, page_of, sorted_by
from aftercrisis.participants.selectors import participant_for, participants_for
from aftercrisis.participants.services import register_participant
from aftercrisis.participants.withdrawals import levels_for
from aftercrisis.participants.withdrawals import withdraw as record_withdrawal
from aftercrisis.recruitment.forms import (
    AnonymousScreenFailureForm,
    ConsentForm,
    DeclineForm,
    ReferralForm,
    ScreeningForm,
    WithdrawalForm,
)
from aftercrisis.recruitment.models import DeclineReason, NotApproachedReason, ScreeningOutcome
from aftercrisis.recruitment.selectors import (
    consort_counts,
    follow_up_completeness,
    randomisation_dates_by_site,
    randomised_by_day,
    recruitment_by_site,
    screening_log_rows,
)
from aftercrisis.recruitment.services import (
    record_anonymous_screen_failures,
    record_consent,
    record_decline,
    record_screening,
)


@requires(Capability.VIEW_RECRUITMENT)
def by_site(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    today = timezone.localdate()
    rows = recruitment_by_site(actor, trial.arm_codes)
    total = {
        "referred": sum(r.referred for r in rows),
        "awaiting_randomisation": sum(r.awaiting_randomisation for r in rows),
        "randomised": sum(r.randomised for r in rows),
        "withdrawn": sum(r.withdrawn for r in rows),
        "by_arm": {c: sum(r.by_arm.get(c, 0) for r in rows) for c in trial.arm_codes},
    }
    planned_days = (trial.trial.recruitment_end - trial.trial.recruitment_start).days
    names = {r.code: r.name for r in rows}
    randomised = randomised_by_day(actor, trial)
    accrual = [
        accrual_svg(
            days,
            target=trial.site_target(code),
            planned_days=planned_days,
            today=today,
            title=names.get(code, code),
            key=f"accrual-{code.lower()}",
        )
        for code, days in randomisation_dates_by_site(randomised, list(names)).items()
    ]
    flow = consort_counts(actor)
    arms = [(trial.arm(code).name, n) for code, n in (flow.randomised_by_arm or {}).items()]
    return render(
        request,
        "recruitment/by_site.jinja",
        {
            "rows": rows,
            "total": total,
            "arms": trial.arms if rows and rows[0].by_arm else [],
            "trial": trial,
            "accrual": accrual,
            "flow": flow_svg(
                [
                    ("Screened", flow.screened),
                    ("Eligible", flow.eligible),
                    ("Consented", flow.consented),
                    ("Randomised", flow.randomised),
                ],
                arms,
                title="Participant flow",
                key="flow",
            ),
            "completeness": completeness_svg(
                follow_up_completeness(randomised, trial, today),
                title="Follow-up completed",
                key="completeness",
            ),
            "open_risk_concerns": open_risk_concerns(actor).count(),
        },
    )


@requires(Capability.REFER)
@require_http_methods(["GET", "POST"])
def referrals(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    form = ReferralForm(request.POST or None, sites=sites_for(actor))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identity = {
            k: data[k]
            for k in (
                "given_name",
                "family_name",
                "nhs_number",
                "date_of_birth",
                "phone",
                "email",
                "address",
                "postcode",
            )
        }
        try:
            participant = register_participant(
                site=data["site"],
                referred_on=data["referred_on"],
                by=staff_user(request),
                identity=identity,
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(
                request,
                f"{identity['given_name']} {identity['family_name']} is referred as {participant.trial_id}.",
            )
            return redirect("recruitment:referrals")
    sites = list(sites_for(actor))
    site = filter_value(request, "site", {s.code for s in sites})
    mine = participants_for(actor).select_related("identity")
    if site:
        mine = mine.filter(site__code=site)
    mine, sort = sorted_by(request, mine, REFERRAL_COLUMNS, default="-referred")
    return render(
        request,
        "recruitment/referrals.jinja",
        {"form": form, "referrals": page_of(request, mine), "sort": sort, "sites": sites, "site": site},
    )


# What the lists may be ordered by: nothing that follows from an arm.
REFERRAL_COLUMNS = {
    "name": "identity__family_name",
    "trial_id": "trial_id",
    "referred": "referred_on",
    "status": "status",
}
SCREENING_COLUMNS = {
    "trial_id": "participant__trial_id",
    "site": "participant__site__code",
    "screened": "screened_on",
    "outcome": "outcome",
}


def _criteria() -> list[tuple[str, str, bool]]:
    rules = protocol().eligibility
    return [(c.code, c.text, True) for c in rules.inclusion] + [
        (c.code, c.text, False) for c in rules.exclusion
    ]


def _reasons() -> list[tuple[str, str]]:
    return [
        *[(v, f"Not approached: {label}") for v, label in NotApproachedReason.choices],
        *[(v, f"Declined: {label}") for v, label in DeclineReason.choices],
    ]


def _not_eligible() -> list[tuple[str, str]]:
    """Each criterion as the reason someone is not eligible, in words."""
    return [
        (code, f"Not eligible: {'does not meet: ' if inclusion else ''}{text.rstrip('.')}")
        for code, text, inclusion in _criteria()
    ]


def _reason_words() -> dict[str, str]:
    """Every coded screening reason in words, for the log."""
    return {code: words.split(": ", 1)[1] for code, words in _not_eligible() + _reasons()}


@requires(Capability.EDIT_PARTICIPANTS)
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    form = ScreeningForm(request.POST or None, criteria=_criteria(), reasons=_reasons())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record_screening(
                actor,
                participant,
                protocol(),
                answers=form.answers(),
                on=data["screened_on"],
                by=staff_user(request),
                outcome=data["outcome"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            show_refusal(form, exc, {"answers": "__all__", "status": "__all__"})
        else:
            messages.success(
                request, f"Screening of {trial_id} is recorded: {participant.get_status_display()}."
            )
            return redirect("participants:detail", trial_id=trial_id)
    return render(request, "recruitment/screen.jinja", {"participant": participant, "form": form})


@requires(Capability.EDIT_PARTICIPANTS)
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    trial = protocol()
    items = [(i.code, i.text, i.required) for i in trial.consent.items]
    form = ConsentForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        try:
            record_consent(
                actor,
                participant,
                trial,
                items=form.agreed(),
                capacity_confirmed=form.cleaned_data["capacity_confirmed"],
                on=form.cleaned_data["taken_on"],
                by=staff_user(request),
            )
        except ValidationError as exc:
            show_refusal(form, exc, {code: f"item_{code}" for code, _, _ in items} | {"status": "__all__"})
        else:
            messages.success(
                request, f"Consent of {trial_id} on form version {trial.consent.version} is recorded."
            )
            return redirect("participants:detail", trial_id=trial_id)
    return render(
        request,
        "recruitment/consent.jinja",
        {"participant": participant, "form": form, "version": trial.consent.version},
    )


@requires(Capability.EDIT_PARTICIPANTS)
@require_http_methods(["GET", "POST"])
def decline(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    form = DeclineForm(request.POST or None, reasons=DeclineReason.choices)
    if request.method == "POST" and form.is_valid():
        try:
            record_decline(actor, participant, reason=form.cleaned_data["reason"], by=staff_user(request))
        except ValidationError as exc:
            show_refusal(form, exc, {"status": "__all__"})
        else:
            messages.success(request, f"{trial_id} declined; the screening log is updated.")
            return redirect("participants:detail", trial_id=trial_id)
    return render(request, "recruitment/decline.jinja", {"participant": participant, "form": form})


@requires(Capability.EDIT_PARTICIPANTS)
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    form = WithdrawalForm(request.POST or None, levels=levels_for(actor))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record_withdrawal(
                actor,
                participant,
                protocol(),
                level=data["level"],
                on=data["on"],
                reason=data["reason"],
                by=staff_user(request),
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"The withdrawal of {trial_id} is recorded.")
            return redirect("participants:detail", trial_id=trial_id)
    return render(request, "recruitment/withdraw.jinja", {"participant": participant, "form": form})


@requires(Capability.VIEW_PARTICIPANTS)
@require_http_methods(["GET", "POST"])
def screening_log(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    reasons = _not_eligible() + _reasons()
    sites = list(sites_for(actor))
    form = AnonymousScreenFailureForm(request.POST or None, sites=sites, reasons=reasons)
    if request.method == "POST":
        if not actor.can(Capability.EDIT_PARTICIPANTS):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                record_anonymous_screen_failures(
                    actor,
                    trial,
                    site=data["site"],
                    on=data["screened_on"],
                    outcome=data["outcome"],
                    reason=data["reason"],
                    count=data["count"],
                    by=staff_user(request),
                )
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, f"{data['count']} screened without referral recorded.")
                return redirect("recruitment:screening_log")
    counts = consort_counts(actor)
    site = filter_value(request, "site", {s.code for s in sites})
    outcome = filter_value(request, "outcome", ScreeningOutcome.values)
    rows = screening_log_rows(actor)
    if site:
        rows = rows.filter(participant__site__code=site)
    if outcome:
        rows = rows.filter(outcome=outcome)
    rows, sort = sorted_by(request, rows, SCREENING_COLUMNS, default="-screened")
    return render(
        request,
        "recruitment/screening_log.jinja",
        {
            "form": form if actor.can(Capability.EDIT_PARTICIPANTS) else None,
            "counts": counts,
            "arms": trial.arms,
            # Unfiltered, the flow's counts already hold the log's length.
            "rows": page_of(request, rows, count=None if site or outcome else counts.referred_and_screened),
            "sort": sort,
            "reason_words": _reason_words(),
            "sites": sites,
            "site": site,
            "outcomes": ScreeningOutcome.choices,
            "outcome": outcome,
        },
    )

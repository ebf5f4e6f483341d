from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.accounts.selectors import sites_for
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.lock.services import unlock_state
from aftercrisis.outcomes.derivation import Episode, episode_days, rules_for
from aftercrisis.outcomes.forms import (
    DeathForm,
    EpisodeForm,
    ImportForm,
    ReconcileForm,
    SaeForm,
    SaeReviewForm,
)
from aftercrisis.outcomes.imports import import_file
from aftercrisis.outcomes.models import EpisodeSource, SaeCategory, SeriousAdverseEvent, Seriousness
from aftercrisis.outcomes.selectors import (
    SafetyFilters,
    current_episodes,
    episodes_of,
    overlaps_for,
    sae_scope,
    safety_listing,
)
from aftercrisis.outcomes.services import (
    EpisodeDraft,
    record_death,
    record_episodes,
    report_sae,
    sign_off_sae,
)
from aftercrisis.outcomes.services import (
    reconcile as reconcile_pair,
)
from aftercrisis.pagination import filter_value, page_of, sort_order, sorted_by
from aftercrisis.participants.selectors import participant_for

PROBLEMS_SHOWN = 100  # a file with a thousand problems is fixed from the first ones, not read to the end


def _settings() -> list[tuple[str, str]]:
    return [(s.code, s.name) for s in protocol().outcomes.acute_care_settings]


@requires(Capability.RECORD_EPISODES)
@require_http_methods(["GET", "POST"])
def episodes(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    form = EpisodeForm(request.POST or None, settings=_settings())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        draft = EpisodeDraft(
            participant,
            data["setting"],
            data["start"],
            data["end"],
            data["admission_type"],
            data["source"],
            "",
            "form",
            data["before_randomisation_reason"],
        )
        try:
            record_episodes(actor, protocol(), [draft], by=staff_user(request), today=timezone.localdate())
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The episode was recorded.")
            return redirect("outcomes:episodes", trial_id=trial_id)
    names = dict(_settings())
    return render(
        request,
        "outcomes/episodes.jinja",
        {
            "participant": participant,
            "episodes": episodes_of(participant),
            "form": form,
            "setting_names": names,
        },
    )


# The episode list's columns that order it (name -> field); never the arm.
EPISODE_COLUMNS = {
    "trial_id": "participant__trial_id",
    "start": "start",
    "end": "end",
}


@requires(Capability.RECORD_EPISODES)
def episode_list(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    sites = list(sites_for(actor))
    settings = _settings()
    site = filter_value(request, "site", {s.code for s in sites})
    setting = filter_value(request, "setting", dict(settings))
    source = filter_value(request, "source", EpisodeSource.values)
    rows = current_episodes(actor)
    if site:
        rows = rows.filter(participant__site__code=site)
    if setting:
        rows = rows.filter(setting=setting)
    if source:
        rows = rows.filter(source=source)
    rows, sort = sorted_by(request, rows, EPISODE_COLUMNS, default="-start")
    page = page_of(request, rows)
    rules = rules_for(protocol())
    return render(
        request,
        "outcomes/episode_list.jinja",
        {
            "page": page,
            "sort": sort,
            "days": {e.pk: episode_days(Episode(e.setting, e.start, e.end), rules) for e in page},
            "setting_names": dict(settings),
            "sites": sites,
            "site": site,
            "settings": settings,
            "setting": setting,
            "sources": EpisodeSource.choices,
            "source": source,
        },
    )


@requires(Capability.RECORD_EPISODES)
@require_http_methods(["GET", "POST"])
def import_episodes(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            written, parsed = import_file(
                actor,
                protocol(),
                upload.name or "",
                upload.read(),
                by=staff_user(request),
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            problems = exc.messages
        else:
            skipped = f"; {len(parsed.skipped)} resources were not episodes" if parsed.skipped else ""
            messages.success(request, f"{len(written)} episodes were imported{skipped}.")
            return redirect("outcomes:reconcile")
    shown = problems[:PROBLEMS_SHOWN]
    return render(
        request,
        "outcomes/import.jinja",
        {"form": form, "problems": shown, "total": len(problems), "more": len(problems) - len(shown)},
    )


@requires(Capability.RECORD_EPISODES)
@require_http_methods(["GET", "POST"])
def reconcile(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    overlaps = overlaps_for(actor)
    form = ReconcileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        pair = set(form.cleaned_data["pair"])
        chosen = next((o for o in overlaps if {o.first.pk, o.second.pk} == pair), None)
        if chosen is None:
            raise Http404("no such overlap")
        kept = next((e for e in (chosen.first, chosen.second) if e.pk == form.cleaned_data["keep"]), None)
        try:
            reconcile_pair(
                chosen.first,
                chosen.second,
                form.cleaned_data["decision"],
                kept=kept,
                by=staff_user(request),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            show_refusal(form, exc, {"kept": "keep"})
        else:
            messages.success(request, "The decision was recorded.")
            return redirect("outcomes:reconcile")
    return render(
        request,
        "outcomes/reconcile.jinja",
        {"page": page_of(request, overlaps), "form": form, "setting_names": dict(_settings())},
    )


@requires(Capability.REPORT_SAFETY)
@require_http_methods(["GET", "POST"])
def death(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    form = DeathForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record_death(
                actor,
                participant,
                died_on=form.cleaned_data["died_on"],
                cause=form.cleaned_data["cause"],
                by=staff_user(request),
                today=timezone.localdate(),
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(
                request, "The death was recorded and a serious adverse event report opened for review."
            )
            return redirect("outcomes:safety")
    return render(request, "outcomes/death.jinja", {"participant": participant, "form": form})


@requires(Capability.REPORT_SAFETY)
@require_http_methods(["GET", "POST"])
def sae_new(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    form = SaeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sae = SeriousAdverseEvent(
            participant=participant, reported_on=timezone.localdate(), **form.cleaned_data
        )
        try:
            report_sae(actor, protocol(), sae, by=staff_user(request))
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The serious adverse event was reported.")
            return redirect("outcomes:safety")
    return render(request, "outcomes/sae_new.jinja", {"participant": participant, "form": form})


@requires(Capability.VIEW_SAFETY)
def safety(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    sites = list(sites_for(actor))
    asked = request.GET
    # Only a listed value filters: anything else never reaches the database.
    filters = SafetyFilters(
        category=_listed(asked.get("category", ""), SaeCategory.values),
        seriousness=_listed(asked.get("seriousness", ""), Seriousness.values),
        site=_listed(asked.get("site", ""), [s.code for s in sites]),
        review=_listed(asked.get("review", ""), ["awaiting", "signed_off"]),
        susar=asked.get("susar") == "yes",
    )
    # Unless a column is asked for, the listing's own order: the events awaiting review due soonest first.
    asked_column = asked.get("sort", "").removeprefix("-") in SAE_COLUMNS
    order, sort = sort_order(request, SAE_COLUMNS, default="onset") if asked_column else ((), "")
    listing = safety_listing(
        actor,
        filters,
        review_days=trial.safety.review_days,
        today=timezone.localdate(),
        order=order,
        arm_codes=trial.arm_codes,
        page=request.GET.get("page"),
    )
    return render(
        request,
        "outcomes/safety.jinja",
        {
            "listing": listing,
            "filters": filters,
            "sites": sites,
            "categories": SaeCategory.choices,
            "seriousnesses": Seriousness.choices,
            "review_days": trial.safety.review_days,
            "page": listing.page,
            "sort": sort,
            "arm_names": {a.code: a.name for a in trial.arms} if listing.arms else {},
            "can_review": actor.can(Capability.REVIEW_SAE),
            "unlock": unlock_state(actor, staff_user(request)),
        },
    )


# The safety list's columns that order it (name -> field); never the arm.
SAE_COLUMNS = {
    "event": "pk",
    "trial_id": "participant__trial_id",
    "onset": "onset",
    "reported": "reported_on",
}


def _listed(value: str, allowed: list[str]) -> str:
    return value if value in allowed else ""


@requires(Capability.REVIEW_SAE)
@require_http_methods(["GET", "POST"])
def sae_review(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting(request)
    sae = sae_scope(actor).filter(pk=pk).first()
    if sae is None:
        raise Http404("no such event")
    form = SaeReviewForm(
        request.POST or None, initial={"relatedness": sae.relatedness, "expectedness": sae.expectedness}
    )
    if request.method == "POST" and form.is_valid() and sae.signed_off_on is None:
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            sign_off_sae(
                actor, protocol(), sae, data, by=staff_user(request), on=timezone.localdate(), reason=reason
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The event was signed off.")
            return redirect("outcomes:safety")
    return render(request, "outcomes/sae_review.jinja", {"sae": sae, "form": form})

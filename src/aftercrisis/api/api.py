"""The REST API under /api/v1/: thin handlers that parse, call the same services and selectors as the
pages, and answer in typed schemas. Who may do what is `accounts.policy`, as everywhere."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema
from ninja import Status as WithStatus
from ninja.errors import Throttled
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.params import functions as param
from ninja.security import HttpBearer, SessionAuth

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.accounts.selectors import sites_for
from aftercrisis.api import problems
from aftercrisis.api.models import ApiToken, IdempotentRandomisation
from aftercrisis.api.tokens import authenticate, seconds_until_allowed
from aftercrisis.config.trial import protocol
from aftercrisis.followup.selectors import responses_by_visit, schedule_of, worklist
from aftercrisis.intervention.selectors import sessions_of
from aftercrisis.outcomes.forms import DeathForm, SaeForm
from aftercrisis.outcomes.models import (
    EpisodeSource,
    Expectedness,
    Relatedness,
    SaeCategory,
    SeriousAdverseEvent,
    Seriousness,
)
from aftercrisis.outcomes.selectors import sae_scope
from aftercrisis.outcomes.services import EpisodeDraft, record_death, record_episodes, report_sae
from aftercrisis.participants.models import CauseOfDeath, Death, Participant, Status
from aftercrisis.participants.selectors import participant_for, participant_record, participants_for
from aftercrisis.participants.services import register_participant
from aftercrisis.participants.trial_id import PATTERN as TRIAL_ID
from aftercrisis.participants.withdrawals import withdrawals_for
from aftercrisis.randomisation.selectors import allocation_for, sees_every_arm
from aftercrisis.randomisation.services import randomise as take_allocation
from aftercrisis.recruitment.forms import ReferralForm
from aftercrisis.reporting.reports import snapshots_for


class BearerToken(HttpBearer):
    """A personal API token, limited in rate; the request then acts as the token's role."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        found = authenticate(token)
        if found is None:
            return None
        api_token, actor = found
        wait = seconds_until_allowed(api_token)
        if wait:
            raise Throttled(wait)
        request.api_token = api_token  # type: ignore[attr-defined]  # named in the audit trail
        return actor


class StaffSession(SessionAuth):
    """The browser's session, in the role chosen on signing in (with the CSRF check for writes)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        if "Authorization" in request.headers:  # a request that sends a token is judged by its token
            return None
        return getattr(request, "actor", None)


def _staff_only(view: Any) -> Any:
    """The interactive documentation is for signed-in staff acting in a role; the schema also for a token."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        by_token = scheme.lower() == "bearer" and authenticate(secret.strip()) is not None
        if getattr(request, "actor", None) is None and not by_token:
            return redirect("accounts:login")
        response: HttpResponse = view(request, *args, **kwargs)
        return response

    return wrapped


class TrialApi(NinjaAPI):
    """Every operation documents the problem details it may answer with."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = problems.SCHEMA
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["responses"].update(problems.RESPONSES)
        return schema


api = TrialApi(
    title="aftercrisis",
    version="1",
    description="The trial's data with the same rules as its pages. Errors are RFC 9457 problem details.",
    urls_namespace="api",
    auth=[BearerToken(), StaffSession()],
    docs_decorator=_staff_only,
)
problems.install(api)


class Pages(LimitOffsetPagination):
    """Up to 500 rows a page; an offset past any trial's size is refused rather than sent to the database."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=500)
        offset: int = Field(0, ge=0, le=10**9)


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return User.objects.get(pk=_actor(request).user_id)


def _needs(request: HttpRequest, capability: Capability) -> Actor:
    actor = _actor(request)
    if not actor.can(capability):
        raise PermissionDenied
    return actor


def _checked(actor: Actor, trial_id: str, form: Form) -> Participant:
    """The participant a write names, with the page's form checked: every problem at once, and a participant
    outside the role's scope refused as one that does not exist."""
    problems_found = {} if form.is_valid() else {field: list(errors) for field, errors in form.errors.items()}
    found = participants_for(actor).filter(trial_id=trial_id).first()
    if found is not None and not problems_found:
        return found
    if found is None:
        problems_found["trial_id"] = [f"There is no participant {trial_id}"]
    raise ValidationError(problems_found)


# Participants: pseudonymous, never their identity.


class ParticipantOut(Schema):
    trial_id: str
    site: str = Field(..., alias="site.code")
    status: str
    referred_on: dt.date
    age_at_entry: int | None
    sex: str


class ParticipantFilters(Schema):
    site: str | None = Field(None, max_length=4, description="a site code")
    status: Status | None = None


@api.get("/participants", response=list[ParticipantOut], tags=["participants"])
@paginate(Pages)
def list_participants(request: HttpRequest, filters: Query[ParticipantFilters]) -> Any:
    """The participants in the role's scope, in trial ID order."""
    rows = participants_for(_needs(request, Capability.VIEW_PARTICIPANTS)).order_by("trial_id")
    if filters.site:
        rows = rows.filter(site__code=filters.site)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return rows


class ParticipantDetail(ParticipantOut):
    randomised_on: dt.date | None
    acute_episodes: int = Field(..., alias="episode_count")
    serious_adverse_events: int = Field(..., alias="sae_count")
    died_on: dt.date | None


@api.get("/participants/{trial_id}", response=ParticipantDetail, tags=["participants"])
def participant(request: HttpRequest, trial_id: str) -> Any:
    """One participant; outside the role's scope there is no such participant."""
    found = participant_record(_needs(request, Capability.VIEW_PARTICIPANTS), trial_id)
    found.died_on = found.death.died_on if hasattr(found, "death") else None  # type: ignore[attr-defined]
    return found


class FormOut(Schema):
    instrument: str
    state: str


class VisitOut(Schema):
    visit: str
    opens: dt.date | None
    due: dt.date | None
    closes: dt.date | None
    outcome: str
    forms: list[FormOut]


@api.get("/participants/{trial_id}/visits", response=list[VisitOut], tags=["follow-up"])
def visits(request: HttpRequest, trial_id: str) -> Any:
    """Each visit of the protocol, baseline first, with its window and the state of each questionnaire."""
    actor = _needs(request, Capability.VIEW_PARTICIPANTS)
    found = participant_record(actor, trial_id)
    schedule = schedule_of(
        protocol(),
        found,
        timezone.localdate(),
        randomised_on=found.randomised_on,
        withdrawals=withdrawals_for(actor, found),
    )
    return [
        {
            "visit": v.code,
            "opens": v.window.opens if v.window else None,
            "due": v.window.due if v.window else None,
            "closes": v.window.closes if v.window else None,
            "outcome": v.outcome,
            "forms": [{"instrument": f.instrument, "state": f.state.value} for f in v.forms],
        }
        for v in schedule
    ]


class ResponseOut(Schema):
    instrument: str
    instrument_version: str
    completed_on: dt.date
    method: str
    answers: dict[str, int | None] = Field(..., description="item code: the value given, null if none")
    total: float | None = Field(..., description="null when too many items were left unanswered to score")
    prorated: bool


class VisitResponsesOut(Schema):
    visit: str
    responses: list[ResponseOut]


@api.get("/participants/{trial_id}/questionnaires", response=list[VisitResponsesOut], tags=["follow-up"])
def questionnaires(request: HttpRequest, trial_id: str) -> Any:
    """Each visit of the protocol, baseline first, with the questionnaires returned at it: each item's value
    and the total, as scored when they were entered."""
    found = participant_for(_needs(request, Capability.VIEW_PARTICIPANTS), trial_id)
    return [
        {"visit": visit, "responses": responses} for visit, responses in responses_by_visit(protocol(), found)
    ]


class DueOut(Schema):
    trial_id: str
    site: str
    visit: str
    opens: dt.date
    due: dt.date
    closes: dt.date
    state: str


@api.get("/worklist", response=list[DueOut], tags=["follow-up"])
def due_visits(request: HttpRequest, visit: str | None = param.Query(None, max_length=20)) -> Any:
    """Visits due, closing or overdue with nothing recorded, most urgent first (a researcher's worklist)."""
    entries = worklist(_needs(request, Capability.VIEW_WORKLIST), protocol(), timezone.localdate())
    return [
        {
            "trial_id": e.participant.trial_id,
            "site": e.participant.site.code,
            "visit": e.window.code,
            "opens": e.window.opens,
            "due": e.window.due,
            "closes": e.window.closes,
            "state": e.state.value,
        }
        for e in entries
        if visit is None or e.window.code == visit
    ]


# Referral and randomisation.


class ReferralIn(Schema):
    site: str = Field(..., max_length=4, description="the site code")
    given_name: str
    family_name: str
    nhs_number: str
    date_of_birth: dt.date
    referred_on: dt.date
    phone: str = ""
    email: str = ""
    address: str = ""
    postcode: str = ""


class ReferralOut(Schema):
    trial_id: str


@api.post("/referrals", response={201: ReferralOut}, tags=["recruitment"])
def refer(request: HttpRequest, payload: ReferralIn) -> Any:
    """Refer someone leaving the crisis team: the referral form's own checks, then the same service."""
    actor = _needs(request, Capability.REFER)
    sites = sites_for(actor)
    data = payload.dict()
    data["site"] = sites.filter(code=payload.site).values_list("pk", flat=True).first() or ""
    form = ReferralForm(data, sites=sites)
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    fields = (
        "given_name",
        "family_name",
        "nhs_number",
        "date_of_birth",
        "phone",
        "email",
        "address",
        "postcode",
    )
    cleaned = form.cleaned_data
    participant = register_participant(
        site=cleaned["site"],
        referred_on=cleaned["referred_on"],
        by=_user(request),
        identity={k: cleaned[k] for k in fields},
    )
    return WithStatus(201, {"trial_id": participant.trial_id})


class AllocationOut(Schema):
    trial_id: str
    arm: str
    randomised_on: dt.date
    created: bool = Field(False, description="false when the participant already had this allocation")


@api.post(
    "/participants/{trial_id}/randomise", response={200: AllocationOut, 201: AllocationOut},
    tags=["randomisation"],
)  # fmt: skip
def randomise(
    request: HttpRequest,
    trial_id: str,
    idempotency_key: str = param.Header(..., alias="Idempotency-Key", min_length=1, max_length=255),
) -> Any:
    """Randomise the participant, once. The same Idempotency-Key from the same token always answers with
    the same allocation; a key already used for another participant is refused."""
    actor = _needs(request, Capability.RANDOMISE)
    found = participant_for(actor, trial_id)
    token: ApiToken | None = getattr(request, "api_token", None)
    if token is not None:
        with transaction.atomic():
            try:
                used, _ = IdempotentRandomisation.objects.get_or_create(
                    token=token, key=idempotency_key, defaults={"participant": found}
                )
            except IntegrityError:  # the same key, sent at the same moment, was stored first
                used = IdempotentRandomisation.objects.get(token=token, key=idempotency_key)
        if used.participant_id != found.pk:
            raise ValidationError({"Idempotency-Key": "This key was already used to randomise someone else"})
    done = take_allocation(actor, found, protocol(), by=_user(request))
    arm, allocation = allocation_for(actor, found) or (None, None)
    if arm is None or allocation is None:
        raise PermissionDenied
    body = {
        "trial_id": found.trial_id,
        "arm": arm,
        "randomised_on": allocation.randomised_on,
        "created": done.created,
    }
    return WithStatus(201 if done.created else 200, body)


@api.get("/participants/{trial_id}/allocation", response=AllocationOut, tags=["randomisation"])
def allocation(request: HttpRequest, trial_id: str) -> Any:
    """The participant's allocation, only for roles that may know the arm: to others it is not found,
    exactly as for a participant not yet randomised."""
    actor = _needs(request, Capability.VIEW_PARTICIPANTS)
    found = participant_for(actor, trial_id)
    visible = allocation_for(actor, found)
    if visible is None:
        raise Http404("no allocation")
    arm, allocated = visible
    return {"trial_id": found.trial_id, "arm": arm, "randomised_on": allocated.randomised_on}


# Peer support: sessions reveal the arm.


class SessionOut(Schema):
    number: int | None = Field(..., description="held sessions only, counted from 1")
    on: dt.date
    outcome: str
    duration_minutes: int | None


@api.get("/participants/{trial_id}/sessions", response=list[SessionOut], tags=["peer support"])
def peer_support_sessions(request: HttpRequest, trial_id: str) -> Any:
    """The participant's peer support sessions in date order, held or not, as the participant's page and the
    peer support worker's caseload show them: only to a role that may know the participant is in the peer
    support arm. To others, and for any other arm, there are none: not found, as for no such participant."""
    actor = _actor(request)
    if not (actor.can(Capability.VIEW_PARTICIPANTS) or actor.can(Capability.RECORD_SESSIONS)):
        raise PermissionDenied
    found = participant_for(actor, trial_id)
    arm, _ = allocation_for(actor, found) or (None, None)
    if arm != protocol().intervention.arm:
        raise Http404("no peer support sessions")
    return sessions_of(found)


# Outcomes.


class EpisodeIn(Schema):
    trial_id: str
    setting: str = Field(..., description="a setting code of the protocol")
    start: dt.date
    end: dt.date | None = None
    admission_type: str = Field("", pattern="^(|informal|detained)$")
    source_reference: str = Field("", max_length=200)


class EpisodesIn(Schema):
    episodes: list[EpisodeIn] = Field(..., min_length=1, max_length=1000)


class RecordedOut(Schema):
    recorded: int


@api.post("/episodes", response={201: RecordedOut}, tags=["outcomes"])
def post_episodes(request: HttpRequest, payload: EpisodesIn) -> Any:
    """Record acute-care episodes, all or none, through the service the import uses; each problem names
    its row (counted from 1) and field."""
    actor = _needs(request, Capability.RECORD_EPISODES)
    known = {
        p.trial_id: p
        for p in participants_for(actor).filter(trial_id__in={e.trial_id for e in payload.episodes})
    }
    problems_found, drafts = [], []
    for row, episode in enumerate(payload.episodes, start=1):
        where = f"row {row}"
        person = known.get(episode.trial_id)
        if person is None:
            problems_found.append(f"{where}: trial_id: there is no participant {episode.trial_id!r}")
            continue
        drafts.append(
            EpisodeDraft(
                participant=person,
                setting=episode.setting,
                start=episode.start,
                end=episode.end,
                admission_type=episode.admission_type,
                source=EpisodeSource.IMPORT if episode.source_reference else EpisodeSource.CLINICAL_RECORDS,
                source_reference=episode.source_reference,
                where=where,
            )
        )
    recorded = record_episodes(
        actor,
        protocol(),
        drafts,
        by=_user(request),
        today=timezone.localdate(),
        known_problems=problems_found,
    )
    return WithStatus(201, {"recorded": len(recorded)})


class SaeOut(Schema):
    id: int
    trial_id: str = Field(..., alias="participant.trial_id")
    site: str = Field(..., alias="participant.site.code")
    category: str
    onset: dt.date
    seriousness: str
    reported_on: dt.date
    signed_off_on: dt.date | None


@api.get("/serious-adverse-events", response=list[SaeOut], tags=["safety"])
@paginate(Pages)
def serious_adverse_events(request: HttpRequest) -> Any:
    """Serious adverse events in the role's scope, pooled, in order of onset."""
    return sae_scope(_needs(request, Capability.VIEW_SAFETY)).order_by("onset", "pk")


class SaeIn(Schema):
    trial_id: str = Field(..., max_length=16, pattern=TRIAL_ID.pattern)
    category: SaeCategory
    onset: dt.date
    description: str = Field(..., description="what happened")
    seriousness: Seriousness
    relatedness: Relatedness = Field(..., description="relation to taking part in the trial")
    expectedness: Expectedness


@api.post("/serious-adverse-events", response={201: SaeOut}, tags=["safety"])
def report_serious_adverse_event(request: HttpRequest, payload: SaeIn) -> Any:
    """Report a serious adverse event, reported today: the reporting form's own checks, then the same
    service, which tells the chief investigators and the sponsor of one related and unexpected (a SUSAR)."""
    actor = _needs(request, Capability.REPORT_SAFETY)
    form = SaeForm(payload.dict(exclude={"trial_id"}))
    found = _checked(actor, payload.trial_id, form)
    sae = SeriousAdverseEvent(participant=found, reported_on=timezone.localdate(), **form.cleaned_data)
    return WithStatus(201, report_sae(actor, protocol(), sae, by=_user(request)))


class DeathOut(Schema):
    trial_id: str = Field(..., alias="participant.trial_id")
    died_on: dt.date


@api.get("/deaths", response=list[DeathOut], tags=["safety"])
@paginate(Pages)
def deaths(request: HttpRequest) -> Any:
    """Deaths of participants in the role's scope, in trial ID order."""
    scope = participants_for(_needs(request, Capability.VIEW_PARTICIPANTS))
    return (
        Death.objects.filter(participant__in=scope)
        .select_related("participant")
        .order_by("participant__trial_id")
    )


class DeathIn(Schema):
    trial_id: str = Field(..., max_length=16, pattern=TRIAL_ID.pattern)
    died_on: dt.date
    cause: CauseOfDeath


@api.post("/deaths", response={201: DeathOut}, tags=["safety"])
def report_death(request: HttpRequest, payload: DeathIn) -> Any:
    """Record a participant's death: the death form's own checks, then the same service, which opens its
    serious adverse event report for the chief investigator's review."""
    actor = _needs(request, Capability.REPORT_SAFETY)
    form = DeathForm(payload.dict(exclude={"trial_id"}))
    found = _checked(actor, payload.trial_id, form)
    death = record_death(actor, found, **form.cleaned_data, by=_user(request), today=timezone.localdate())
    return WithStatus(201, death)


# Reports.


class SnapshotOut(Schema):
    id: int
    produced_at: dt.datetime
    blinded: bool
    database_locked: bool
    participants: int
    dataset_sha256: str
    protocol_version: str


@api.get("/report-snapshots", response=list[SnapshotOut], tags=["reports"])
@paginate(Pages)
def report_snapshots(request: HttpRequest) -> Any:
    """The trial reports produced so far that the role may open, newest first."""
    return snapshots_for(_needs(request, Capability.PRODUCE_REPORT)).defer("html", "results")


DATASET_FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def _analysis_dataset(request: HttpRequest, kind: str) -> HttpResponse:
    """The dataset holds the arm: only for roles that see every arm."""
    actor = _needs(request, Capability.PRODUCE_REPORT)
    if not sees_every_arm(actor):
        raise PermissionDenied
    from aftercrisis.reporting.dataset import analysis_dataset

    today = timezone.localdate()
    frame = analysis_dataset(protocol(), today)
    body = frame.to_csv(index=False) if kind == "csv" else frame.to_parquet(index=False)
    response = HttpResponse(body, content_type=DATASET_FORMATS[kind])
    response["Content-Disposition"] = f'attachment; filename="analysis-dataset-{today:%Y%m%d}.{kind}"'
    return response


def _download(kind: str, schema: dict[str, str]) -> dict[str, Any]:
    return {"responses": {200: {"content": {DATASET_FORMATS[kind]: {"schema": schema}}}}}


@api.get("/analysis-dataset.csv", openapi_extra=_download("csv", {"type": "string"}), tags=["reports"])
def analysis_dataset_csv(request: HttpRequest) -> Any:
    """The analysis dataset as CSV, one row per participant: it holds the arm, so only for roles that see
    every arm (the statistician once the database is locked)."""
    return _analysis_dataset(request, "csv")


@api.get(
    "/analysis-dataset.parquet",
    openapi_extra=_download("parquet", {"type": "string", "format": "binary"}),
    tags=["reports"],
)
def analysis_dataset_parquet(request: HttpRequest) -> Any:
    """The same dataset as Parquet, with its columns' types, for the same roles."""
    return _analysis_dataset(request, "parquet")


# Standard exports.

FHIR_JSON = "application/fhir+json"


@api.get(
    "/fhir/Bundle",
    openapi_extra={"responses": {200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}}},
    tags=["exports"],
)
def fhir_bundle(request: HttpRequest) -> Any:
    """The trial as one FHIR R4 Bundle (type collection) of what the role may see, as `aftercrisis export-fhir`
    writes it: for the roles that open participants' records or download every form's data. No arm for a
    masked role, no Patient for a role without identity."""
    from aftercrisis.exchange.fhir import trial_bundle

    return HttpResponse(trial_bundle(_actor(request), protocol()).model_dump_json(), content_type=FHIR_JSON)

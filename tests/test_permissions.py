"""Every route of the project against every role: allowed, forbidden, not found, or sent elsewhere.

A route that is not in MATRIX fails `test_every_route_is_in_the_matrix`, so each new page
must say here who may open it.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import Status

pytestmark = pytest.mark.django_db

OK, LOGIN, FORBIDDEN, NOT_FOUND, ELSEWHERE, NOT_ALLOWED = (
    "ok",
    "login",
    "forbidden",
    "not found",
    "elsewhere",
    "405",
)
ROLES = [
    None,
    Role.TRIAL_MANAGER,
    Role.RESEARCHER,
    Role.PEER_SUPPORT_WORKER,
    Role.STATISTICIAN,
    Role.REFERRER,
    Role.CHIEF_INVESTIGATOR,
    Role.RANDOMISATION_STATISTICIAN,
]


def row(anonymous, manager, researcher, psw, statistician, referrer, chief, lists=FORBIDDEN):
    """`lists` is the randomisation statistician, who holds the allocation lists and may open nothing
    else of the trial: forbidden unless the row says otherwise."""
    outcomes = [anonymous, manager, researcher, psw, statistician, referrer, chief, lists]
    return dict(zip(ROLES, outcomes, strict=True))


# GET outcome for each role; None is a visitor who has not signed in.
#                                    anonymous  manager    researcher psw        statistician referrer  chief investigator
MATRIX = {
    "home":                      row(LOGIN,     ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, lists=ELSEWHERE),
    "favicon":                   row(ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, lists=ELSEWHERE),
    "healthz":                   row(OK,        OK,        OK,        OK,        OK,        OK,        OK, lists=OK),
    "accounts:login":            row(OK,        ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, lists=ELSEWHERE),
    "accounts:logout":           row(LOGIN,     OK,        OK,        OK,        OK,        OK, OK, lists=OK),
    "accounts:choose_role":      row(LOGIN,     OK,        OK,        OK,        OK,        OK, OK, lists=OK),
    "accounts:two_factor":       row(LOGIN,     OK,        OK,        OK,        OK,        OK, OK, lists=OK),
    "sites":                     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    # A sign-in link opens for anyone; a wrong or spent one says it cannot be used.
    "accounts:set_password":     row(OK,        OK,        OK,        OK,        OK,        OK,        OK, lists=OK),
    "accounts:staff_new":        row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "accounts:staff_member":     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "accounts:duty_contact":     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:list":         row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:audit":        row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:detail":       row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:edit":         row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:edit_identity": row(LOGIN,    OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:history":      row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:randomise":    row(LOGIN,     NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:by_site":       row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:referrals":     row(LOGIN,     FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, OK, FORBIDDEN),
    "recruitment:screening_log": row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:screen":        row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:consent":       row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:decline":       row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:withdraw":      row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "randomisation:backup":      row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "randomisation:correct":     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "randomisation:lists":       row(LOGIN,     FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, lists=OK),
    "randomisation:export_list": row(LOGIN,     FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, lists=OK),
    "randomisation:unblinding":  row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "randomisation:my_unblinding": row(LOGIN,   FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN),
    "randomisation:unblinding_request": row(LOGIN, FORBIDDEN, OK,     FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN),
    "followup:worklist":         row(LOGIN,     FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "intervention:caseload":     row(LOGIN,     FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "intervention:participant":  row(LOGIN,     FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "intervention:new_session":  row(LOGIN,     FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "intervention:new_contact_attempt": row(LOGIN, FORBIDDEN, FORBIDDEN, OK,     FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:dispatch":     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:queue_post":   row(LOGIN,     NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:print_batch":  row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:posted":       row(LOGIN,     NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:participant_dispatch": row(LOGIN, OK,    FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:supervision":  row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:fidelity":     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:fidelity_csv": row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:risk_concerns": row(LOGIN,    OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "peer_support:acknowledge_risk": row(LOGIN, NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "workbook:blank_pdf":        row(LOGIN,     OK,        FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "workbook:participant_pdf":  row(LOGIN,     OK,        FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "workbook:issue_link":       row(LOGIN,     OK,        FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    # A participant's own workbook opens only in a session started by a link and its code.
    "workbook:open":             row(OK,        OK,        OK,        OK,        OK,        OK,        OK, lists=OK),
    "workbook:mine":             row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, lists=FORBIDDEN),
    "workbook:section":          row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "workbook:my_pdf":           row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "reporting:index":           row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:export":          row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:lock":            row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "reporting:lock_outcomes":   row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "reporting:lock_visits":     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "reporting:unlock_request":  row(LOGIN,     NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_ALLOWED),
    "reporting:unlock_decision": row(LOGIN,     NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_ALLOWED),
    "queries:list":              row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "queries:detail":            row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "queries:new":               row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "queries:run":               row(LOGIN,     NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "reporting:trial_report":    row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:snapshot":        row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:form_exports":    row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:form_bundle":     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:form_csv":        row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:analysis_dataset": row(LOGIN,    OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "followup:visit":            row(LOGIN,     FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "followup:questionnaire":    row(LOGIN,     FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "followup:my_questionnaires": row(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "followup:open_questionnaires": row(OK,     OK,        OK,        OK,        OK,        OK,        OK, lists=OK),
    "outcomes:episodes":         row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "outcomes:episode_list":     row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "outcomes:import":           row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "outcomes:reconcile":        row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "outcomes:death":            row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "outcomes:sae_new":          row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "outcomes:safety":           row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "outcomes:sae_review":       row(LOGIN,     FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "economics:resource_use":    row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "api_tokens:list":           row(LOGIN,     OK,        OK,        OK,        OK,        OK,        OK, lists=OK),
    "api_tokens:revoke":         row(LOGIN,     NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, lists=NOT_ALLOWED),
}  # fmt: skip
# The API's routes have their own matrix, by method and token, in tests/api/test_api_permissions.py.
API_NAMESPACE = "api:"


def _routes(patterns=None, namespace: str = "", prefix: str = "") -> dict[str, str]:
    """Every route of the URL configuration: name -> pattern. Unnamed routes are listed by pattern."""
    found: dict[str, str] = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.update(_routes(entry.url_patterns, inner, prefix + str(entry.pattern)))
        elif isinstance(entry, URLPattern):
            key = f"{namespace}{entry.name}" if entry.name else f"unnamed route {prefix}{entry.pattern}"
            found[key] = prefix + str(entry.pattern)
    return found


def test_every_route_is_in_the_matrix():
    routes = {name: route for name, route in _routes().items() if not name.startswith(API_NAMESPACE)}
    assert set(routes) - set(MATRIX) == set(), "routes missing from the permission matrix"
    assert set(MATRIX) - set(routes) == set(), "matrix rows for routes that no longer exist"


def test_an_unlisted_route_would_be_caught():
    assert "an:extra_route" not in MATRIX and "followup:worklist" in _routes()


@pytest.fixture
def sample(supported):
    """A CAM participant in the peer support arm, on the CAM peer support worker's caseload."""
    return supported()


def _blinded_snapshot(staff):
    from aftercrisis.reporting.models import ReportSnapshot

    return ReportSnapshot.objects.create(
        produced_by=staff[Role.STATISTICIAN], blinded=True, database_locked=False, dataset_sha256="0" * 64,
        protocol_version="1.0", software_version="test", participants=0, html="<p>A vs B</p>", results={},
    )  # fmt: skip


def _query(participant, staff):
    """A data query on the participant, as the trial manager raises one (made directly, so that it can be
    made while the database is locked)."""
    from aftercrisis.queries.models import DataQuery, QueryAction, QueryMessage

    manager = staff[Role.TRIAL_MANAGER]
    query, made = DataQuery.objects.get_or_create(
        participant=participant, form="baseline", field="age_at_entry", defaults={"raised_by": manager}
    )
    if made:
        QueryMessage.objects.create(query=query, action=QueryAction.RAISED, text="Check the age", by=manager)
    return query


def _outcome(response) -> str:
    if response.status_code == 200:
        return OK
    if response.status_code == 302:
        return LOGIN if reverse("accounts:login") in response["Location"] else ELSEWHERE
    return {403: FORBIDDEN, 404: NOT_FOUND, 405: NOT_ALLOWED}.get(
        response.status_code, str(response.status_code)
    )


def _followup_kwargs(name, pattern, sample, staff) -> dict:
    """A visit, an instrument, a link token and a serious adverse event, for the routes that take them."""
    kwargs: dict = {}
    if name.startswith("followup:"):
        values = {"visit": "m4", "instrument": "qpr15", "token": "x" * 43}
        kwargs.update({k: v for k, v in values.items() if f"<str:{k}>" in pattern})
    if name.startswith("outcomes:") and "<int:pk>" in pattern:
        from aftercrisis.outcomes.models import SeriousAdverseEvent

        sae = SeriousAdverseEvent.objects.create(
            participant=sample,
            category="self_harm",
            onset=sample.referred_on,
            description="example",
            seriousness="hospitalisation",
            relatedness="not_related",
            expectedness="expected",
            reported_by=staff[Role.RESEARCHER],
            reported_on=sample.referred_on,
        )
        kwargs["pk"] = sae.pk
    return kwargs


def url_of(name: str, sample, staff) -> str:
    """The route's URL, its arguments filled from `sample` (a participant on the peer support
    worker's caseload) and records made for it; `staff` maps each role to a member of staff."""
    kwargs = {"trial_id": sample.trial_id} if "<str:trial_id>" in _routes()[name] else {}
    kwargs.update(_followup_kwargs(name, _routes()[name], sample, staff))
    if name == "queries:detail":
        kwargs["pk"] = _query(sample, staff).pk
    if name == "reporting:snapshot":
        kwargs.update(pk=_blinded_snapshot(staff).pk, kind="html")
    if name == "reporting:form_csv":
        kwargs["form"] = "participants"
    if name == "accounts:set_password":
        kwargs.update(uidb64="MQ", token="not-a-token")
    if name == "accounts:staff_member":
        kwargs["pk"] = staff[Role.REFERRER].pk
    if name == "accounts:duty_contact":
        kwargs["code"] = sample.site.code
    if name in ("peer_support:acknowledge_risk", "api_tokens:revoke"):
        kwargs["pk"] = 1
    kwargs.update(
        {
            k: v
            for k, v in {"token": "x" * 43, "section": "goals"}.items()
            if name.startswith("workbook:") and f"<str:{k}>" in _routes()[name]
        }
    )
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_route_outcome_for_every_role(client, staff, sample, name):
    url = url_of(name, sample, staff)
    seen = {}
    for role in ROLES:
        client.logout()
        if role is not None:
            client.force_login(staff[role])
        seen[role] = _outcome(client.get(url))
    assert seen == MATRIX[name]


@pytest.mark.parametrize(
    "name", ["participants:detail", "participants:edit", "participants:edit_identity", "participants:history"]
)
def test_participants_outside_the_actors_sites_do_not_exist(client, staff, make_participant, name):
    elsewhere = make_participant("BRI")
    client.force_login(staff[Role.RESEARCHER])  # works at CAM only
    expected = 403 if name == "participants:history" else 404
    assert client.get(reverse(name, kwargs={"trial_id": elsewhere.trial_id})).status_code == expected


def test_only_the_manager_can_post_a_randomisation(client, staff, allocation_lists, make_participant):
    participant = make_participant("CAM", Status.CONSENTED)
    url = reverse("participants:randomise", kwargs={"trial_id": participant.trial_id})
    for role in [Role.RESEARCHER, Role.STATISTICIAN, Role.PEER_SUPPORT_WORKER, Role.REFERRER]:
        client.force_login(staff[role])
        assert client.post(url).status_code == 403
    participant.refresh_from_db()
    assert participant.status == Status.CONSENTED
    client.force_login(staff[Role.TRIAL_MANAGER])
    assert client.post(url).status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.RANDOMISED

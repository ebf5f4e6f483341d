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
]


def row(anonymous, manager, researcher, psw, statistician, referrer):
    return dict(zip(ROLES, [anonymous, manager, researcher, psw, statistician, referrer], strict=True))


# GET outcome for each role; None is a visitor who has not signed in.
#                                    anonymous  manager    researcher psw        statistician referrer
MATRIX = {
    "home":                      row(LOGIN,     ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE),
    "favicon":                   row(ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE),
    "accounts:login":            row(OK,        ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE, ELSEWHERE),
    "accounts:logout":           row(LOGIN,     OK,        OK,        OK,        OK,        OK),
    "accounts:choose_role":      row(LOGIN,     OK,        OK,        OK,        OK,        OK),
    "accounts:two_factor":       row(LOGIN,     OK,        OK,        OK,        OK,        OK),
    "sites":                     row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:list":         row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:detail":       row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:edit":         row(LOGIN,     OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:edit_identity": row(LOGIN,    OK,        OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:history":      row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "participants:randomise":    row(LOGIN,     NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:by_site":       row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "recruitment:referrals":     row(LOGIN,     FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    "followup:worklist":         row(LOGIN,     FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "intervention:caseload":     row(LOGIN,     FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN),
    "reporting:index":           row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN),
    "reporting:export":          row(LOGIN,     OK,        FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN),
}  # fmt: skip


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
    routes = _routes()
    assert set(routes) - set(MATRIX) == set(), "routes missing from the permission matrix"
    assert set(MATRIX) - set(routes) == set(), "matrix rows for routes that no longer exist"


def test_an_unlisted_route_would_be_caught():
    assert "an:extra_route" not in MATRIX and "followup:worklist" in _routes()


@pytest.fixture
def sample(allocation_lists, make_participant, staff):
    """A CAM participant in the peer support arm, on the CAM peer support worker's caseload."""
    from aftercrisis.intervention.services import assign_to_caseload

    while True:
        participant = make_participant("CAM", Status.RANDOMISED)
        if participant.allocation.arm == "intervention":
            break
    assign_to_caseload(
        participant, staff[Role.PEER_SUPPORT_WORKER], by=staff[Role.TRIAL_MANAGER], on=participant.referred_on
    )
    return participant


def _outcome(response) -> str:
    if response.status_code == 200:
        return OK
    if response.status_code == 302:
        return LOGIN if reverse("accounts:login") in response["Location"] else ELSEWHERE
    return {403: FORBIDDEN, 404: NOT_FOUND, 405: NOT_ALLOWED}.get(
        response.status_code, str(response.status_code)
    )


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_route_outcome_for_every_role(client, staff, sample, name):
    kwargs = {"trial_id": sample.trial_id} if "<str:trial_id>" in _routes()[name] else {}
    url = reverse(name, kwargs=kwargs)
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

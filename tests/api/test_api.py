"""The API through the test client: tokens, problem details, the same scope and masking as the pages,
all-or-nothing writes audited with the token named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from aftercrisis.accounts.roles import Role
from aftercrisis.api.models import ApiToken, IdempotentRandomisation
from aftercrisis.api.tokens import issue_token
from aftercrisis.outcomes.models import AcuteCareEpisode
from aftercrisis.participants.models import Participant, Status
from aftercrisis.randomisation.models import Allocation

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def bearer(staff):
    """The Authorization header of a fresh token for each role's member of staff."""

    def make(role: Role) -> dict[str, str]:
        today = timezone.localdate()
        issued = issue_token(
            staff[role],
            name=f"{role.value} script",
            role=role,
            expires_on=today + dt.timedelta(days=30),
            today=today,
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}

    return make


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert "Traceback" not in response.content.decode()
    return body


def test_only_the_tokens_hash_is_kept_and_it_authenticates_as_its_role(
    client, staff, bearer, make_participant
):
    make_participant("CAM")
    headers = bearer(Role.RESEARCHER)
    secret = headers["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    assert not ApiToken.objects.filter(secret_sha256=secret).exists()
    response = client.get("/api/v1/participants", **headers)
    assert response.status_code == 200
    assert [p["site"] for p in response.json()["items"]] == ["CAM"]


@pytest.mark.parametrize(
    "authorization", ["", "Bearer not-a-token", "Basic dXNlcjpwYXNz"], ids=["none", "unknown", "basic"]
)
def test_without_a_valid_token_the_answer_is_401_problem(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    _is_problem(client.get("/api/v1/participants", **headers), 401)


def test_revoked_expired_and_withdrawn_role_tokens_stop_working(client, staff, bearer):
    for spoil in (
        lambda t: ApiToken.objects.filter(pk=t.pk).update(revoked_at=timezone.now()),
        lambda t: ApiToken.objects.filter(pk=t.pk).update(
            expires_on=timezone.localdate() - dt.timedelta(days=1)
        ),
        lambda t: t.user.role_assignments.all().delete(),
    ):
        headers = bearer(Role.RESEARCHER)
        assert client.get("/api/v1/participants", **headers).status_code == 200
        spoil(ApiToken.objects.latest("pk"))
        _is_problem(client.get("/api/v1/participants", **headers), 401)


def test_a_token_is_limited_in_rate(client, bearer, settings):
    settings.API_RATE_LIMIT = (3, 60)
    cache.clear()
    headers = bearer(Role.RESEARCHER)
    assert [client.get("/api/v1/participants", **headers).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/v1/participants", **headers)
    _is_problem(refused, 429)
    assert 0 < int(refused["Retry-After"]) <= 60
    cache.clear()


def test_out_of_scope_is_the_same_404_as_no_such_participant(client, bearer, make_participant):
    elsewhere = make_participant("BRI")
    headers = bearer(Role.RESEARCHER)  # works at CAM only
    outside = client.get(f"/api/v1/participants/{elsewhere.trial_id}", **headers)
    missing = client.get("/api/v1/participants/CAM-9999", **headers)
    assert _is_problem(outside, 404) == _is_problem(missing, 404)


def test_a_masked_role_never_gets_an_arm(client, bearer, supported):
    participant = supported()
    manager = client.get(
        f"/api/v1/participants/{participant.trial_id}/allocation", **bearer(Role.TRIAL_MANAGER)
    )
    assert manager.json()["arm"] == "intervention"
    researcher = bearer(Role.RESEARCHER)
    masked = client.get(f"/api/v1/participants/{participant.trial_id}/allocation", **researcher)
    never = client.get("/api/v1/participants/CAM-9999/allocation", **researcher)
    assert _is_problem(masked, 404) == _is_problem(never, 404)
    for url in (
        f"/api/v1/participants/{participant.trial_id}",
        f"/api/v1/participants/{participant.trial_id}/visits",
        "/api/v1/participants",
        "/api/v1/worklist",
    ):
        text = client.get(url, **researcher).content.decode()
        assert "intervention" not in text and '"arm"' not in text, url


def test_randomising_with_the_same_key_gives_the_same_allocation_once(
    client, bearer, allocation_lists, make_participant
):
    participant = make_participant("CAM", Status.CONSENTED)
    other = make_participant("CAM", Status.CONSENTED)
    headers = {**bearer(Role.TRIAL_MANAGER), "HTTP_IDEMPOTENCY_KEY": "visit-42"}
    url = f"/api/v1/participants/{participant.trial_id}/randomise"
    first, again = client.post(url, **headers), client.post(url, **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["arm"] == again.json()["arm"] and again.json()["created"] is False
    assert Allocation.objects.filter(participant=participant).count() == 1
    reused = client.post(f"/api/v1/participants/{other.trial_id}/randomise", **headers)
    assert _is_problem(reused, 422)["errors"][0]["field"] == "Idempotency-Key"
    assert not Allocation.objects.filter(participant=other).exists()
    assert IdempotentRandomisation.objects.count() == 1
    history = Allocation.history.get(participant=participant)
    assert history.history_change_reason == "randomised via API token trial_manager script"


def test_a_masked_role_may_not_randomise(client, bearer, allocation_lists, make_participant):
    participant = make_participant("CAM", Status.CONSENTED)
    headers = {**bearer(Role.RESEARCHER), "HTTP_IDEMPOTENCY_KEY": "k"}
    _is_problem(client.post(f"/api/v1/participants/{participant.trial_id}/randomise", **headers), 403)
    assert not Allocation.objects.filter(participant=participant).exists()


def test_randomising_needs_an_idempotency_key(client, bearer, allocation_lists, make_participant):
    participant = make_participant("CAM", Status.CONSENTED)
    body = _is_problem(
        client.post(f"/api/v1/participants/{participant.trial_id}/randomise", **bearer(Role.TRIAL_MANAGER)),
        422,
    )
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]


def _episodes(client, headers, episodes):
    return client.post("/api/v1/episodes", {"episodes": episodes}, content_type="application/json", **headers)


def test_episodes_are_recorded_all_or_none_with_each_row_named(client, bearer, supported):
    participant = supported()
    headers = bearer(Role.RESEARCHER)
    start = (participant.allocation.randomised_on + dt.timedelta(days=20)).isoformat()
    good = {
        "trial_id": participant.trial_id,
        "setting": "inpatient_ward",
        "start": start,
        "source_reference": "ward-1",
    }
    refused = _episodes(
        client,
        headers,
        [good, {**good, "setting": "spa", "source_reference": "ward-2"}, {**good, "trial_id": "BRI-0001"}],
    )
    messages = [e["message"] for e in _is_problem(refused, 422)["errors"]]
    assert any(m.startswith("row 2: setting:") for m in messages) and any(
        m.startswith("row 3: trial_id:") for m in messages
    )
    assert not AcuteCareEpisode.objects.exists()
    assert _episodes(client, headers, [good]).status_code == 201
    episode = AcuteCareEpisode.objects.get()
    assert episode.history.get().history_change_reason == "episode imported via API token researcher script"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"episodes": []}, "episodes"),
        (
            {"episodes": [{"trial_id": "CAM-0001", "setting": "inpatient_ward", "start": "2026-02-30"}]},
            "episodes.0.start",
        ),
        ({"episodes": [{"trial_id": "CAM-0001", "start": "2026-02-03"}]}, "episodes.0.setting"),
        ({}, "episodes"),
    ],
)
def test_malformed_episodes_are_named_and_write_nothing(client, bearer, body, field):
    response = client.post(
        "/api/v1/episodes", body, content_type="application/json", **bearer(Role.RESEARCHER)
    )
    assert field in [e["field"] for e in _is_problem(response, 422)["errors"]]
    assert not AcuteCareEpisode.objects.exists()


def test_a_referral_goes_through_the_referral_forms_checks(client, bearer, sites):
    headers = bearer(Role.REFERRER)  # refers at CAM only
    referral = {
        "site": "CAM",
        "given_name": "Jo",
        "family_name": "Bloggs",
        "nhs_number": "943 476 5919",
        "date_of_birth": "1980-03-31",
        "referred_on": timezone.localdate().isoformat(),
    }
    made = client.post("/api/v1/referrals", referral, content_type="application/json", **headers)
    assert made.status_code == 201
    assert Participant.objects.get(trial_id=made.json()["trial_id"]).identity.nhs_number == "9434765919"
    count = Participant.objects.count()
    for change, field in [
        ({"nhs_number": "123"}, "nhs_number"),
        ({"site": "BRI"}, "site"),
        ({"nhs_number": "943 476 5919"}, "nhs_number"),
        ({"date_of_birth": "1980-02-30"}, "date_of_birth"),
    ]:
        refused = client.post(
            "/api/v1/referrals", {**referral, **change}, content_type="application/json", **headers
        )
        assert field in [e["field"] for e in _is_problem(refused, 422)["errors"]], change
    assert Participant.objects.count() == count


def test_the_analysis_dataset_is_only_for_those_who_see_every_arm(client, bearer, supported):
    supported()
    dataset = client.get("/api/v1/analysis-dataset.csv", **bearer(Role.TRIAL_MANAGER))
    assert dataset.status_code == 200 and dataset["Content-Type"] == "text/csv"
    _is_problem(
        client.get("/api/v1/analysis-dataset.csv", **bearer(Role.STATISTICIAN)), 403
    )  # blinded until lock


def test_unknown_addresses_and_methods_are_problems_too(client, bearer):
    headers = bearer(Role.RESEARCHER)
    _is_problem(client.get("/api/v1/nowhere", **headers), 404)
    refused = _is_problem(client.delete("/api/v1/participants", **headers), 405)
    assert "GET" in refused["detail"]


@pytest.mark.parametrize(
    "url, body, field",
    [
        ("/api/v1/participants/CAM%00/questionnaires", None, "trial_id"),
        ("/api/v1/participants?site=C%00", None, "site"),
        ("/api/v1/episodes", {"episodes": [{"trial_id": "CAM\x00", "setting": "x", "start": "2026-02-02"}]},
         "episodes.0.trial_id"),
    ],
)  # fmt: skip
def test_a_nul_character_is_refused_by_name_before_it_reaches_the_database(client, bearer, url, body, field):
    """PostgreSQL refuses a NUL in any text: sent on, it would be a server error rather than bad input."""
    headers = bearer(Role.TRIAL_MANAGER)
    if body is None:
        response = client.get(url, **headers)
    else:
        response = client.post(url, body, content_type="application/json", **headers)
    assert _is_problem(response, 422)["errors"] == [
        {"field": field, "message": "NUL characters are not accepted"}
    ]
    assert not AcuteCareEpisode.objects.exists()


def test_the_session_works_in_the_chosen_role_and_writes_need_the_csrf_token(staff, supported):
    from django.test import Client

    participant = supported()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff[Role.RESEARCHER])
    assert browser.get(f"/api/v1/participants/{participant.trial_id}").status_code == 200
    episode = {
        "trial_id": participant.trial_id,
        "setting": "inpatient_ward",
        "start": timezone.localdate().isoformat(),
    }
    refused = browser.post("/api/v1/episodes", {"episodes": [episode]}, content_type="application/json")
    assert refused.status_code == 403 and not AcuteCareEpisode.objects.exists()


def test_the_documentation_is_for_signed_in_staff(client, staff, bearer):
    assert client.get("/api/v1/docs").status_code == client.get("/api/v1/openapi.json").status_code == 302
    schema = client.get("/api/v1/openapi.json", **bearer(Role.STATISTICIAN)).json()
    assert schema["openapi"].startswith("3.1")
    client.force_login(staff[Role.RESEARCHER])
    assert client.get("/api/v1/docs").status_code == 200


def test_a_token_is_made_on_its_page_shown_once_and_revoked_there(client, staff):
    from django.urls import reverse

    client.force_login(staff[Role.RESEARCHER])  # acting in their only role
    expires = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    made = client.post(reverse("api_tokens:list"), {"name": "ward import", "expires_on": expires})
    token = ApiToken.objects.get()
    assert token.role == Role.RESEARCHER
    secret = made.content.decode().split('<code id="secret">')[1].split("</code>")[0]
    assert client.get(reverse("api_tokens:list")).content.decode().count(secret) == 0
    assert client.get("/api/v1/participants", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert token.history.get().history_change_reason == "token created"
    refused = client.post(reverse("api_tokens:list"), {"name": "x", "expires_on": "2999-01-01"})
    assert refused.status_code == 200 and ApiToken.objects.count() == 1  # too far off
    client.post(reverse("api_tokens:revoke", kwargs={"pk": token.pk}))
    assert client.get("/api/v1/participants", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    client.force_login(staff[Role.REFERRER])  # someone else's token cannot be revoked by them
    assert client.post(reverse("api_tokens:revoke", kwargs={"pk": token.pk})).status_code in (302, 409)


def test_writes_while_the_database_is_locked_are_refused_as_409(client, staff, bearer, supported):
    from aftercrisis.lock.models import DatabaseLockEvent, LockAction

    participant = supported()
    headers = bearer(Role.RESEARCHER)
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    start = (participant.allocation.randomised_on + dt.timedelta(days=20)).isoformat()
    episode = {"trial_id": participant.trial_id, "setting": "crisis_house", "start": start}
    body = _is_problem(_episodes(client, headers, [episode]), 409)
    assert body["type"].endswith("database-locked")
    assert not AcuteCareEpisode.objects.exists()


def test_a_role_that_may_know_an_arm_makes_a_token_only_after_the_second_factor(client, staff, settings):
    from django.urls import reverse

    settings.OTP_REQUIRED_FOR_UNBLINDED = True
    client.force_login(staff[Role.TRIAL_MANAGER])  # signed in with a password only
    expires = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    held = client.post(reverse("api_tokens:list"), {"name": "ward", "expires_on": expires})
    assert held.status_code == 302 and reverse("accounts:two_factor") in held["Location"]
    assert not ApiToken.objects.exists()


def test_sessions_only_for_roles_that_may_know_the_participant_is_in_the_peer_support_arm(
    client, staff, bearer, supported, make_participant, core_protocol
):
    from aftercrisis.intervention.services import SessionDetails, record_session

    participant = supported()
    worker = staff[Role.PEER_SUPPORT_WORKER]
    on = participant.allocation.randomised_on
    record_session(
        participant, core_protocol, SessionDetails("did_not_attend", on + dt.timedelta(days=3)), by=worker
    )
    record_session(
        participant,
        core_protocol,
        SessionDetails("held", on + dt.timedelta(days=7), duration_minutes=50, mode="phone"),
        by=worker,
    )
    url = f"/api/v1/participants/{participant.trial_id}/sessions"
    expected = [
        {
            "number": None,
            "on": str(on + dt.timedelta(days=3)),
            "outcome": "did_not_attend",
            "duration_minutes": None,
        },
        {"number": 1, "on": str(on + dt.timedelta(days=7)), "outcome": "held", "duration_minutes": 50},
    ]
    assert client.get(url, **bearer(Role.TRIAL_MANAGER)).json() == expected
    assert client.get(url, **bearer(Role.PEER_SUPPORT_WORKER)).json() == expected
    researcher = bearer(Role.RESEARCHER)
    masked = client.get(url, **researcher)
    assert _is_problem(masked, 404) == _is_problem(
        client.get("/api/v1/participants/CAM-9999/sessions", **researcher), 404
    )
    while (control := make_participant("CAM", Status.RANDOMISED)).allocation.arm != "control":
        pass
    other_arm = client.get(f"/api/v1/participants/{control.trial_id}/sessions", **bearer(Role.TRIAL_MANAGER))
    assert _is_problem(other_arm, 404) == _is_problem(masked, 404)
    _is_problem(client.get(url, **bearer(Role.STATISTICIAN)), 403)


def test_questionnaires_by_visit_with_item_values_and_totals(
    client, staff, bearer, allocation_lists, make_participant, core_protocol
):
    from aftercrisis.followup.services import enter_questionnaire

    participant = make_participant("CAM", Status.RANDOMISED, on=dt.date(2026, 1, 5))
    answers = {f"q{i}": 2 for i in range(1, 15)} | {"q15": None}
    enter_questionnaire(
        core_protocol, participant, "m4", "qpr15", answers,
        method="phone", completed_on=dt.date(2026, 5, 10), by=staff[Role.RESEARCHER],
    )  # fmt: skip
    url = f"/api/v1/participants/{participant.trial_id}/questionnaires"
    body = client.get(url, **bearer(Role.RESEARCHER)).json()
    assert [v["visit"] for v in body] == [v.code for v in core_protocol.visits]
    m4 = next(v["responses"] for v in body if v["visit"] == "m4")
    assert m4 == [
        {
            "instrument": "qpr15", "instrument_version": "QPR-15 (2014)", "completed_on": "2026-05-10",
            "method": "phone", "answers": answers, "total": 30.0, "prorated": True,
        }
    ]  # fmt: skip
    assert client.get(url, **bearer(Role.TRIAL_MANAGER)).json() == body
    _is_problem(client.get(url, **bearer(Role.REFERRER)), 403)
    elsewhere = make_participant("BRI", Status.RANDOMISED)
    _is_problem(
        client.get(f"/api/v1/participants/{elsewhere.trial_id}/questionnaires", **bearer(Role.RESEARCHER)),
        404,
    )


def _sae(client, headers, **changes):
    event = {
        "trial_id": changes.pop("trial_id"),
        "category": "self_harm",
        "onset": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        "description": "Admitted to A&E after self-harm",
        "seriousness": "hospitalisation",
        "relatedness": "not_related",
        "expectedness": "expected",
    }
    return client.post(
        "/api/v1/serious-adverse-events", {**event, **changes}, content_type="application/json", **headers
    )


def test_a_serious_adverse_event_is_reported_through_the_service_and_audited_with_the_token(
    client, bearer, supported, mailoutbox, django_capture_on_commit_callbacks
):
    from aftercrisis.outcomes.models import SeriousAdverseEvent

    participant = supported()
    with django_capture_on_commit_callbacks(execute=True):
        made = _sae(client, bearer(Role.RESEARCHER), trial_id=participant.trial_id)
    assert made.status_code == 201, made.content
    assert mailoutbox == []  # not related: no SUSAR to tell of
    event = SeriousAdverseEvent.objects.get()
    assert made.json() == {
        "id": event.pk, "trial_id": participant.trial_id, "site": "CAM", "category": "self_harm",
        "onset": str(event.onset), "seriousness": "hospitalisation",
        "reported_on": str(timezone.localdate()), "signed_off_on": None,
    }  # fmt: skip
    assert (
        event.history.get().history_change_reason
        == "serious adverse event reported via API token researcher script"
    )
    _is_problem(_sae(client, bearer(Role.CHIEF_INVESTIGATOR), trial_id=participant.trial_id), 403)
    assert SeriousAdverseEvent.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        susar = _sae(
            client, bearer(Role.TRIAL_MANAGER), trial_id=participant.trial_id,
            relatedness="possibly", expectedness="unexpected",
        )  # fmt: skip
    assert susar.status_code == 201
    assert [m.to for m in mailoutbox] == [["chief_investigator@example.org", "sponsor-safety@example.org"]]
    assert SeriousAdverseEvent.objects.get(pk=susar.json()["id"]).susar_notified_at is not None


@pytest.mark.parametrize(
    "changes, fields",
    [
        ({"category": "fall", "onset": "2026-02-30"}, {"category", "onset"}),
        ({"description": "  ", "trial_id": "at BRI"}, {"description", "trial_id"}),  # outside the scope
        ({"trial_id": "CAM-1"}, {"trial_id"}),
        ({"onset": "2999-01-01"}, {"onset"}),  # after the day it is reported, as the service refuses
        ({"relatedness": None, "expectedness": ""}, {"relatedness", "expectedness"}),
    ],
)
def test_bad_serious_adverse_events_name_each_field_and_write_nothing(
    client, bearer, supported, make_participant, changes, fields
):
    from aftercrisis.outcomes.models import SeriousAdverseEvent

    participant, elsewhere = supported(), make_participant("BRI", Status.RANDOMISED)
    if changes.get("trial_id") == "at BRI":
        changes = {**changes, "trial_id": elsewhere.trial_id}
    refused = _sae(client, bearer(Role.RESEARCHER), **{"trial_id": participant.trial_id, **changes})
    assert {e["field"] for e in _is_problem(refused, 422)["errors"]} == fields
    assert not SeriousAdverseEvent.objects.exists()


def test_a_serious_adverse_event_is_refused_while_the_database_is_locked(client, staff, bearer, supported):
    from aftercrisis.lock.models import DatabaseLockEvent, LockAction
    from aftercrisis.outcomes.models import SeriousAdverseEvent

    participant = supported()
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    body = _is_problem(_sae(client, bearer(Role.RESEARCHER), trial_id=participant.trial_id), 409)
    assert body["type"].endswith("database-locked")
    assert not SeriousAdverseEvent.objects.exists()


def _death(client, headers, **changes):
    death = {
        "died_on": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
        "cause": "natural",
        **changes,
    }
    return client.post("/api/v1/deaths", death, content_type="application/json", **headers)


def test_a_death_is_recorded_through_the_service_opens_its_sae_and_is_audited_with_the_token(
    client, bearer, supported
):
    from aftercrisis.outcomes.models import SaeCategory, SeriousAdverseEvent
    from aftercrisis.participants.models import Death

    participant = supported()
    died_on = timezone.localdate() - dt.timedelta(days=3)
    made = _death(client, bearer(Role.RESEARCHER), trial_id=participant.trial_id)
    assert made.status_code == 201, made.content
    assert made.json() == {"trial_id": participant.trial_id, "died_on": died_on.isoformat()}
    death = Death.objects.get()
    assert (death.participant, death.died_on, death.cause) == (participant, died_on, "natural")
    assert death.history.get().history_change_reason == "death reported via API token researcher script"
    opened = SeriousAdverseEvent.objects.get()
    assert (opened.participant, opened.category, opened.onset) == (participant, SaeCategory.DEATH, died_on)
    reason = opened.history.get().history_change_reason  # a long reason gives way to the token's name
    assert reason.startswith("opened by the death report") and reason.endswith(
        "… via API token researcher script"
    )
    listed = client.get("/api/v1/deaths", **bearer(Role.TRIAL_MANAGER)).json()["items"]
    assert listed == [{"trial_id": participant.trial_id, "died_on": died_on.isoformat()}]
    again = _death(client, bearer(Role.TRIAL_MANAGER), trial_id=participant.trial_id, cause="suicide")
    assert [e["field"] for e in _is_problem(again, 422)["errors"]] == ["died_on"]
    _is_problem(_death(client, bearer(Role.CHIEF_INVESTIGATOR), trial_id=participant.trial_id), 403)
    assert (Death.objects.count(), SeriousAdverseEvent.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    "changes, fields",
    [
        ({"cause": "old age", "died_on": "2026-02-30"}, {"cause", "died_on"}),
        ({"trial_id": "at BRI"}, {"trial_id"}),  # outside the scope, as one that does not exist
        ({"trial_id": "CAM-1", "cause": None}, {"trial_id", "cause"}),
        ({"died_on": "2999-01-01"}, {"died_on"}),  # in the future, as the service refuses
        ({"died_on": ""}, {"died_on"}),
    ],
)
def test_bad_deaths_name_each_field_and_write_nothing(
    client, bearer, supported, make_participant, changes, fields
):
    from aftercrisis.outcomes.models import SeriousAdverseEvent
    from aftercrisis.participants.models import Death

    participant, elsewhere = supported(), make_participant("BRI", Status.RANDOMISED)
    if changes.get("trial_id") == "at BRI":
        changes = {**changes, "trial_id": elsewhere.trial_id}
    refused = _death(client, bearer(Role.RESEARCHER), **{"trial_id": participant.trial_id, **changes})
    assert {e["field"] for e in _is_problem(refused, 422)["errors"]} == fields
    assert not Death.objects.exists() and not SeriousAdverseEvent.objects.exists()


def test_a_death_is_refused_while_the_database_is_locked(client, staff, bearer, supported):
    from aftercrisis.lock.models import DatabaseLockEvent, LockAction
    from aftercrisis.outcomes.models import SeriousAdverseEvent
    from aftercrisis.participants.models import Death

    participant = supported()
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    body = _is_problem(_death(client, bearer(Role.TRIAL_MANAGER), trial_id=participant.trial_id), 409)
    assert body["type"].endswith("database-locked")
    assert not Death.objects.exists() and not SeriousAdverseEvent.objects.exists()


def test_the_analysis_dataset_as_parquet_reads_back_as_the_csv(client, bearer, supported, make_participant):
    import io

    import pandas as pd

    supported()
    make_participant("BRI", Status.RANDOMISED)
    headers = bearer(Role.TRIAL_MANAGER)
    csv = client.get("/api/v1/analysis-dataset.csv", **headers)
    parquet = client.get("/api/v1/analysis-dataset.parquet", **headers)
    assert parquet.status_code == 200 and parquet["Content-Type"] == "application/vnd.apache.parquet"
    assert parquet["Content-Disposition"].endswith('.parquet"')
    frame = pd.read_parquet(io.BytesIO(parquet.content))
    assert len(frame) == Allocation.objects.count() and "BRI" in set(frame["site"])
    assert frame.to_csv(index=False) == csv.content.decode()
    for role in (Role.STATISTICIAN, Role.RESEARCHER):  # the statistician is blinded until lock
        _is_problem(client.get("/api/v1/analysis-dataset.parquet", **bearer(role)), 403)

"""Finding a participant: by trial ID for every role that lists them, by name or NHS number only for roles
that may see identity; the list sorted by the columns it offers, anything else ignored; a long history paged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import Identity, Participant, Status

pytestmark = pytest.mark.django_db

URL = reverse("participants:list")


def _found(client, who, **query) -> list[str]:
    client.force_login(who)
    response = client.get(URL, query)
    assert response.status_code == 200
    page = response.content.decode()
    return [p.trial_id for p in Participant.objects.order_by("trial_id") if f">{p.trial_id}</a>" in page]


@pytest.fixture
def people(make_participant):
    ann, bob = make_participant("CAM"), make_participant("CAM")
    Identity.objects.filter(participant=ann).update(given_name="Ann", family_name="Hathaway")
    Identity.objects.filter(participant=bob).update(given_name="Bob", family_name="Marley")
    ann.identity.refresh_from_db()
    return ann, bob


def test_by_trial_id(client, staff, people):
    _, bob = people
    assert _found(client, staff[Role.RESEARCHER], q=bob.trial_id.lower()) == [bob.trial_id]


def test_by_name_and_nhs_number_for_roles_that_see_identity(client, staff, people):
    ann, _ = people
    spaced = f"{ann.identity.nhs_number[:3]} {ann.identity.nhs_number[3:6]} {ann.identity.nhs_number[6:]}"
    for who in (staff[Role.RESEARCHER], staff[Role.TRIAL_MANAGER]):
        assert _found(client, who, q="hathaway") == [ann.trial_id]
        assert _found(client, who, q="ann hath") == [ann.trial_id]
        assert _found(client, who, q=spaced) == [ann.trial_id]


def test_no_name_or_nhs_number_for_a_role_that_may_not_see_identity(staff, people):
    from aftercrisis.accounts.policy import Actor
    from aftercrisis.participants.selectors import matching

    ann, _ = people
    masked = Actor(user_id=staff[Role.STATISTICIAN].pk, role=Role.STATISTICIAN, site_ids=None)
    everyone = Participant.objects.all()
    assert not matching(masked, everyone, "Hathaway").exists()
    assert not matching(masked, everyone, ann.identity.nhs_number).exists()
    assert list(matching(masked, everyone, ann.trial_id)) == [ann]


def test_search_never_reveals_an_arm(client, staff, allocation_lists, make_participant):
    """A masked researcher's search, whatever it is given, answers the same for both arms."""
    randomised = [make_participant("CAM", Status.RANDOMISED) for _ in range(4)]
    arms = {p.allocation.arm for p in randomised}
    assert len(arms) == 2
    for text in ["intervention", "control", "peer", "Workbook by post", "arm:intervention"]:
        assert _found(client, staff[Role.RESEARCHER], q=text) == []


def test_sorting_by_the_offered_columns_and_ignoring_others(client, staff, make_participant):
    import datetime as dt

    early = make_participant("CAM", on=dt.date(2026, 1, 2))
    late = make_participant("CAM", on=dt.date(2026, 3, 2))
    middle = make_participant("CAM", on=dt.date(2026, 2, 2))
    manager = staff[Role.TRIAL_MANAGER]

    def order(sort):
        client.force_login(manager)
        page = client.get(URL, {"sort": sort}).content.decode()
        return sorted([early, middle, late], key=lambda p: page.index(f">{p.trial_id}</a>"))

    assert order("referred") == [early, middle, late]
    assert order("-referred") == [late, middle, early]
    by_id = sorted([early, middle, late], key=lambda p: p.trial_id)
    for hostile in ["allocation__arm", "-allocation__arm", "arm", "", "pk'; --", "-" * 500]:
        assert order(hostile) == by_id
    refused = client.get(URL, {"sort": "\x00"})
    assert refused.status_code == 400 and "<strong>sort</strong>" in refused.content.decode()


def test_hostile_search_and_filters_are_no_server_error(client, staff, make_participant):
    make_participant("CAM")
    client.force_login(staff[Role.TRIAL_MANAGER])
    for value in ["%", "_", "'; drop table", "x" * 5000, "\uff11\uff12\uff13"]:
        response = client.get(URL, {"q": value, "sort": value, "site": value, "status": value, "page": value})
        assert response.status_code == 200
    # A NUL character, which PostgreSQL refuses, is bad input named by its field.
    refused = client.get(URL, {"q": "CAM\x00"})
    assert refused.status_code == 400 and "<strong>q</strong>" in refused.content.decode()


def test_a_long_audit_history_is_paged(client, staff, make_participant):
    from aftercrisis.pagination import PAGE_SIZE
    from aftercrisis.participants.services import update_research_data

    participant = make_participant("CAM")
    for n in range(PAGE_SIZE + 5):
        update_research_data(
            participant, {"prior_admissions": n}, by=staff[Role.RESEARCHER], reason=f"fix {n}"
        )
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("participants:history", kwargs={"trial_id": participant.trial_id})
    first, second = (client.get(url, {"page": n}).content.decode() for n in (1, 2))
    assert first.count("nhsuk-card__heading") == PAGE_SIZE and "Reason: fix 54</p>" in first
    assert "Reason: fix 0</p>" in second and "Reason: fix 0</p>" not in first

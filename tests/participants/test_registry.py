from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from tests.conftest import fresh_nhs_number

from aftercrisis.accounts.roles import Role
from aftercrisis.audit import REASON_MAX_LENGTH, history_of
from aftercrisis.participants.models import Identity, Participant, Status
from aftercrisis.participants.services import (
    move_all,
    move_to,
    register_participant,
    update_identity,
    update_research_data,
)
from aftercrisis.participants.trial_id import is_valid_trial_id

pytestmark = pytest.mark.django_db


def test_trial_ids_are_sequential_per_site_with_check_character(make_participant):
    ids = [
        make_participant("CAM").trial_id,
        make_participant("CAM").trial_id,
        make_participant("ISL").trial_id,
    ]
    assert [i[:8] for i in ids] == ["CAM-0001", "CAM-0002", "ISL-0001"]
    assert all(is_valid_trial_id(i) for i in ids)


def test_age_at_entry_comes_from_date_of_birth(make_participant):
    participant = make_participant(on=dt.date(2026, 1, 5))  # born 1 Jun 1985
    assert participant.age_at_entry == 40


def test_invalid_nhs_number_is_refused_and_nothing_is_saved(sites, staff):
    with pytest.raises(ValidationError) as caught:
        register_participant(
            site=sites["CAM"],
            referred_on=dt.date(2026, 1, 5),
            by=staff[Role.REFERRER],
            identity={
                "nhs_number": "9991234567",
                "given_name": "A",
                "family_name": "B",
                "date_of_birth": dt.date(1990, 1, 1),
            },
        )
    assert "nhs_number" in caught.value.message_dict
    assert not Participant.objects.exists() and not Identity.objects.exists()


def test_duplicate_nhs_number_is_refused(sites, staff):
    identity = {
        "nhs_number": fresh_nhs_number(),
        "given_name": "A",
        "family_name": "B",
        "date_of_birth": dt.date(1990, 1, 1),
    }
    register_participant(site=sites["CAM"], referred_on=dt.date(2026, 1, 5), by=None, identity=identity)
    with pytest.raises(ValidationError, match="already in the trial"):
        register_participant(site=sites["ISL"], referred_on=dt.date(2026, 1, 5), by=None, identity=identity)
    assert Participant.objects.count() == 1


def test_the_same_person_twice_in_one_batch_is_refused_and_nothing_is_saved(sites):
    from aftercrisis.participants.services import Referral, register_participants

    identity = {"nhs_number": fresh_nhs_number(), "given_name": "A", "family_name": "B",
                "date_of_birth": dt.date(1990, 1, 1)}  # fmt: skip
    twice = [Referral(sites[code], dt.date(2026, 1, 5), None, identity) for code in ("CAM", "ISL")]
    with pytest.raises(ValidationError, match="already in the trial"):
        register_participants(twice)
    assert Participant.objects.count() == 0 and Identity.objects.count() == 0


def test_two_rows_of_one_audited_batch_that_clash_are_refused_naming_the_later(
    allocation_lists, make_participant, staff
):
    """Neither is stored yet, so no check against the table can find the clash: the batch itself is checked."""
    from aftercrisis.audit import record_creations
    from aftercrisis.followup.models import VisitOutcome, VisitRecord

    participant = make_participant(status=Status.RANDOMISED)
    visit = {
        "participant": participant,
        "visit": "m4",
        "outcome": VisitOutcome.COMPLETED,
        "on": dt.date(2026, 5, 1),
    }
    with pytest.raises(ValidationError, match="row 2: the same participant, visit as row 1"):
        record_creations(
            [VisitRecord(**visit), VisitRecord(**visit)], by=staff[Role.RESEARCHER], reason="entered"
        )
    assert not VisitRecord.objects.filter(participant=participant, visit="m4").exists()


# Digit d written as the digit d of another script, starting at that script's zero.
FULL_WIDTH = {ord("0") + d: 0xFF10 + d for d in range(10)}
ARABIC_INDIC = {ord("0") + d: 0x0660 + d for d in range(10)}


def test_nhs_number_in_other_digits_is_the_same_person_and_cannot_be_registered_three_times(
    client, sites, staff
):
    """Fault 6: full-width and Arabic-Indic digits passed isdigit() and were stored as typed."""
    number = fresh_nhs_number()
    client.force_login(staff[Role.REFERRER])
    url = reverse("recruitment:referrals")
    form = {
        "site": sites["CAM"].pk,
        "given_name": "Sam",
        "family_name": "Rowe",
        "date_of_birth": "1990-01-01",
        "referred_on": "2026-01-05",
    }
    typed = [
        f"{number[:3]}\u3000{number[3:6]}\u3000{number[6:]}".translate(FULL_WIDTH),
        number.translate(ARABIC_INDIC),
        number,
    ]
    assert client.post(url, {**form, "nhs_number": typed[0]}).status_code == 302
    for again in typed[1:]:
        page = client.post(url, {**form, "nhs_number": again})
        assert page.status_code == 200
        assert "Someone with this NHS number is already in the trial" in page.content.decode()
    assert list(Identity.objects.values_list("nhs_number", flat=True)) == [number]
    page = client.post(url, {**form, "nhs_number": "²" + number[1:]})
    assert "Enter a valid 10-digit NHS number" in page.content.decode()
    assert Participant.objects.count() == 1


def test_nhs_number_is_normalised_by_the_services_too(sites, staff, make_participant):
    number, other = fresh_nhs_number(), make_participant()
    identity = {"given_name": "A", "family_name": "B", "date_of_birth": dt.date(1990, 1, 1)}
    register_participant(
        site=sites["CAM"],
        referred_on=dt.date(2026, 1, 5),
        by=None,
        identity={**identity, "nhs_number": number.translate(ARABIC_INDIC)},
    )
    assert Identity.objects.filter(nhs_number=number).exists()
    with pytest.raises(ValidationError, match="Someone else in the trial has this NHS number"):
        update_identity(
            other, {"nhs_number": number.translate(FULL_WIDTH)}, by=staff[Role.RESEARCHER], reason="typo"
        )
    other.identity.refresh_from_db()
    assert other.identity.nhs_number != number and other.identity.history.count() == 1


def test_edit_without_reason_is_refused_and_changes_nothing(make_participant, staff):
    participant = make_participant(prior_admissions=1)
    for reason in ["", "   "]:
        with pytest.raises(ValidationError, match="reason"):
            update_research_data(
                participant, {"prior_admissions": 3}, by=staff[Role.RESEARCHER], reason=reason
            )
    participant.refresh_from_db()
    assert participant.prior_admissions == 1
    assert participant.history.count() == 1


def test_a_reason_longer_than_the_audit_keeps_is_refused_and_changes_nothing(make_participant, staff):
    participant = make_participant(prior_admissions=1)
    with pytest.raises(ValidationError, match="Reason must be 100 characters or fewer") as caught:
        update_research_data(
            participant,
            {"prior_admissions": 3},
            by=staff[Role.RESEARCHER],
            reason="r" * (REASON_MAX_LENGTH + 1),
        )
    assert list(caught.value.message_dict) == ["reason"]
    participant.refresh_from_db()
    assert participant.prior_admissions == 1 and participant.history.count() == 1


@pytest.mark.parametrize("page", ["participants:edit", "participants:edit_identity"])
def test_the_edit_pages_refuse_a_reason_too_long_to_keep(client, make_participant, staff, page):
    participant = make_participant(prior_admissions=1)
    client.force_login(staff[Role.RESEARCHER])
    url = reverse(page, kwargs={"trial_id": participant.trial_id})
    form = client.get(url).content.decode()
    assert f'maxlength="{REASON_MAX_LENGTH}"' in form
    data = {
        "prior_admissions": "3",
        "age_at_entry": str(participant.age_at_entry),
        **{
            f: getattr(participant.identity, f)
            for f in ["nhs_number", "given_name", "family_name", "postcode"]
        },
        "date_of_birth": participant.identity.date_of_birth.isoformat(),
        "phone": "07700 900999",
        "reason": "r" * (REASON_MAX_LENGTH + 1),
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Reason for the change must be 100 characters or fewer (it has 101)" in response.content.decode()
    participant.refresh_from_db()
    assert participant.prior_admissions == 1 and participant.identity.phone == "07700 900123"
    assert participant.history.count() == 1 and participant.identity.history.count() == 1


def test_edit_with_reason_is_in_the_history_with_before_and_after(make_participant, staff):
    participant = make_participant(prior_admissions=1)
    update_research_data(
        participant, {"prior_admissions": 3}, by=staff[Role.RESEARCHER], reason="typing error at entry"
    )
    latest = history_of(participant)[0]
    assert latest["reason"] == "typing error at entry"
    assert latest["who"] == "Researcher Tester"
    assert latest["changes"] == [
        {"field": "acute admissions in the previous two years", "before": "1", "after": "3"}
    ]


def test_identity_edit_is_audited_separately(make_participant, staff):
    participant = make_participant()
    update_identity(participant, {"phone": "07700 900999"}, by=staff[Role.RESEARCHER], reason="new phone")
    entry = history_of(participant.identity)[0]
    assert entry["changes"][0]["before"] == "07700 900123" and entry["changes"][0]["after"] == "07700 900999"


def test_trial_data_is_never_deleted(make_participant):
    participant = make_participant()
    with pytest.raises(PermissionError):
        participant.delete()
    with pytest.raises(PermissionError):
        Participant.objects.all().delete()
    with pytest.raises(PermissionError):
        Identity.objects.filter(participant=participant).delete()
    assert Participant.objects.count() == 1


def test_lifecycle_moves_only_forward(make_participant, staff):
    participant = make_participant()
    with pytest.raises(ValidationError, match="cannot go from referred to randomised"):
        move_to(participant, Status.RANDOMISED, by=staff[Role.RESEARCHER], reason="skip")
    move_to(participant, Status.WITHDRAWN, by=staff[Role.RESEARCHER], reason="does not want to take part")
    with pytest.raises(ValidationError):
        move_to(participant, Status.SCREENED, by=staff[Role.RESEARCHER], reason="again")


def test_moves_made_together_are_refused_whole_naming_the_participant(make_participant, staff):
    stays, cannot = make_participant(), make_participant()
    with pytest.raises(ValidationError, match=f"{cannot.trial_id} cannot go from referred to randomised"):
        move_all(
            [(stays, Status.WITHDRAWN), (cannot, Status.RANDOMISED)], by=staff[Role.RESEARCHER], reason="tidy"
        )
    stays.refresh_from_db()
    assert stays.status == Status.REFERRED


def test_the_list_filters_only_by_a_listed_site(client, make_participant, staff):
    """A site no one may choose is ignored, as an unknown status is; a NUL byte (which PostgreSQL refuses) is
    refused as bad input."""
    cam, bri = make_participant("CAM"), make_participant("BRI")
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("participants:list")
    assert bri.trial_id not in client.get(url, {"site": "CAM"}).content.decode()
    page = client.get(url, {"site": "ZZZ", "status": "ZZZ"}).content.decode()
    assert cam.trial_id in page and bri.trial_id in page
    assert client.get(url, {"site": "nul\x00byte", "status": "ZZZ"}).status_code == 400


def test_the_identity_page_shows_the_date_of_birth_as_a_date_input_takes_it(client, make_participant, staff):
    """A date input shows only YYYY-MM-DD: given 01/06/1985 it showed an empty field, so saving another
    change asked for the date of birth again."""
    participant = make_participant("CAM")
    client.force_login(staff[Role.TRIAL_MANAGER])
    page = client.get(reverse("participants:edit_identity", kwargs={"trial_id": participant.trial_id}))
    assert 'value="1985-06-01"' in page.content.decode()


def test_audited_changes_to_many_rows_are_each_versioned_with_their_reason_or_none_is_written(
    allocation_lists, make_participant, staff
):
    from aftercrisis.audit import audited_changes

    manager, researcher = staff[Role.TRIAL_MANAGER], staff[Role.RESEARCHER]
    first, second = make_participant(), make_participant()
    audited_changes(
        [(first, [{"prior_admissions": 2}, {"prior_admissions": 3}]), (second, [{"prior_admissions": 4}])],
        by=[manager, researcher],
        reason=["records checked", "told us at screening"],
    )
    for participant, admissions in ((first, [3, 2, 1]), (second, [4, 1])):
        versions = list(participant.history.order_by("-history_id"))
        assert [v.prior_admissions for v in versions] == admissions
        participant.refresh_from_db()
        assert participant.prior_admissions == admissions[0]
    assert [(v.history_user, v.history_change_reason) for v in second.history.filter(history_type="~")] == [
        (researcher, "told us at screening")
    ]
    with pytest.raises(ValidationError, match="prior_admissions"):
        audited_changes(
            [(first, [{"prior_admissions": 5}]), (second, [{"prior_admissions": -1}])],
            by=manager,
            reason="typo",
        )
    first.refresh_from_db()
    assert first.prior_admissions == 3 and first.history.count() == 3

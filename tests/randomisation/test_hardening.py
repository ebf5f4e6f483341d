"""Corrections, the backup procedure, list import/export, notifications, unblinding and CONSORT counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from aftercrisis.accounts.roles import Role
from aftercrisis.audit import history_of
from aftercrisis.notifications import backends
from aftercrisis.participants.models import Status
from aftercrisis.randomisation.lists import ListError, checksum
from aftercrisis.randomisation.models import Allocation, AllocationSlot, UnblindingStatus
from aftercrisis.randomisation.services import (
    RandomisationRefused,
    allocation_list_csv,
    correct_stratum,
    enter_backup_allocation,
    flag_randomised_in_error,
    import_allocation_lists,
    randomise,
)
from aftercrisis.randomisation.unblinding import (
    decide_unblinding,
    request_unblinding,
    requests_for,
    revealed_arm,
)
from aftercrisis.recruitment.selectors import consort_counts

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 1, 5)


def test_wrong_stratum_is_a_correction_with_a_reason_and_history(
    allocation_lists, make_participant, staff, actor_of, sites
):
    p = make_participant("CAM", Status.RANDOMISED)
    manager, actor = staff[Role.TRIAL_MANAGER], actor_of(Role.TRIAL_MANAGER)
    with pytest.raises(ValidationError, match="reason"):
        correct_stratum(actor, p.allocation, sites["ISL"], by=manager, reason="")
    correct_stratum(actor, p.allocation, sites["ISL"], by=manager, reason="referred by the Islington team")
    flag_randomised_in_error(actor, p.allocation, by=manager, reason="aged 17 at consent")
    allocation = Allocation.objects.get(participant=p)
    assert allocation.stratum_corrected_to.code == "ISL" and allocation.randomised_in_error
    assert allocation.arm == allocation.slot.arm  # the allocation itself never changes
    reasons = [e["reason"] for e in history_of(allocation)]
    assert reasons == ["aged 17 at consent", "referred by the Islington team", "randomised"]


def test_backup_allocation_takes_the_next_position_and_flags_a_difference(
    allocation_lists, make_participant, staff, actor_of, core_protocol
):
    manager, actor = staff[Role.TRIAL_MANAGER], actor_of(Role.TRIAL_MANAGER)
    first = make_participant("CAM", Status.CONSENTED)
    with pytest.raises(RandomisationRefused, match="next backup position at CAM is 1"):
        enter_backup_allocation(actor, first, core_protocol, position=2, arm="control", on=DAY, by=manager)
    listed = AllocationSlot.objects.get(site__code="CAM", position=1).arm
    other = "control" if listed == "intervention" else "intervention"
    given = enter_backup_allocation(
        actor, first, core_protocol, position=1, arm=other, on=DAY, by=manager
    ).allocation
    assert (given.arm, given.source, given.matches_list) == (other, "backup", False)
    # The system's next allocation continues after the backup position.
    second = make_participant("CAM", Status.RANDOMISED)
    assert second.allocation.slot.position == 2


def test_list_export_and_import_round_trip_with_the_checksum(allocation_lists, core_protocol, sites):
    text = allocation_list_csv()
    rows = AllocationSlot.objects.count()
    per_site = {code: AllocationSlot.objects.filter(site__code=code).count() for code in sites}
    with pytest.raises(ListError, match="already has a list"):
        import_allocation_lists(core_protocol, text, checksum(text))
    assert AllocationSlot.objects.count() == rows
    AllocationSlot.objects.all().delete()  # an installation with no lists yet
    with pytest.raises(ListError, match="checksum"):
        import_allocation_lists(core_protocol, text, checksum(text + " "))
    assert AllocationSlot.objects.count() == 0
    loaded = import_allocation_lists(core_protocol, text, checksum(text))
    assert loaded == per_site and min(per_site.values()) >= 40 and allocation_list_csv() == text


def test_allocation_notifications_reach_only_unblinded_staff_and_the_participant(
    allocation_lists,
    make_participant,
    core_protocol,
    settings,
    staff,
    actor_of,
    django_capture_on_commit_callbacks,
):
    settings.NOTIFICATIONS_BACKEND = "recording"
    backends.outbox.clear()
    by_arm = {}
    while len(by_arm) < 2:
        p = make_participant("CAM", Status.CONSENTED)
        identity = p.identity
        identity.address, identity.postcode = "1 Example Street\nLondon", "NW1 2AB"
        identity.save()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            arm = randomise(
                actor_of(Role.TRIAL_MANAGER), p, core_protocol, by=staff[Role.TRIAL_MANAGER]
            ).allocation.arm
        recipients = sorted(r for m in mail.outbox for r in m.to)
        expected = ["peer_support_worker@example.org", "trial_manager@example.org"]
        assert recipients == (expected if arm == "intervention" else expected[1:])
        by_arm.setdefault(arm, [m for m in backends.outbox if m.reference == p.trial_id])
    letters = [m for sent in by_arm.values() for m in sent]
    assert [m.channel for m in letters] == ["letter", "letter"]
    assert "Workbook by post" in letters[1].body + letters[0].body
    assert letters[0].to[-1] == "NW1 2AB"


def test_emergency_unblinding_reveals_the_arm_to_the_requester_only(
    allocation_lists, make_participant, staff, actor_of, django_capture_on_commit_callbacks
):
    p = make_participant("CAM", Status.RANDOMISED)
    researcher, manager = actor_of(Role.RESEARCHER), actor_of(Role.TRIAL_MANAGER)
    with pytest.raises(ValidationError, match="reason"):
        request_unblinding(researcher, p, reason=" ", by=staff[Role.RESEARCHER])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        req = request_unblinding(researcher, p, reason="overdose; A&E asks", by=staff[Role.RESEARCHER])
    assert [m.to for m in mail.outbox] == [["trial_manager@example.org"]]
    assert revealed_arm(researcher, req) is None
    with django_capture_on_commit_callbacks(execute=True):
        decide_unblinding(manager, req, approve=True, note="", by=staff[Role.TRIAL_MANAGER])
    assert [m.to for m in mail.outbox][1:] == [["researcher@example.org"]]
    req.refresh_from_db()
    assert req.status == UnblindingStatus.APPROVED
    assert revealed_arm(researcher, req) == p.allocation.arm
    assert p.allocation.arm not in mail.outbox[-1].body + mail.outbox[-1].subject
    # Another masked user cannot see it, and the manager's (DMC) listing holds every request.
    referrer = actor_of(Role.REFERRER)
    assert list(requests_for(referrer)) == [] and revealed_arm(referrer, req) is None
    assert list(requests_for(manager)) == [req]
    with pytest.raises(ValidationError, match="already been decided"):
        decide_unblinding(manager, req, approve=False, note="", by=staff[Role.TRIAL_MANAGER])


def test_consort_counts_are_pooled_for_masked_roles(
    allocation_lists, make_participant, actor_of, staff, core_protocol
):
    from aftercrisis.recruitment.services import record_anonymous_screen_failures

    for _ in range(4):
        make_participant("CAM", Status.RANDOMISED)
    make_participant("CAM", Status.CONSENTED)
    make_participant("CAM", Status.SCREENED)
    record_anonymous_screen_failures(
        actor_of(Role.RESEARCHER),
        core_protocol,
        site=staff[Role.RESEARCHER].role_assignments.first().site,
        on=DAY,
        outcome="not_eligible",
        reason="outside_catchment",
        count=5,
        by=staff[Role.RESEARCHER],
    )
    unblinded = consort_counts(actor_of(Role.TRIAL_MANAGER))
    masked = consort_counts(actor_of(Role.RESEARCHER))
    assert (unblinded.screened, unblinded.not_eligible, unblinded.eligible) == (11, 5, 6)
    assert (unblinded.consented, unblinded.randomised) == (5, 4)
    assert sum(unblinded.randomised_by_arm.values()) == 4
    assert masked.randomised_by_arm is None and masked.randomised == 4
    assert masked.reasons["not_eligible"] == {"outside_catchment": 5}

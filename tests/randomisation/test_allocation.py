from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from aftercrisis.accounts.roles import Role
from aftercrisis.audit import record_creations
from aftercrisis.intervention.models import CaseloadAssignment
from aftercrisis.notifications import backends
from aftercrisis.participants.models import Status
from aftercrisis.participants.services import update_identity
from aftercrisis.randomisation.models import Allocation, AllocationSlot, StratumCursor
from aftercrisis.randomisation.services import RandomisationRefused, randomise, randomise_all

pytestmark = pytest.mark.django_db


def test_allocations_take_list_positions_in_order(allocation_lists, make_participant):
    made = [make_participant("CAM", Status.RANDOMISED) for _ in range(6)]
    allocations = (
        Allocation.objects.filter(participant__in=made).select_related("slot").order_by("slot__position")
    )
    assert [a.slot.position for a in allocations] == [1, 2, 3, 4, 5, 6]
    expected = list(
        AllocationSlot.objects.filter(site__code="CAM").order_by("position").values_list("arm", flat=True)[:6]
    )
    assert [a.arm for a in allocations] == expected
    assert all(p.status == Status.RANDOMISED for p in made)


def _intervention_participant(make_participant, trial, actor, manager, capture):
    """Randomise consented CAM participants (with a postal address) until one is in the intervention arm."""
    while True:
        participant = make_participant("CAM", Status.CONSENTED)
        update_identity(
            participant, {"address": "1 Mill Road", "postcode": "NW1 2AB"}, by=manager, reason="given"
        )
        with capture(execute=True) as callbacks:
            done = randomise(actor, participant, trial, by=manager)
        if done.allocation.arm == "intervention":
            return participant, done, callbacks


def test_randomising_assigns_and_notifies_once_and_a_repeat_does_nothing_more(
    allocation_lists,
    make_participant,
    staff,
    actor_of,
    settings,
    django_capture_on_commit_callbacks,
    core_protocol,
):
    settings.NOTIFICATIONS_BACKEND = "recording"
    actor, manager = actor_of(Role.TRIAL_MANAGER), staff[Role.TRIAL_MANAGER]
    participant, first, callbacks = _intervention_participant(
        make_participant, core_protocol, actor, manager, django_capture_on_commit_callbacks
    )
    assert first.created and first.assignment.worker == staff[Role.PEER_SUPPORT_WORKER]
    # Sent after the commit, in one callback (each message on its own within it): the trial manager, the
    # site's peer support worker, and the participant's letter.
    assert len(callbacks) == 1 and len(first.notifications) == 3
    mine = [m for m in backends.outbox if m.reference == participant.trial_id]
    assert [m.channel for m in mine] == ["letter"]
    assert [m.to for m in mail.outbox[-2:]] == [
        ["trial_manager@example.org"],
        ["peer_support_worker@example.org"],
    ]

    sent = (len(mail.outbox), len(backends.outbox))
    with django_capture_on_commit_callbacks(execute=True) as again:
        second = randomise(actor, participant, core_protocol, by=manager)
    assert (second.allocation.pk, second.created, second.assignment, second.notifications) == (
        first.allocation.pk,
        False,
        None,
        (),
    )
    assert again == [] and (len(mail.outbox), len(backends.outbox)) == sent
    assert Allocation.objects.filter(participant=participant).count() == 1
    assert CaseloadAssignment.objects.filter(participant=participant).count() == 1


def test_nothing_is_sent_for_a_randomisation_that_is_rolled_back(
    allocation_lists, make_participant, staff, actor_of, django_capture_on_commit_callbacks, core_protocol
):
    participant = make_participant("CAM", Status.CONSENTED)
    actor, manager = actor_of(Role.TRIAL_MANAGER), staff[Role.TRIAL_MANAGER]
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        assert randomise(actor, participant, core_protocol, by=manager).notifications
        raise RuntimeError("the caller's transaction fails after the allocation")
    assert callbacks == [] and not Allocation.objects.exists() and not CaseloadAssignment.objects.exists()


def test_the_page_says_what_a_second_click_found(client, allocation_lists, make_participant, staff):
    participant = make_participant("CAM", Status.CONSENTED)
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("participants:randomise", kwargs={"trial_id": participant.trial_id})
    first = client.post(url, follow=True).content.decode()
    second = client.post(url, follow=True).content.decode()
    assert f"{participant.trial_id} is allocated to:" in first
    assert f"{participant.trial_id} was already randomised on" in second and "notification" not in second
    assert Allocation.objects.filter(participant=participant).count() == 1


def test_only_consented_participants_are_randomised(
    allocation_lists, make_participant, staff, actor_of, core_protocol
):
    participant = make_participant("CAM", Status.SCREENED)
    with pytest.raises(RandomisationRefused, match="not consented"):
        randomise(actor_of(Role.TRIAL_MANAGER), participant, core_protocol, by=staff[Role.TRIAL_MANAGER])
    assert not Allocation.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.RESEARCHER, Role.STATISTICIAN, Role.PEER_SUPPORT_WORKER, Role.REFERRER]
)
def test_only_the_trial_manager_randomises(
    allocation_lists, make_participant, staff, actor_of, role, core_protocol
):
    participant = make_participant("CAM", Status.CONSENTED)
    with pytest.raises(PermissionDenied):
        randomise(actor_of(role), participant, core_protocol, by=staff[role])


def test_an_exhausted_list_is_reported(sites, make_participant, staff, actor_of, core_protocol):
    participant = make_participant("CAM", Status.CONSENTED)  # no list loaded
    with pytest.raises(RandomisationRefused, match="list for CAM is used up"):
        randomise(actor_of(Role.TRIAL_MANAGER), participant, core_protocol, by=staff[Role.TRIAL_MANAGER])


def test_allocation_history_records_who_and_why(allocation_lists, make_participant, staff):
    participant = make_participant("CAM", Status.RANDOMISED)
    record = participant.allocation.history.get()
    assert record.history_user == staff[Role.TRIAL_MANAGER]
    assert record.history_change_reason == "randomised"


def _with_address(participant, manager):
    update_identity(
        participant, {"address": "1 Mill Road", "postcode": "NW1 2AB"}, by=manager, reason="given"
    )
    return participant


# Everything Django runs for one randomisation to peer support through the page, as production has it:
# the session, the user, the second factor's device, the roles; then, in the transaction, the participant
# (looked for among those the actor may open) with what readiness asks, the database lock, the status
# (written, versioned), the stratum's cursor moved on (saying where it now is) and the position it passed,
# the allocation (written, versioned: the locks held say that its participant and position are free), the
# peer support workers and their caseloads, the assignment (written, versioned), the notifications'
# recipients, the commit. One more where the participant's row is locked by a query of its own (SQLite
# locks the database at BEGIN).
RANDOMISE_QUERIES = 18


@override_settings(OTP_REQUIRED_FOR_UNBLINDED=True, SESSION_COOKIE_AGE=24 * 3600)
def test_one_randomisation_makes_a_fixed_number_of_queries_and_a_batch_no_more(
    client, allocation_lists, make_participant, staff, actor_of, core_protocol
):
    manager = staff[Role.TRIAL_MANAGER]
    client.force_login(manager)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.create(user=manager, name="app").persistent_id
    session.save()
    expected = RANDOMISE_QUERIES + connection.features.has_select_for_update
    while True:
        participant = _with_address(make_participant("CAM", Status.CONSENTED), manager)
        url = reverse("participants:randomise", kwargs={"trial_id": participant.trial_id})
        with CaptureQueriesContext(connection) as page:
            assert client.post(url).status_code == 302
        if participant.allocation.arm == "intervention":
            break
    assert len(page) == expected, [q["sql"][:80] for q in page]

    batch = [(_with_address(make_participant("CAM", Status.CONSENTED), manager), None) for _ in range(8)]
    actor = actor_of(Role.TRIAL_MANAGER)
    with CaptureQueriesContext(connection) as service:
        done = randomise_all(actor, batch, core_protocol, by=manager)
    assert {d.allocation.arm for d in done} == {"intervention", "control"}
    # The page's own reads before the service: the session, the user, the device, the roles.
    assert len(service) == expected - 4


def test_a_batch_takes_positions_in_the_order_given_and_a_repeat_is_found_not_made_again(
    allocation_lists, make_participant, staff, actor_of, core_protocol, django_capture_on_commit_callbacks
):
    manager, actor = staff[Role.TRIAL_MANAGER], actor_of(Role.TRIAL_MANAGER)
    before = make_participant("ISL", Status.RANDOMISED)
    cam = [make_participant("CAM", Status.CONSENTED) for _ in range(3)]
    isl = make_participant("ISL", Status.CONSENTED)
    given = [(cam[2], None), (isl, None), (before, None), (cam[0], None), (cam[2], None), (cam[1], None)]
    with django_capture_on_commit_callbacks(execute=True) as sent:
        done = randomise_all(actor, given, core_protocol, by=manager)
    assert [d.created for d in done] == [True, True, False, True, False, True]
    assert done[2].allocation == before.allocation and done[4].allocation == done[0].allocation
    assert [d.allocation.slot.position for d in done] == [1, 2, 1, 2, 1, 3]
    assert all(p.status == Status.RANDOMISED for p, _ in given)
    # Sent after the commit: each new allocation's messages in one callback, and none for a repeat.
    assert len(sent) == sum(1 for d in done if d.created) == 4
    assert all(d.notifications for d in done if d.created)
    assert Allocation.objects.count() == 5


def test_a_batch_with_one_participant_not_ready_allocates_nobody(
    allocation_lists, make_participant, staff, actor_of, core_protocol
):
    ready = make_participant("CAM", Status.CONSENTED)
    screened = make_participant("CAM", Status.SCREENED)
    with pytest.raises(RandomisationRefused, match=f"{screened.trial_id} cannot be randomised: status"):
        randomise_all(
            actor_of(Role.TRIAL_MANAGER),
            [(ready, None), (screened, None)],
            core_protocol,
            by=staff[Role.TRIAL_MANAGER],
        )
    assert not Allocation.objects.exists()
    assert StratumCursor.objects.get(site__code="CAM").last_position == 0


def test_a_batch_shares_the_peer_support_as_one_at_a_time_would(
    supported, make_participant, staff, actor_of, core_protocol, sites
):
    from aftercrisis.accounts.services import create_staff

    def worker(name, site, active=True):
        user = create_staff(
            username=name, password="a-long-test-password-1", first_name="Peer", last_name=name,
            email=f"{name}@example.org", roles=[(Role.PEER_SUPPORT_WORKER, site)],
        )  # fmt: skip
        user.is_active = active
        user.save(update_fields=["is_active"])
        return user

    first = staff[Role.PEER_SUPPORT_WORKER]  # at CAM, with one participant already
    already = supported()
    assert already.caseload_assignment.worker == first
    second, _, _ = (
        worker("psw.cam.2", sites["CAM"]),
        worker("psw.gone", sites["CAM"], False),
        worker("psw.isl", sites["ISL"]),
    )
    batch = [(make_participant("CAM", Status.CONSENTED), None) for _ in range(10)]
    done = randomise_all(actor_of(Role.TRIAL_MANAGER), batch, core_protocol, by=staff[Role.TRIAL_MANAGER])
    given = [d.assignment.worker if d.assignment else None for d in done]
    assert [w is not None for w in given] == [d.allocation.arm == "intervention" for d in done]
    # Each to the least loaded of CAM's active workers at that moment, the earlier account on a tie.
    expected, loads = [], {first: 1, second: 0}
    for d in done:
        if d.allocation.arm == "intervention":
            chosen = min(loads, key=lambda w: (loads[w], w.pk))
            loads[chosen] += 1
            expected.append(chosen)
    assert [w for w in given if w is not None] == expected and len(expected) >= 2
    assert set(expected) == {first, second}


def test_the_page_randomises_only_a_participant_it_may_open(
    client, allocation_lists, make_participant, staff
):
    participant = make_participant("CAM", Status.CONSENTED)
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("participants:randomise", kwargs={"trial_id": f"{participant.trial_id}X"})
    assert client.post(url).status_code == 404
    assert not Allocation.objects.exists()
    assert set(StratumCursor.objects.values_list("last_position", flat=True)) == {0}


def test_a_caller_holding_the_locks_still_cannot_write_a_unique_value_twice(
    allocation_lists, make_participant, staff
):
    manager = staff[Role.TRIAL_MANAGER]
    participant = make_participant("CAM", Status.CONSENTED)
    first, second = AllocationSlot.objects.filter(site__code="CAM").order_by("position")[:2]

    def allocation(who, slot):
        return Allocation(
            participant=who, slot=slot, arm=slot.arm, randomised_on=dt.date(2026, 1, 5), allocated_by=manager
        )

    # Within the batch: refused, naming the row, with nothing written.
    with pytest.raises(ValidationError, match="row 2: the same participant as row 1"):
        record_creations(
            [allocation(participant, first), allocation(participant, second)],
            by=manager,
            reason="randomised",
            unique_held=True,
        )
    assert not Allocation.objects.exists()
    # A stored row the caller was wrong about: the database refuses it, and nothing is written.
    record_creations([allocation(participant, first)], by=manager, reason="randomised")
    with pytest.raises(IntegrityError), transaction.atomic():
        record_creations([allocation(participant, second)], by=manager, reason="randomised", unique_held=True)
    assert Allocation.objects.get().slot == first

"""The pages over the services: unblinding end to end, corrections, backup entry, list download."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import Status
from aftercrisis.randomisation.lists import checksum, parse_csv
from aftercrisis.randomisation.models import Allocation, AllocationSlot, UnblindingRequest

pytestmark = pytest.mark.django_db
NAMES = {"intervention": "Peer-supported self-management", "control": "Workbook by post"}


def test_unblinding_request_approval_and_reveal(client, staff, allocation_lists, make_participant):
    p = make_participant("CAM", Status.RANDOMISED)
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("randomisation:unblinding_request", kwargs={"trial_id": p.trial_id})
    assert "Give the clinical reason" in client.post(url, {"reason": ""}).content.decode()
    assert not UnblindingRequest.objects.exists()
    client.post(url, {"reason": "Admitted; the ward needs to know"})
    mine = reverse("randomisation:my_unblinding")
    assert NAMES[p.allocation.arm] not in client.get(mine).content.decode()

    client.force_login(staff[Role.TRIAL_MANAGER])
    request = UnblindingRequest.objects.get()
    client.post(
        reverse("randomisation:unblinding"), {"request": request.pk, "decision": "approve", "note": ""}
    )
    request.refresh_from_db()
    assert request.status == "approved"

    client.force_login(staff[Role.RESEARCHER])
    assert NAMES[p.allocation.arm] in client.get(mine).content.decode()
    client.force_login(staff[Role.REFERRER])  # another masked user sees nothing of it
    page = client.get(mine).content.decode()
    assert p.trial_id not in page and not any(name in page for name in NAMES.values())


def test_correction_page_needs_a_reason_and_keeps_the_allocation(
    client, staff, allocation_lists, make_participant, sites
):
    p = make_participant("CAM", Status.RANDOMISED)
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("randomisation:correct", kwargs={"trial_id": p.trial_id})
    page = client.post(url, {"kind": "stratum", "reason": "x"}).content.decode()
    assert "Select the correct stratum" in page
    client.post(url, {"kind": "stratum", "site": sites["ISL"].pk, "reason": "referred by Islington"})
    allocation = Allocation.objects.get(participant=p)
    assert allocation.stratum_corrected_to == sites["ISL"] and allocation.arm == allocation.slot.arm


def test_backup_entry_page(client, staff, allocation_lists, make_participant):
    p = make_participant("CAM", Status.CONSENTED)
    client.force_login(staff[Role.TRIAL_MANAGER])
    arm = AllocationSlot.objects.get(site__code="CAM", position=1).arm
    form = {"trial_id": p.trial_id, "position": 3, "arm": arm, "randomised_on": "2026-01-06"}
    page = client.post(reverse("randomisation:backup"), form).content.decode()
    assert "the next backup position at CAM is 1" in page and not Allocation.objects.exists()
    response = client.post(reverse("randomisation:backup"), {**form, "position": 1})
    assert response.status_code == 302
    allocation = Allocation.objects.get(participant=p)
    assert (allocation.source, allocation.matches_list) == ("backup", True)


def test_the_randomisation_statistician_downloads_a_list_that_verifies(client, staff, allocation_lists):
    client.force_login(staff[Role.RANDOMISATION_STATISTICIAN])
    page = client.get(reverse("randomisation:lists")).content.decode()
    text = client.get(reverse("randomisation:export_list")).content.decode()
    assert checksum(text) in page
    lists = parse_csv(
        text, ["intervention", "control"], ["CAM", "ISL", "HAR", "ENF", "BRI", "SLO"], checksum(text)
    )
    assert sum(len(v) for v in lists.values()) == AllocationSlot.objects.count()


def test_unblinding_decision_with_a_damaged_request_id_is_refused(
    client, staff, allocation_lists, make_participant
):
    """Fault 4: a non-numeric `request` id ended in ValueError."""
    p = make_participant("CAM", Status.RANDOMISED)
    client.force_login(staff[Role.RESEARCHER])
    client.post(
        reverse("randomisation:unblinding_request", kwargs={"trial_id": p.trial_id}),
        {"reason": "Admitted; the ward needs to know"},
    )
    open_request = UnblindingRequest.objects.get()
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("randomisation:unblinding")
    for damaged in ["abc", "", "1.5", "-3", str(2**63), "9" * 5000, "²"]:
        response = client.post(url, {"request": damaged, "decision": "approve", "note": ""}, follow=True)
        assert response.redirect_chain == [(url, 302)]
        page = response.content.decode()
        assert "Unblinding request does not match a record on this page" in page or (
            damaged == "" and "Enter the unblinding request" in page
        )
    response = client.post(url, {"request": open_request.pk + 1, "decision": "approve"}, follow=True)
    assert "That unblinding request is no longer open" in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.status == "requested"

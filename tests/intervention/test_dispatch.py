"""The workbook goes to every randomised participant: queued, printed, posted, sometimes returned."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.intervention.dispatch import (
    Dispatched,
    awaiting_dispatch,
    mark_posted,
    mark_returned,
    postal_queue,
    queue_everyone_for_post,
    record_dispatch,
    record_dispatches,
)
from aftercrisis.participants.models import Status
from aftercrisis.participants.services import update_identity
from aftercrisis.workbook.pdf import render_pdf

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 2, 2)


def test_queue_print_post_and_return(allocation_lists, make_participant, staff, core_protocol, tmp_path):
    manager = staff[Role.TRIAL_MANAGER]
    people = [make_participant("CAM", Status.RANDOMISED) for _ in range(3)]
    make_participant("CAM", Status.CONSENTED)  # not randomised: no workbook yet
    for p in people[:2]:
        update_identity(
            p, {"address": "12 Mill Road", "postcode": "NW1 2AB"}, by=manager, reason="address given"
        )
    assert set(awaiting_dispatch()) == set(people)

    handed = record_dispatch(people[2], method="in_person", on=DAY, address_confirmed=True, by=manager)
    assert handed.sent_on == DAY
    with pytest.raises(ValidationError, match="no e-mail address"):
        record_dispatch(people[2], method="email", on=DAY, address_confirmed=False, by=manager)
    assert queue_everyone_for_post(on=DAY, by=manager) == 2
    assert list(awaiting_dispatch()) == []
    queue = list(postal_queue())
    assert [d.participant for d in queue] == people[:2]

    html = render_to_string(
        "intervention/print_batch.jinja", {"queue": queue, "trial": core_protocol, "today": DAY}
    )
    pdf = tmp_path / "batch.pdf"
    pdf.write_bytes(render_pdf(html))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    assert (
        text.count("Your personal recovery workbook") == 2 and text.count("NW1 2AB") == 4
    )  # letters + labels
    # The same letter for both arms: nothing in it tells which arm the reader is in.
    assert not any(a.name in text or a.code in text for a in core_protocol.arms)

    with pytest.raises(ValidationError, match="cannot be before"):
        mark_posted([d.pk for d in queue], on=DAY - dt.timedelta(days=1), by=manager)
    assert mark_posted([d.pk for d in queue], on=DAY + dt.timedelta(days=1), by=manager) == 2
    assert list(postal_queue()) == []
    first = queue[0]
    first.refresh_from_db()
    mark_returned(first, on=DAY + dt.timedelta(days=9), by=manager)
    assert list(awaiting_dispatch()) == [people[0]]  # comes back to be sent again
    with pytest.raises(ValidationError, match="Only a workbook that was posted"):
        mark_returned(handed, on=DAY, by=manager)


def test_dispatches_recorded_together_are_refused_whole(allocation_lists, make_participant, staff):
    manager = staff[Role.TRIAL_MANAGER]
    randomised, waiting = (
        make_participant("CAM", Status.RANDOMISED),
        make_participant("CAM", Status.CONSENTED),
    )
    with pytest.raises(ValidationError, match=f"{waiting.trial_id} has not been randomised"):
        record_dispatches(
            [Dispatched(randomised, "in_person", DAY, True), Dispatched(waiting, "in_person", DAY, True)],
            by=manager,
        )
    assert list(awaiting_dispatch()) == [randomised]


def test_dispatch_ids_too_large_or_damaged_are_refused(client, allocation_lists, make_participant, staff):
    """Fault 3: a hidden `dispatches` value too large for an integer ended in OverflowError."""
    manager = staff[Role.TRIAL_MANAGER]
    person = make_participant("CAM", Status.RANDOMISED)
    update_identity(person, {"address": "12 Mill Road", "postcode": "NW1 2AB"}, by=manager, reason="given")
    queue_everyone_for_post(on=DAY, by=manager)
    queued = postal_queue().get()
    client.force_login(manager)
    page = client.get(reverse("peer_support:dispatch")).content.decode()
    assert f'name="dispatches" value="{queued.pk}"' in page
    posted = reverse("peer_support:posted")
    for damaged in [str(2**63), str(2**64), "9" * 5000, "abc", "-1", "0", "²"]:
        form = {"dispatches": [queued.pk, damaged], "posted_on": "2026-02-03"}
        response = client.post(posted, form, follow=True)
        assert response.redirect_chain == [(reverse("peer_support:dispatch"), 302)]
        assert "Print batch does not match a record on this page" in response.content.decode()
    assert postal_queue().get() == queued
    client.post(posted, {"dispatches": [queued.pk, 2**63 - 1], "posted_on": "2026-02-03"})
    assert not postal_queue().exists()  # an id no record has is ignored, the rest is posted

    returned = reverse("peer_support:participant_dispatch", kwargs={"trial_id": person.trial_id})
    response = client.post(
        returned, {"action": "returned", "dispatch": str(2**64), "returned_on": "2026-02-20"}
    )
    assert response.status_code == 200
    assert "Workbook dispatch does not match a record on this page" in response.content.decode()
    queued.refresh_from_db()
    assert queued.returned_on is None

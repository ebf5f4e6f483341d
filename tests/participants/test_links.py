from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from aftercrisis.participants.links import MAX_FAILED_ATTEMPTS, LinkRefused, issue_link, open_link
from aftercrisis.participants.models import LinkPurpose, ParticipantLink

pytestmark = pytest.mark.django_db


def test_a_link_opens_once_with_its_code(make_participant):
    participant = make_participant()
    issued = issue_link(participant, LinkPurpose.WORKBOOK, by=None)
    assert len(issued.token) >= 43 and len(issued.code) == 6
    stored = ParticipantLink.objects.get()
    assert issued.token not in (stored.token_hash, stored.code_hash) and issued.code != stored.code_hash
    assert open_link(issued.token, issued.code).participant == participant
    with pytest.raises(LinkRefused, match="already been used"):
        open_link(issued.token, issued.code)


def test_expired_unknown_and_wrong_code_links_are_refused(make_participant):
    participant = make_participant()
    expired = issue_link(participant, LinkPurpose.WORKBOOK, by=None, lifetime=dt.timedelta(seconds=-1))
    with pytest.raises(LinkRefused, match="expired"):
        open_link(expired.token, expired.code)
    with pytest.raises(LinkRefused, match="not recognised"):
        open_link("no-such-token", "123456")
    issued = issue_link(participant, LinkPurpose.WORKBOOK, by=None)
    wrong = f"{(int(issued.code) + 1) % 10**6:06d}"
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(LinkRefused, match="not right"):
            open_link(issued.token, wrong)
    with pytest.raises(LinkRefused, match="locked"):
        open_link(issued.token, issued.code)  # even the right code, once locked
    assert ParticipantLink.objects.get(pk=issued.link.pk).used_at is None
    assert expired.link.expires_at < timezone.now()

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.urls import reverse
from tests.conftest import PASSWORD

from aftercrisis.accounts.forms import USERNAME_MAX_LENGTH

pytestmark = pytest.mark.django_db


def test_an_overlong_username_is_refused_before_it_is_tried_or_logged(client, staff):
    response = client.post(reverse("accounts:login"), {"username": "u" * 300, "password": PASSWORD})
    assert response.status_code == 200
    assert f"Username must be {USERNAME_MAX_LENGTH} characters or fewer".encode() in response.content
    assert not AccessAttempt.objects.exists() and not AccessFailureLog.objects.exists()
    assert "_auth_user_id" not in client.session


def test_the_longest_possible_username_is_tried_and_logged(client, staff):
    response = client.post(
        reverse("accounts:login"), {"username": "u" * USERNAME_MAX_LENGTH, "password": "wrong"}
    )
    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "u" * USERNAME_MAX_LENGTH

"""Every date field holds its value as a browser's date input does, so a form sent back unchanged keeps it."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.urls import reverse
from tests.hostile.harness import baseline, forms_of

from aftercrisis.accounts.roles import Role
from aftercrisis.forms import DateInput, NamedErrors

pytestmark = pytest.mark.django_db


class _Dated(NamedErrors, forms.Form):
    on = forms.DateField(label="Date", widget=DateInput)


def test_a_preset_date_is_shown_as_a_date_input_takes_it(settings):
    settings.LANGUAGE_CODE = "en-gb"  # whose own date format is 30/11/2026
    html = str(_Dated(initial={"on": dt.date(2026, 11, 30)})["on"])
    assert 'type="date"' in html and 'value="2026-11-30"' in html
    assert _Dated({"on": "2026-11-30"}).is_valid()


def test_changing_a_phone_number_keeps_the_date_of_birth(client, make_participant, staff):
    participant = make_participant("CAM")
    client.force_login(staff[Role.TRIAL_MANAGER])
    url = reverse("participants:edit_identity", kwargs={"trial_id": participant.trial_id})
    form = next(f for f in forms_of(client.get(url).content.decode()) if f.method == "post")
    data = baseline(form) | {"phone": "07700 900999", "reason": "participant's new number"}
    assert data["date_of_birth"] == "1985-06-01"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    participant.identity.refresh_from_db()
    assert participant.identity.phone == "07700 900999"
    assert participant.identity.date_of_birth == dt.date(1985, 6, 1)

"""Error messages name the field in the user's words, on the field they are about."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse

from aftercrisis.accounts.roles import Role
from aftercrisis.forms import NamedErrors
from aftercrisis.outcomes.forms import EpisodeForm
from aftercrisis.participants.models import Status

pytestmark = pytest.mark.django_db


class _Form(NamedErrors, forms.Form):
    nhs_number = forms.CharField(label="NHS number")
    referred_on = forms.DateField(label="Date of referral")
    site = forms.ChoiceField(label="Crisis resolution team", choices=[("CAM", "Cambridge")])
    how = forms.ChoiceField(label="How the answers came back", choices=[("post", "Post")])
    capacity = forms.BooleanField(label="I confirm the person has capacity to give informed consent")


def test_a_missing_answer_is_named_as_the_user_reads_it():
    errors = _Form({}).errors
    assert errors["nhs_number"] == ["Enter the NHS number"]
    assert errors["referred_on"] == ["Enter the date of referral"]
    assert errors["site"] == ["Select the crisis resolution team"]
    assert errors["how"] == ["Select how the answers came back"]
    assert errors["capacity"] == [
        "Tick “I confirm the person has capacity to give informed consent” to go on"
    ]


def test_an_end_before_the_start_is_an_error_on_the_end_date():
    form = EpisodeForm(
        {"setting": "ward", "start": "2026-03-10", "end": "2026-03-01", "source": "clinical_records"},
        settings=[("ward", "Psychiatric inpatient ward")],
    )
    assert form.errors["end"] == ["The end date must be the same as or after the start date"]


def test_the_episode_page_says_so_and_records_nothing(client, allocation_lists, make_participant, staff):
    participant = make_participant("CAM", Status.RANDOMISED)
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("outcomes:episodes", kwargs={"trial_id": participant.trial_id})
    page = client.post(
        url,
        {
            "setting": "inpatient_ward",
            "start": "2026-03-10",
            "end": "2026-03-01",
            "source": "clinical_records",
        },
    ).content.decode()
    assert 'id="id_end-error"' in page and "The end date must be the same as or after the start date" in page
    assert not participant.acute_episodes.exists()

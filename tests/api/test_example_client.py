"""examples/api_client.py against a running application, with a researcher's token."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest
from django.utils import timezone
from tests.conftest import ROOT

from aftercrisis.accounts.roles import Role
from aftercrisis.api.tokens import issue_token
from aftercrisis.outcomes.models import AcuteCareEpisode

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_example_client_lists_due_visits_and_records_an_episode(
    live_server, staff, supported, monkeypatch, capsys, tmp_path
):
    participant = supported()
    today = timezone.localdate()
    issued = issue_token(
        staff[Role.RESEARCHER],
        name="example",
        role=Role.RESEARCHER,
        expires_on=today + dt.timedelta(days=1),
        today=today,
    )
    spec = importlib.util.spec_from_file_location("api_client", ROOT / "examples" / "api_client.py")
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    monkeypatch.setattr(client, "BASE", live_server.url + "/api/v1")
    monkeypatch.setattr(client, "TOKEN", issued.secret)
    monkeypatch.chdir(tmp_path)
    assert client.main() == 0
    out = capsys.readouterr().out
    assert f"{participant.trial_id} (CAM)" in out and "1 recorded" in out
    assert "analysis dataset: 403 Forbidden" in out  # a researcher is masked
    assert f"{AcuteCareEpisode.objects.get().participant.trial_id} (CAM)" in out

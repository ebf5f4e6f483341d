"""examples/api_client.py against the demo through a running application, with the tokens its docstring names:
researcher1's for the worklist and the episode, the trial manager's for the analysis dataset."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util

import pytest
from django.utils import timezone
from tests.conftest import ROOT

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role
from aftercrisis.api.tokens import issue_token
from aftercrisis.outcomes.models import AcuteCareEpisode
from aftercrisis.randomisation.models import Allocation

pytestmark = pytest.mark.django_db(transaction=True)


def _token(username: str, role: Role) -> str:
    today = timezone.localdate()
    user = User.objects.get(username=username)
    return issue_token(
        user, name="example", role=role, expires_on=today + dt.timedelta(days=1), today=today
    ).secret


def test_the_example_client_lists_due_visits_records_an_episode_and_downloads_the_dataset(
    live_server, demo, monkeypatch, capsys, tmp_path
):
    spec = importlib.util.spec_from_file_location("api_client", ROOT / "examples" / "api_client.py")
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    monkeypatch.setenv("AFTERCRISIS_URL", live_server.url)
    monkeypatch.setenv("AFTERCRISIS_TOKEN", _token("researcher1", Role.RESEARCHER))
    monkeypatch.setenv("AFTERCRISIS_DATASET_TOKEN", _token("manager", Role.TRIAL_MANAGER))
    monkeypatch.chdir(tmp_path)

    assert client.main([]) == 0
    out = capsys.readouterr().out
    episode = AcuteCareEpisode.objects.get(source_reference__startswith="example-")
    trial_id = episode.participant.trial_id
    assert "worklist: " in out and f"  {trial_id} ({episode.participant.site.code}): m18" in out
    assert (
        f"episode: a crisis house stay from {episode.start} to {episode.end} recorded for {trial_id}" in out
    )
    with open(tmp_path / "analysis-dataset.csv", newline="") as written:
        rows = list(csv.DictReader(written))
    assert len(rows) == Allocation.objects.count() and trial_id in {r["participant_id"] for r in rows}
    assert f"analysis dataset: {len(rows)} rows written to analysis-dataset.csv" in out

    # Run again with the researcher's token alone: the same episode is not recorded twice, and the dataset
    # step says which token it needs; the exit status says a request was refused.
    (tmp_path / "analysis-dataset.csv").unlink()
    monkeypatch.delenv("AFTERCRISIS_DATASET_TOKEN")
    assert client.main(["--visit", "m18"]) == 1
    out = capsys.readouterr().out
    assert "participants due the m18 visit" in out and "has already been imported" in out
    assert "analysis dataset: 403 Forbidden" in out and "needs the trial manager's token" in out
    assert AcuteCareEpisode.objects.filter(source_reference__startswith="example-").count() == 1
    assert not (tmp_path / "analysis-dataset.csv").exists()

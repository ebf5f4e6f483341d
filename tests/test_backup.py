"""Backups restore: `aftercrisis backup`, then a restore into an empty database that matches the manifest.

Runs on SQLite and, in CI's PostgreSQL pass, with pg_dump and pg_restore. The data is committed
(a transactional test), since pg_dump reads from its own connection.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from tests.server import fresh_database

from aftercrisis.backup import BackupError, Database, read_manifest, restore, verify
from aftercrisis.cli import main
from aftercrisis.participants.models import Participant
from aftercrisis.randomisation.models import Allocation

pytestmark = pytest.mark.django_db(transaction=True)


def _target(url: str) -> Database:
    import dj_database_url

    return Database.from_settings(dj_database_url.parse(url))


def test_a_backup_restores_into_an_empty_database_and_matches_its_manifest(supported, tmp_path, capsys):
    supported()
    assert main(["backup", str(tmp_path / "backups")]) == 0
    assert "Backed up" in capsys.readouterr().out
    (manifest_path,) = (tmp_path / "backups").glob("*.json")
    manifest, data = read_manifest(manifest_path)
    assert data.is_file() and data.suffix == (".sqlite3" if manifest["engine"] == "sqlite" else ".pgdump")
    tables = manifest["tables"]
    assert tables["participants_participant"]["rows"] == Participant.objects.count() > 0
    assert tables["randomisation_allocation"]["rows"] == Allocation.objects.count() > 0
    assert tables["participants_historicalparticipant"]["rows"] >= 1  # the audit history travels too
    assert tables["django_migrations"]["rows"] > 0

    with fresh_database(tmp_path) as url:
        restored = restore(data, _target(url))
        assert restored.mismatches == []
        assert restored.tables == len(tables)
        assert restored.rows == sum(t["rows"] for t in tables.values())

        # A change after the restore is found, named by its table.
        connection = _target(url).connect()
        with connection:
            connection.cursor().execute("UPDATE participants_participant SET trial_id = trial_id || 'X'")
        connection.close()
        assert verify(manifest, _target(url)).mismatches == [
            "participants_participant: the rows differ from the manifest's checksum"
        ]
        # The restored database is no longer empty: a second restore is refused and changes nothing.
        with pytest.raises(
            BackupError, match=r"already holds \d+ tables; restore only into an empty database"
        ):
            restore(manifest_path, _target(url))


def test_restore_refuses_a_database_in_use_and_a_damaged_backup(supported, tmp_path, capsys):
    supported()
    assert main(["backup", str(tmp_path)]) == 0
    (manifest_path,) = tmp_path.glob("*.json")
    before = verify(
        json.loads(manifest_path.read_text()), Database.from_settings(settings.DATABASES["default"])
    )
    assert before.mismatches == []

    assert main(["restore", str(manifest_path)]) == 1
    assert "restore only into an empty database (nothing was changed)" in capsys.readouterr().err

    _, data = read_manifest(manifest_path)
    with data.open("r+b") as f:
        f.seek(200)
        f.write(b"\x00damaged\x00")
    with (
        fresh_database(tmp_path) as url,
        pytest.raises(BackupError, match="not the file the manifest describes"),
    ):
        restore(data, _target(url))

"""The screening log's index, added by a migration of its own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("recruitment", "0001_squashed_0002_screened_count_in_range")
AFTER = ("recruitment", "0003_screening_newest_first")


def _indexes() -> dict[str, dict]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "recruitment_screening")
    return {name: c for name, c in found.items() if c["index"] and not c["unique"] and not c["primary_key"]}


@pytest.mark.django_db(transaction=True)
def test_the_screening_logs_index_is_added_and_removed_by_its_migration():
    """recruitment 0003 adds the screening log's order, newest first, as an index to a database made before
    it, and taking it back removes it."""
    assert "screening_newest_first" in _indexes()
    try:
        MigrationExecutor(connection).migrate([BEFORE])
        assert "screening_newest_first" not in _indexes()
    finally:
        MigrationExecutor(connection).migrate([AFTER])
    index = _indexes()["screening_newest_first"]
    assert index["columns"] == ["screened_on", "id"] and index["orders"] == ["DESC", "DESC"]

"""/healthz: 200 when the database answers and every migration is applied, 503 saying what is wrong."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db


def test_healthy_without_signing_in(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_pending_migrations_make_it_unavailable(client, monkeypatch):
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("m", False), ("n", False)]
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "problems": ["2 migrations not applied: run `aftercrisis manage migrate`"],
    }


def test_an_unreachable_database_makes_it_unavailable(client, monkeypatch):
    def refuse(self, *args):
        raise OperationalError("connection to server at 10.0.0.1 failed: password for user trial")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "problems": ["database unavailable: OperationalError"],
    }

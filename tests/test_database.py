"""How the application's database connections are set up."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_postgresql_compiles_no_query_plans():
    """A page's short queries would wait for PostgreSQL to compile a plan it estimates costly (jit)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (the PostgreSQL pass of CI)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_sqlite_enforces_foreign_keys():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone() == (1,)

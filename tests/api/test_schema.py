"""Schemathesis against the API's own OpenAPI schema, fetched from the running application: for every
operation and two roles' tokens, generated requests (valid and not) get no server error, and every answer matches the
schema in status, content type and body."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from aftercrisis.accounts.roles import Role
from aftercrisis.api.tokens import issue_token
from aftercrisis.config.wsgi import application

pytestmark = pytest.mark.django_db

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture(params=[Role.TRIAL_MANAGER, Role.RESEARCHER], ids=lambda role: role.value)
def token(request, staff, supported, settings):
    """A token of a role that sees arms and of one that is masked (and refers), over a trial with a
    randomised participant; the rate is not limited here."""
    settings.API_RATE_LIMIT = (10**6, 60)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    supported()
    today = timezone.localdate()
    issued = issue_token(
        staff[request.param], name="schemathesis", role=request.param,
        expires_on=today + dt.timedelta(days=1), today=today,
    )  # fmt: skip
    return issued.secret


def test_the_api_keeps_to_its_schema(token):
    headers = {"Authorization": f"Bearer {token}"}
    # Requests run inside the test's transaction, as the test client's do.
    request_started.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, headers=headers)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def keeps_to_schema(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            keeps_to_schema()
    finally:
        request_started.connect(close_old_connections)

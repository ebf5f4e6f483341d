"""Every write route while the database is locked: never a server error, and no change to trial data.

Routes come from the URL configuration and who may use them from the permission matrix, so a new
route is covered without touching this file. Each is sent what its own form would send, filled in
plausibly, for a participant at each stage of the trial.
"""

from __future__ import annotations

import pytest
from tests.hostile.harness import Form, baseline, forms_of, route_of, snapshot, target
from tests.hostile.test_forms import PARTICIPANT, PARTICIPANT_PAGES, STAGES, _sign_in
from tests.test_permissions import MATRIX, NOT_ALLOWED, OK, ROLES, _routes, url_of

from aftercrisis.accounts.roles import Role
from aftercrisis.lock.models import DatabaseLockEvent, LockAction

pytestmark = pytest.mark.django_db

# Staff and sites are not trial data: the trial manager manages them while the database is locked (a
# leaver disabled, the statistician who analyses sent a sign-in link).
TRIAL_APPS = {
    "participants",
    "recruitment",
    "randomisation",
    "intervention",
    "workbook",
    "followup",
    "outcomes",
    "queries",
}


def _who(name: str) -> str:
    """A role that may use the route (one it may only POST to counts), else the trial manager."""
    if name in PARTICIPANT_PAGES:
        return PARTICIPANT
    role = next((r for r in ROLES if MATRIX[name][r] in (OK, NOT_ALLOWED)), Role.TRIAL_MANAGER)
    return role.value if role else "anonymous"


def _trial_data() -> dict[str, object]:
    return {table: state for table, state in snapshot().items() if table.split(".")[0] in TRIAL_APPS}


def _plausible(form: Form) -> dict[str, str | list[str]]:
    """What a person would send: the form's own values, boxes ticked and free text written."""
    data = baseline(form)
    for field in form.fields.values():
        if field.kind in {"checkbox", "multi"} and field.name not in data and field.options:
            data[field.name] = [field.options[0]]
        elif field.kind == "textarea" and not str(data.get(field.name, "")).strip():
            data[field.name] = "Agreed with the participant"
    return data


def _submissions(client, staff, participant, name: str, who: str) -> list[tuple[str, dict]]:
    """What the forms that send to this route would send, and where: from the route's own page, or,
    for a route that only takes a POST (randomise is a button on the participant's page), from every
    page the role may open."""
    url = url_of(name, participant, staff)
    role = None if who in ("anonymous", PARTICIPANT) else Role(who)
    if who == PARTICIPANT or MATRIX[name][role] != NOT_ALLOWED:
        pages = [url]
    else:
        pages = [url_of(other, participant, staff) for other, row in MATRIX.items() if row[role] == OK]
    found = []
    for page in pages:
        response = client.get(page)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        for form in forms_of(response.content.decode()):
            if form.method == "post" and route_of(target(form, page)) == name:
                found.append((target(form, page), _plausible(form)))
    return found or [(url, {})]


CASES = sorted((name, _who(name)) for name in MATRIX)


@pytest.mark.parametrize(("name", "who"), CASES)
def test_a_write_while_locked_is_refused_without_a_server_error(
    client, staff, supported, make_participant, name, who
):
    sample = supported()
    _sign_in(client, staff, sample, name, who)
    participants = [sample]
    if who != PARTICIPANT and "<str:trial_id>" in _routes()[name]:
        participants += [make_participant("CAM", stage) for stage in STAGES]
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    sent = [s for participant in participants for s in _submissions(client, staff, participant, name, who)]
    before = _trial_data()
    answers = [(url, client.post(url, data).status_code) for url, data in sent]
    assert [(url, code) for url, code in answers if code >= 500] == []
    after = _trial_data()
    assert [table for table in after if after[table] != before[table]] == []

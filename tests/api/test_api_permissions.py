"""Every route of the API against every role's token: the status each gets, and, for the masked roles,
no arm anywhere in what they get. A route missing here fails `test_every_api_route_is_in_the_matrix`."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone
from tests.conftest import fresh_nhs_number

from aftercrisis.accounts.roles import Role
from aftercrisis.api.api import DATASET_FORMATS, api
from aftercrisis.api.tokens import issue_token

pytestmark = pytest.mark.django_db

ROLES = [
    None,
    Role.TRIAL_MANAGER,
    Role.RESEARCHER,
    Role.PEER_SUPPORT_WORKER,
    Role.STATISTICIAN,
    Role.REFERRER,
    Role.CHIEF_INVESTIGATOR,
    Role.RANDOMISATION_STATISTICIAN,
]
MASKED = {Role.RESEARCHER, Role.STATISTICIAN, Role.REFERRER, Role.CHIEF_INVESTIGATOR}


def row(manager, researcher, psw, statistician, referrer, chief, lists=403):
    """None, who sends no token, always gets 401."""
    return dict(
        zip(ROLES, [401, manager, researcher, psw, statistician, referrer, chief, lists], strict=True)
    )


#                                                            manager researcher psw  statistician referrer chief
API_MATRIX = {
    ("GET", "/participants"):                               row(200, 200, 403, 403, 403, 403),
    ("GET", "/participants/{trial_id}"):                    row(200, 200, 403, 403, 403, 403),
    ("GET", "/participants/{trial_id}/visits"):             row(200, 200, 403, 403, 403, 403),
    ("GET", "/participants/{trial_id}/questionnaires"):     row(200, 200, 403, 403, 403, 403),
    # A masked role is told the allocation does not exist, as for a participant not randomised.
    ("GET", "/participants/{trial_id}/allocation"):         row(200, 404, 403, 403, 403, 403),
    ("POST", "/participants/{trial_id}/randomise"):         row(200, 403, 403, 403, 403, 403),
    # Sessions reveal the arm: to a masked role there are none, as for a participant of the other arm.
    ("GET", "/participants/{trial_id}/sessions"):           row(200, 404, 200, 403, 403, 403),
    ("GET", "/worklist"):                                   row(403, 200, 403, 403, 403, 403),
    ("POST", "/referrals"):                                 row(403, 201, 403, 403, 201, 403),
    ("POST", "/episodes"):                                  row(201, 201, 403, 403, 403, 403),
    ("GET", "/serious-adverse-events"):                     row(200, 200, 403, 403, 403, 200),
    ("POST", "/serious-adverse-events"):                    row(201, 201, 403, 403, 403, 403),
    ("GET", "/deaths"):                                     row(200, 200, 403, 403, 403, 403),
    ("POST", "/deaths"):                                    row(201, 201, 403, 403, 403, 403),
    ("GET", "/report-snapshots"):                           row(200, 403, 403, 200, 403, 403),
    # The dataset holds the arm: the statistician has it only once the database is locked.
    ("GET", "/analysis-dataset.csv"):                       row(200, 403, 403, 403, 403, 403),
    ("GET", "/analysis-dataset.parquet"):                   row(200, 403, 403, 403, 403, 403),
    # For the roles that open participants' records or download every form's data; the arm only to some.
    ("GET", "/fhir/Bundle"):                                row(200, 200, 403, 200, 403, 403),
}  # fmt: skip


def api_routes() -> set[tuple[str, str]]:
    return {
        (method, path)
        for _, router in api._routers
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }


def test_every_api_route_is_in_the_matrix():
    routes = api_routes()
    assert routes - set(API_MATRIX) == set(), "API routes missing from the matrix"
    assert set(API_MATRIX) - routes == set(), "matrix rows for API routes that no longer exist"


_references = itertools.count(1)


def _body(path: str, sample, another) -> dict | None:
    """What a write sends; `another` makes a participant for a write that may be made once per participant."""
    today = timezone.localdate()
    if path == "/referrals":
        return {
            "site": "CAM", "given_name": "Jo", "family_name": "Bloggs", "nhs_number": fresh_nhs_number(),
            "date_of_birth": "1980-03-31", "referred_on": today.isoformat(),
        }  # fmt: skip
    if path == "/episodes":
        start = sample.allocation.randomised_on + dt.timedelta(days=10)
        episode = {"trial_id": sample.trial_id, "setting": "crisis_house", "start": start.isoformat()}
        return {"episodes": [{**episode, "source_reference": f"matrix-{next(_references)}"}]}
    if path == "/serious-adverse-events":
        return {
            "trial_id": sample.trial_id, "category": "hospital_admission", "onset": today.isoformat(),
            "description": "admitted overnight", "seriousness": "hospitalisation",
            "relatedness": "not_related", "expectedness": "expected",
        }  # fmt: skip
    if path == "/deaths":
        return {"trial_id": another().trial_id, "died_on": today.isoformat(), "cause": "natural"}
    return None


def _arms_in(value, arms: set[str]) -> list[str]:
    """Every arm field, and every value that is an arm code, anywhere in a JSON answer but a FHIR
    ResearchStudy's list of the trial's arms, which the protocol makes public."""
    if isinstance(value, dict):
        if value.get("resourceType") == "ResearchStudy":
            return []
        found = ["arm"] if "arm" in value else []
        return found + [f for v in value.values() for f in _arms_in(v, arms)]
    if isinstance(value, list):
        return [f for v in value for f in _arms_in(v, arms)]
    return [value] if value in arms else []


@pytest.mark.parametrize("method, path", sorted(API_MATRIX))
def test_api_route_outcome_for_every_role(client, staff, supported, core_protocol, method, path):
    sample = supported()
    url = "/api/v1" + path.replace("{trial_id}", sample.trial_id)
    today = timezone.localdate()
    arms = set(core_protocol.arm_codes)
    seen = {}
    for role in ROLES:
        headers = {"HTTP_IDEMPOTENCY_KEY": f"matrix-{role}"}
        if role is not None:
            issued = issue_token(
                staff[role], name="matrix", role=role, expires_on=today + dt.timedelta(days=1), today=today
            )
            headers["HTTP_AUTHORIZATION"] = f"Bearer {issued.secret}"
        body = _body(path, sample, supported)
        if method == "POST":
            response = client.post(url, body or {}, content_type="application/json", **headers)
        else:
            response = client.get(url, **headers)
        seen[role] = response.status_code
        if role in MASKED and response["Content-Type"] in DATASET_FORMATS.values():
            pytest.fail(f"{role} got the analysis dataset")
        if role in MASKED and response["Content-Type"].startswith("application/"):
            assert _arms_in(response.json(), arms) == [], (role, path)
    assert seen == API_MATRIX[(method, path)]

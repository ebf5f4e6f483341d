"""Every form of every role, found on the pages of the URL configuration, sent hostile values.

For each route a role may open (the permission matrix says which), the page is read and each of its
forms is sent empty, too long, out-of-range, wrong-type, wrong-choice, impossible-date and injection
values, one field at a time. No answer may be a server error; a refusal changes nothing; whatever is
accepted is something PostgreSQL also stores (this module runs again on PostgreSQL in CI).
A new page, or a new field on a page, is covered without touching this file.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from tests.hostile.harness import Form, attack, forms_of, route_of, target, upload_corpus
from tests.test_permissions import MATRIX, OK, ROLES, _routes, url_of

from aftercrisis.accounts.models import Site
from aftercrisis.accounts.roles import Role
from aftercrisis.intervention.dispatch import mark_posted, queue_everyone_for_post
from aftercrisis.intervention.models import Dispatch
from aftercrisis.outcomes.models import EpisodeSource
from aftercrisis.outcomes.services import EpisodeDraft, record_episodes
from aftercrisis.participants.links import issue_link
from aftercrisis.participants.models import Identity, LinkPurpose, Status
from aftercrisis.randomisation.unblinding import request_unblinding

pytestmark = pytest.mark.django_db

PARTICIPANT = "participant"
# The participant's own pages open in a session started by a link and its code, not a staff sign-in.
PARTICIPANT_PAGES = {
    "workbook:mine": LinkPurpose.WORKBOOK,
    "workbook:section": LinkPurpose.WORKBOOK,
    "followup:my_questionnaires": LinkPurpose.QUESTIONNAIRES,
}
OPEN_LINK = {
    LinkPurpose.WORKBOOK: "workbook:open",
    LinkPurpose.QUESTIONNAIRES: "followup:open_questionnaires",
}
# A participant's pages show different forms as they go along: each route is read for one at each stage.
STAGES = [Status.REFERRED, Status.SCREENED, Status.CONSENTED]

ANONYMOUS = "anonymous"


def who_may_open(name: str) -> list[str]:
    staff = [role.value if role else ANONYMOUS for role in ROLES if MATRIX[name][role] == OK]
    return staff + ([PARTICIPANT] if name in PARTICIPANT_PAGES else [])


ROUTES = sorted(name for name in MATRIX if who_may_open(name))


def _sign_in(client, staff, sample, name: str, who: str) -> None:
    client.logout()
    if who == PARTICIPANT:
        purpose = PARTICIPANT_PAGES[name]
        issued = issue_link(sample, purpose, by=None)
        opened = client.post(
            reverse(OPEN_LINK[purpose], kwargs={"token": issued.token}), {"code": issued.code}
        )
        assert opened.status_code == 302, "the participant's link did not open"
    elif who != ANONYMOUS:
        client.force_login(staff[Role(who)])


def _attacked_elsewhere(form: Form, page_url: str, name: str, who: str) -> bool:
    """A form that sends to another page this role can open is attacked on that page (the sign-out
    button on every page is attacked once, on the sign-out page)."""
    route = route_of(target(form, page_url))
    if route is None or route == name or route not in MATRIX or who in {ANONYMOUS, PARTICIPANT}:
        return False
    return MATRIX[route][Role(who)] == OK


def forms_to_attack(client, staff, participants, name: str, who: str) -> dict[tuple, tuple[Form, str]]:
    """The distinct forms the route's page shows this role, for each participant that it opens for
    (the first must open)."""
    found: dict[tuple, tuple[Form, str]] = {}
    for n, participant in enumerate(participants):
        url = url_of(name, participant, staff)
        response = client.get(url)
        if n == 0:
            assert response.status_code == 200, f"{name} as {who}: {response.status_code}"
        if response.status_code != 200:
            continue
        html = response["Content-Type"].startswith("text/html")
        for form in forms_of(response.content.decode()) if html else []:
            fields = [
                f for f in form.fields.values() if f.kind != "submit" and f.name != "csrfmiddlewaretoken"
            ]
            if form.method == "get" and not fields:
                continue
            if _attacked_elsewhere(form, url, name, who):
                continue
            found.setdefault((form.method, route_of(target(form, url)), form.signature), (form, url))
        if not html or "<str:trial_id>" not in _routes()[name]:
            break  # a file has no forms; a page without a participant is the same for all
    return found


def records_behind_forms(sample, make_participant, staff, actor_of, core_protocol) -> list:
    """The records some forms need before they appear: an unblinding request to decide, two episodes
    to reconcile, workbooks waiting, queued and posted, questionnaires due. Returns the participants
    made, each at a stage whose pages show different forms."""
    manager, researcher = staff[Role.TRIAL_MANAGER], staff[Role.RESEARCHER]
    today = timezone.localdate()
    request_unblinding(
        actor_of(Role.RESEARCHER), sample, reason="clinical emergency", by=researcher, notify=False
    )
    drafts = [
        EpisodeDraft(sample, "inpatient_ward", dt.date(2026, 3, 1), None, "", source, "", "form")
        for source in [EpisodeSource.CLINICAL_RECORDS, EpisodeSource.SELF_REPORT]
    ]
    record_episodes(actor_of(Role.RESEARCHER), core_protocol, drafts, by=researcher, today=today)
    posted = make_participant("CAM", Status.RANDOMISED)
    due = make_participant(
        "CAM", Status.RANDOMISED, on=today - dt.timedelta(days=core_protocol.visit("m4").day)
    )
    Identity.objects.filter(participant__in=[sample, posted]).update(
        address="1 High Street", postcode="CB1 1AA"
    )
    queue_everyone_for_post(on=today, by=manager)
    mark_posted([Dispatch.objects.get(participant=posted).pk], on=today, by=manager)
    return [*(make_participant("CAM", s) for s in STAGES), posted, due]


def _shown_dates(form: Form) -> list[str]:
    """A date input shows only a YYYY-MM-DD value; a browser shows any other as an empty field."""
    return [
        f"date field {f.name} holds {v!r}, which a browser shows as empty"
        for f in form.fields.values()
        if f.kind == "date"
        for v in f.default
        if v and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)
    ]


@pytest.mark.parametrize("name", ROUTES)
def test_hostile_values_in_every_form(
    client, staff, supported, make_participant, actor_of, core_protocol, name
):
    """Each role that may open the page, and each form once: the same form shown to two roles is
    attacked as the first."""
    sample = supported()
    others = records_behind_forms(sample, make_participant, staff, actor_of, core_protocol)
    uploads = upload_corpus(sample.trial_id, core_protocol.outcomes.acute_care_settings[0].code)
    attacked = set()
    problems = []
    for who in who_may_open(name):
        _sign_in(client, staff, others[-1] if name == "followup:my_questionnaires" else sample, name, who)
        participants = [sample] if who == PARTICIPANT else [sample, *others]
        for key, (form, url) in forms_to_attack(client, staff, participants, name, who).items():
            if key not in attacked:
                attacked.add(key)
                problems.extend(f"as {who}, {url}: {p}" for p in _shown_dates(form))
                problems.extend(f"as {who}, {p}" for p in attack(client, form, url, uploads))
    assert not problems, "\n".join(problems)


# The check itself can fail.

FORM = (
    '<form method="post"><input type="number" name="count" value="3"><input name="name" value="Cambridge">'
    '<select name="kind"><option value="a">A</option></select><button>Save</button></form>'
)


@csrf_exempt
def _careless(request: HttpRequest) -> HttpResponse:
    """Fails on a count that is not a number, writes what it then refuses, stores names unchecked,
    and then fails to show a name that is not ASCII."""
    for site in Site.objects.all():
        site.name.encode("ascii")
    if request.method == "POST":
        count = int(request.POST["count"])
        Site.objects.create(code=f"S{count % 100}", name=request.POST["name"], trust="A trust")
        if count < 0:
            return HttpResponse(f'<p class="nhsuk-error-message">Enter a count of 0 or more</p>{FORM}')
    return HttpResponse(FORM)


urlpatterns = [path("careless/", _careless)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_careless_form_is_caught(client):
    [form] = forms_of(client.get("/careless/").content.decode())
    problems = "\n".join(attack(client, form, "/careless/"))
    assert 'POST /careless/ count="abc": server error ValueError: invalid literal for int()' in problems
    assert 'count="-1": refused (200) but changed accounts.historicalsite, accounts.site' in problems
    assert 'name="\\u202eevil", then GET /careless/: server error UnicodeEncodeError' in problems
    # SQLite stores these and the check of stored values finds them; PostgreSQL refuses them itself.
    too_long = re.search(r'POST /careless/ name="x{40,}.*: (.*)', problems)
    nul = re.search(r'POST /careless/ name="nul.*: (.*)', problems)
    assert too_long and re.search("300 characters in a column of 120|value too long", too_long[1])
    assert nul and re.search("a NUL character|NUL", nul[1])
    assert Site.objects.count() == 0


def test_the_crawl_finds_the_forms_that_need_records(
    client, staff, supported, make_participant, actor_of, core_protocol
):
    """The forms that appear only once there is something to act on are found, with their fields."""
    sample = supported()
    participants = [sample, *records_behind_forms(sample, make_participant, staff, actor_of, core_protocol)]
    client.force_login(staff[Role.TRIAL_MANAGER])
    found = {
        key[1]: form
        for name in ["randomisation:unblinding", "peer_support:dispatch", "outcomes:reconcile", "peer_support:participant_dispatch"]
        for key, (form, _) in forms_to_attack(client, staff, participants, name, Role.TRIAL_MANAGER.value).items()
    }  # fmt: skip
    assert "request" in found["randomisation:unblinding"].fields
    assert "dispatches" in found["peer_support:posted"].fields
    assert "pair" in found["outcomes:reconcile"].fields
    assert {"dispatch", "returned_on"} <= set(found["peer_support:participant_dispatch"].fields)
    kinds = {f.kind for form in found.values() for f in form.fields.values()}
    assert {"date", "hidden", "text", "choice"} <= kinds

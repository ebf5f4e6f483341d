"""A masked role must never learn an arm: crawl every page each masked role may open in the demo."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections import Counter
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from tests.test_permissions import MATRIX, OK, url_of

from aftercrisis.accounts.models import RoleAssignment, User
from aftercrisis.accounts.roles import Role
from aftercrisis.participants.models import Participant

pytestmark = pytest.mark.django_db

MASKED = ["researcher1", "researcher2", "statistician", "referrer.cam", "chief"]
UNBLINDED = ["manager"]
NEVER_FOLLOW = ("/account/logout/",)
# Pages of one kind (one participant's 4-month visit, another's) are made alike: a few of each, rather
# than the first 400 links of one long list, let the crawl open every page its role may open.
PER_KIND = 8
# Pages a masked role may open that the crawl leaves out, and why.
NOT_CRAWLED = {
    "accounts:logout": "signing out would end the crawl",
    "accounts:set_password": "opens only from a sign-in link sent by e-mail",
    "workbook:open": "a participant's own link, opened with the code sent to them",
    "followup:open_questionnaires": "a participant's own link, opened with the code sent to them",
}
# Pages a masked role may open that no page of the demo links to for it, and why: the crawl starts there too.
UNLINKED = {
    "healthz": "the load balancer's probe",
    "accounts:two_factor": "where signing in sends a role that may see an arm",
    "recruitment:consent": "no participant at researcher1's sites (CAM, ISL) is screened and awaits consent",
    "recruitment:decline": "no participant at researcher1's sites (CAM, ISL) is screened and may decline",
    "reporting:snapshot": "the demo has kept no trial report (url_of keeps a blinded one)",
}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _arm_patterns(protocol) -> list[re.Pattern[str]]:
    words = [a.code for a in protocol.arms] + [a.name for a in protocol.arms]
    words += ["Allocation", "allocated to", "Arm"]
    return [
        re.compile(rf"(?<![\w-]){re.escape(w)}(?![\w-])", re.IGNORECASE if w[0].islower() else 0)
        for w in words
    ]


def _zip_text(body: bytes) -> str:
    """A bundle's text members (its CSVs carry what its Parquet and Stata files hold)."""
    archive = zipfile.ZipFile(io.BytesIO(body))
    return "\n".join(
        f"{name}\n{archive.read(name).decode()}"
        for name in archive.namelist()
        if name.endswith((".csv", ".txt"))
    )


def _text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type") == "application/zip":
        return _zip_text(body)
    if response.get("Content-Type") == "application/pdf":  # read as printed (poppler, installed at set-up)
        return subprocess.run(
            ["pdftotext", "-", "-"], input=body, capture_output=True, check=True
        ).stdout.decode()
    return body.decode()


def _kind(path: str) -> str:
    """The route and what it is asked to show (a form, a visit), not whose it is (a participant, a record)."""
    try:
        match = resolve(urlparse(path).path)
    except Resolver404:
        return path
    shown = sorted((k, v) for k, v in match.kwargs.items() if k not in ("trial_id", "pk"))
    return " ".join([match.view_name, *(f"{k}={v}" for k, v in shown)])


def crawl(username: str, limit: int = 400, also: Iterable[str] = ()) -> tuple[dict[str, str], set[str]]:
    """Same-site pages and downloads reachable by following links from the home page (and from `also`),
    at most PER_KIND of each kind; with the names of the routes that answered with a page (status 200)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    seen: dict[str, str] = {}
    opened: set[str] = set()
    queue: list[str] = []
    queued: set[str] = set()
    per_kind: Counter[str] = Counter()

    def enqueue(url: str) -> None:
        parts = urlparse(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        kind = _kind(path)
        if path in queued or path.startswith((*NEVER_FOLLOW, "/static/")) or per_kind[kind] == PER_KIND:
            return
        queued.add(path)
        per_kind[kind] += 1
        queue.append(path)

    for url in ("/", *also):
        enqueue(url)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        response = client.get(path, follow=True)
        seen[path] = text = _text(response)
        if response.status_code == 200:
            opened.add(response.resolver_match.view_name)
        if response.get("Content-Type", "").startswith("text/html"):
            parser = _Links()
            parser.feed(text)
            for href in parser.links:
                if not href.startswith(("http", "mailto", "#")):
                    enqueue(urljoin(path, href))
    return seen, opened


def _starts(user: User, role: Role) -> list[str]:
    """Where the crawl starts besides the home page: a participant of each status (a participant's page
    offers the next steps of their status only) and the pages no page of the demo links to."""
    staff = {Role(a.role): a.user for a in RoleAssignment.objects.select_related("user").order_by("pk")}
    staff[role] = user
    sites = [a.site for a in user.role_assignments.all()]
    participants = Participant.objects.order_by("-trial_id")
    if None not in sites:
        participants = participants.filter(site__in=sites)
    starts: list[str] = []
    if MATRIX["participants:detail"][role] == OK:
        starts = [
            url_of("participants:detail", p, staff) for p in {p.status: p for p in participants}.values()
        ]
    return starts + [
        url_of(name, participants.first(), staff) for name in UNLINKED if MATRIX[name][role] == OK
    ]


@pytest.mark.parametrize("username", MASKED)
def test_masked_roles_never_see_an_arm(demo, core_protocol, username):
    user = User.objects.get(username=username)
    role = Role(user.role_assignments.first().role)
    pages, opened = crawl(username, also=_starts(user, role))
    patterns = _arm_patterns(core_protocol)
    for path, text in pages.items():
        visible = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        for pattern in patterns:
            assert not pattern.search(visible), f"{username} sees {pattern.pattern!r} at {path}"
    may_open = {name for name, outcomes in MATRIX.items() if outcomes[role] == OK} - set(NOT_CRAWLED)
    missed = sorted(may_open - opened)
    assert not missed, f"{username} may open these pages, which the crawl never opened: {missed}"


def test_the_crawler_finds_arms_where_they_are_shown(demo, core_protocol):
    """The check above can fail: the unblinded trial manager's pages do show arms."""
    pages, _ = crawl("manager", limit=60)
    patterns = _arm_patterns(core_protocol)
    assert any(p.search(text) for text in pages.values() for p in patterns)


@pytest.mark.parametrize("username", ["statistician", "manager"])
def test_research_export_never_holds_identity(demo, username):
    from aftercrisis.participants.models import Identity

    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get("/reports/research-export.csv")
    csv_text = b"".join(response.streaming_content).decode()
    header = csv_text.splitlines()[0].split(",")
    assert not {
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "address",
        "phone",
        "email",
    } & set(header)
    for identity in Identity.objects.all()[:50]:
        assert identity.nhs_number not in csv_text and identity.family_name not in csv_text
        assert identity.date_of_birth.isoformat() not in csv_text
    assert ("arm" in header) is (username == "manager")

"""A masked role must never learn an arm: crawl everything each masked role can reach in the demo."""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from django.test import Client

from aftercrisis.accounts.models import User

pytestmark = pytest.mark.django_db

MASKED = ["researcher1", "researcher2", "statistician", "referrer.cam", "chief"]
UNBLINDED = ["manager"]
NEVER_FOLLOW = ("/account/logout/",)


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


def crawl(username: str, limit: int = 400) -> dict[str, str]:
    """Every same-site page and download reachable by following links from the home page."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    seen: dict[str, str] = {}
    queue = ["/"]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlparse(url).path + (f"?{urlparse(url).query}" if urlparse(url).query else "")
        if path in seen or path.startswith(NEVER_FOLLOW) or path.startswith("/static/"):
            continue
        response = client.get(path, follow=True)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = _zip_text(body) if response.get("Content-Type") == "application/zip" else body.decode()
        seen[path] = text
        if response.get("Content-Type", "").startswith("text/html"):
            parser = _Links()
            parser.feed(text)
            queue += [
                urljoin(path, href) for href in parser.links if not href.startswith(("http", "mailto", "#"))
            ]
    return seen


@pytest.mark.parametrize("username", MASKED)
def test_masked_roles_never_see_an_arm(demo, core_protocol, username):
    pages = crawl(username)
    assert len(pages) >= 3, pages.keys()
    patterns = _arm_patterns(core_protocol)
    for path, text in pages.items():
        visible = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        for pattern in patterns:
            assert not pattern.search(visible), f"{username} sees {pattern.pattern!r} at {path}"


def test_the_crawler_finds_arms_where_they_are_shown(demo, core_protocol):
    """The check above can fail: the unblinded trial manager's pages do show arms."""
    pages = crawl("manager", limit=60)
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

"""Each role signs in, lands on its own home page, and every main page passes an accessibility check."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from aftercrisis.participants.models import Participant

HOMES = {
    "manager": ("/recruitment/", "Recruitment by site"),
    "researcher1": ("/worklist/", "Follow-up worklist"),
    "psw.cam": ("/caseload/", "My caseload"),
    "statistician": ("/reports/", "Reports"),
    "referrer.cam": ("/recruitment/referrals/", "Refer someone leaving the crisis team"),
}


def test_sign_in_page_is_accessible(page, live_server, accessible, demo):
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    accessible(page)


@pytest.mark.parametrize("username", sorted(HOMES))
def test_each_role_lands_on_its_home(page, live_server, sign_in, accessible, demo, username):
    path, heading = HOMES[username]
    sign_in(username)
    assert page.url == f"{live_server.url}{path}"
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    accessible(page)


def test_main_pages_of_the_trial_manager_are_accessible(page, live_server, sign_in, accessible, demo):
    participant = Participant.objects.filter(allocation__isnull=False).order_by("trial_id").first()
    sign_in("manager")
    for path in [
        "/participants/",
        f"/participants/{participant.trial_id}/",
        f"/participants/{participant.trial_id}/edit/",
        f"/participants/{participant.trial_id}/identity/",
        f"/participants/{participant.trial_id}/history/",
        "/sites/",
        "/reports/",
        "/account/role/",
        "/account/two-factor/",
        "/account/logout/",
    ]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        accessible(page)


def test_sign_out(page, live_server, sign_in, demo):
    sign_in("researcher1")
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/account/login/$"))
    page.goto(f"{live_server.url}/worklist/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

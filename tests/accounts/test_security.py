from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.conftest import PASSWORD

from aftercrisis.accounts.models import User
from aftercrisis.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_deploy_check_is_clean_under_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftercrisis.config.settings.production",
        "DJANGO_SECRET_KEY": "k" * 20 + "a-production-secret-that-is-long-and-random-4f9c2e71b8",
        "ALLOWED_HOSTS": "trial.example.org",
        "AFTERCRISIS_HOME": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests in this process
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftercrisis.config.settings.production",
        "AFTERCRISIS_HOME": str(tmp_path),
    }
    env.pop("DJANGO_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_passwords_are_hashed_with_argon2(db):
    from aftercrisis.config.settings import base

    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        user = User.objects.create_user("hashcheck", password=PASSWORD)
    assert user.password.startswith("argon2$")


def test_repeated_failures_lock_the_account(client, staff):
    url = reverse("accounts:login")
    for _ in range(4):
        response = client.post(url, {"username": "researcher", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 200
    fifth = client.post(url, {"username": "researcher", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    assert fifth.status_code == 429
    locked = client.post(url, {"username": "researcher", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert locked.status_code == 429
    assert b"locked" in locked.content
    assert "_auth_user_id" not in client.session


def test_sign_in_and_land_on_the_role_home(client, staff):
    response = client.post(
        reverse("accounts:login"), {"username": "researcher", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("followup:worklist")


@override_settings(SESSION_COOKIE_AGE=1)
def test_idle_sessions_expire(client, staff):
    client.force_login(staff[Role.RESEARCHER])
    assert client.get(reverse("followup:worklist")).status_code == 200
    time.sleep(2.1)
    response = client.get(reverse("followup:worklist"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@override_settings(SESSION_COOKIE_AGE=3)
def test_a_session_in_use_stays_open(client, staff):
    client.force_login(staff[Role.RESEARCHER])
    for _ in range(3):  # four seconds in all, never two idle
        assert client.get(reverse("followup:worklist")).status_code == 200
        time.sleep(1.3)
    assert client.get(reverse("followup:worklist")).status_code == 200


def test_opening_a_page_does_not_write_the_session(client, staff):
    client.force_login(staff[Role.RESEARCHER])
    client.get(reverse("followup:worklist"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("followup:worklist")).status_code == 200
    assert [q["sql"] for q in captured if "django_session" in q["sql"] and "SELECT" not in q["sql"]] == []


def test_security_headers_on_every_page(client, staff):
    client.force_login(staff[Role.TRIAL_MANAGER])
    response = client.get(reverse("recruitment:by_site"))
    csp = response["Content-Security-Policy"]
    assert (
        "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp
    )
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_forms_need_a_csrf_token(staff, make_participant):
    participant = make_participant()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff[Role.RESEARCHER])
    url = reverse("participants:edit", kwargs={"trial_id": participant.trial_id})
    response = client.post(url, {"sex": "male", "reason": "test"})
    assert response.status_code == 403
    participant.refresh_from_db()
    assert participant.sex == "female"


@override_settings(OTP_REQUIRED_FOR_UNBLINDED=True)
def test_unblinded_roles_need_a_second_factor(client, staff):
    client.force_login(staff[Role.TRIAL_MANAGER])
    page = reverse("recruitment:by_site")
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:two_factor")

    enrol = client.post(reverse("accounts:two_factor"), {"set_up": "1"}, follow=True)
    assert b"Scan this code" in enrol.content
    device = TOTPDevice.objects.get(user=staff[Role.TRIAL_MANAGER])
    wrong = client.post(
        reverse("accounts:two_factor"), {"token": f"{(totp(device.bin_key) + 1) % 10**6:06d}"}
    )
    assert wrong.status_code == 200 and b"not right" in wrong.content
    assert client.get(page).status_code == 302

    time.sleep(1.1)  # a wrong code holds back the next try for a second (django-otp throttling)
    client.post(reverse("accounts:two_factor"), {"token": f"{totp(device.bin_key):06d}"})
    assert client.get(page).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


@override_settings(OTP_REQUIRED_FOR_UNBLINDED=True)
def test_two_factor_page_get_creates_no_device(client, staff):
    """Fault 9: every visit to the page created an authenticator device, for any role."""
    url = reverse("accounts:two_factor")
    for role in [Role.RESEARCHER, Role.TRIAL_MANAGER]:
        client.force_login(staff[role])
        for _ in range(3):
            page = client.get(url)
            assert page.status_code == 200 and b"Set up an authenticator app" in page.content
        assert not TOTPDevice.objects.exists()
    refused = client.post(url, {"token": "123456"})
    assert b"Set up an authenticator app before entering a code" in refused.content
    assert not TOTPDevice.objects.exists()
    for _ in range(2):  # asking twice shows the same key
        client.post(url, {"set_up": "1"})
    device = TOTPDevice.objects.get()
    assert (device.user, device.confirmed) == (staff[Role.TRIAL_MANAGER], False)
    assert b"Scan this code" in client.get(url).content
    assert TOTPDevice.objects.count() == 1


@override_settings(OTP_REQUIRED_FOR_UNBLINDED=True)
def test_masked_roles_do_not_need_a_second_factor(client, staff):
    client.force_login(staff[Role.RESEARCHER])
    assert client.get(reverse("followup:worklist")).status_code == 200


@override_settings(OTP_REQUIRED_FOR_UNBLINDED=True)
def test_the_statistician_needs_a_second_factor_once_the_lock_shows_the_arms(client, staff):
    from aftercrisis.lock.models import DatabaseLockEvent, LockAction

    client.force_login(staff[Role.STATISTICIAN])
    page = reverse("reporting:index")
    assert client.get(page).status_code == 200
    DatabaseLockEvent.objects.create(
        action=LockAction.LOCKED, by=staff[Role.TRIAL_MANAGER], reason="analysis"
    )
    assert client.get(page)["Location"] == reverse("accounts:two_factor")
    DatabaseLockEvent.objects.create(action=LockAction.UNLOCKED, by=staff[Role.TRIAL_MANAGER], reason="query")
    assert client.get(page).status_code == 200


def test_several_roles_act_one_at_a_time(client, staff, sites):
    from aftercrisis.accounts.models import RoleAssignment

    user = staff[Role.RESEARCHER]
    RoleAssignment.objects.create(user=user, role=Role.REFERRER, site=sites["CAM"])
    client.force_login(user)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:choose_role")
    assert client.get(reverse("followup:worklist"))["Location"] == reverse("accounts:choose_role")
    client.post(reverse("accounts:choose_role"), {"role": Role.REFERRER.value})
    assert client.get(reverse("home"))["Location"] == reverse("recruitment:referrals")
    assert client.get(reverse("followup:worklist")).status_code == 403

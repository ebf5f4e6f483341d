"""The trial manager adds, disables and re-enables staff, assigns roles per site, sends a one-time
sign-in link and edits a site's duty contact, each kept in the history with who did it and why."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from aftercrisis.accounts.models import RoleAssignment, User
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.services import add_staff, set_active, sign_in_link, update_duty_contact

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-long-password"


def _signs_in(client, username, password):
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    client.logout()
    return response.status_code == 302


def _add(client, sites, **more):
    data = {
        "first_name": "Robin",
        "last_name": "Okafor",
        "username": "rokafor",
        "email": "robin.okafor@example.org",
        "role": Role.RESEARCHER.value,
        "site": str(sites["ISL"].pk),
        **more,
    }
    return client.post(reverse("accounts:staff_new"), data)


def test_the_manager_adds_a_researcher_who_chooses_a_password_through_a_one_time_link(
    client, staff, sites, django_capture_on_commit_callbacks
):
    manager = staff[Role.TRIAL_MANAGER]
    client.force_login(manager)
    response = _add(client, sites)
    person = User.objects.get(username="rokafor")
    assert response.status_code == 302 and not person.has_usable_password()
    assert list(person.role_assignments.values_list("role", "site__code")) == [("researcher", "ISL")]
    assert person.history.first().history_user == manager
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:staff_member", args=[person.pk]), {"action": "link"})
    (message,) = mail.outbox
    assert message.to == ["robin.okafor@example.org"]
    link = re.search(r"http://testserver(\S+)", message.body).group(1)
    client.logout()
    form = client.get(link, follow=True)
    assert "Choose your password" in form.content.decode()
    chosen = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert chosen.status_code == 302
    assert _signs_in(client, "rokafor", NEW_PASSWORD)
    # Used once: the same link no longer works.
    assert "cannot be used" in client.get(link, follow=True).content.decode()


@override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
def test_without_e_mail_the_link_is_shown_once_to_the_manager(client, staff):
    person = staff[Role.RESEARCHER]
    client.force_login(staff[Role.TRIAL_MANAGER])
    page = client.post(
        reverse("accounts:staff_member", args=[person.pk]), {"action": "link"}
    ).content.decode()
    assert "/account/set-password/" in page and "shown only now" in page
    assert (
        "/account/set-password/"
        not in client.get(reverse("accounts:staff_member", args=[person.pk])).content.decode()
    )


def test_bad_staff_details_name_the_field_and_add_no_one(client, staff, sites):
    client.force_login(staff[Role.TRIAL_MANAGER])
    taken = _add(client, sites, username=Role.RESEARCHER.value).content.decode()
    assert "The username researcher is already taken" in taken
    no_site = _add(client, sites, site="").content.decode()
    assert "Choose the site where this researcher works" in no_site
    wide = _add(client, sites, role=Role.STATISTICIAN.value).content.decode()
    assert "works across all sites" in wide
    assert not User.objects.filter(username="rokafor").exists()


def test_disabling_stops_sign_in_and_keeps_the_reason(client, staff, actor_of):
    manager, person = staff[Role.TRIAL_MANAGER], staff[Role.REFERRER]
    client.force_login(manager)
    url = reverse("accounts:staff_member", args=[person.pk])
    refused = client.post(url, {"action": "active", "active-reason": ""}).content.decode()
    assert "Enter the reason" in refused
    client.post(url, {"action": "active", "active-reason": "left the crisis team"})
    person.refresh_from_db()
    assert not person.is_active
    assert person.history.first().history_change_reason == "left the crisis team"
    assert not _signs_in(client, person.username, "a-long-test-password-1")
    client.force_login(manager)
    client.post(url, {"action": "active", "active-reason": "back from leave"})
    person.refresh_from_db()
    assert person.is_active
    with pytest.raises(ValidationError, match="cannot disable yourself"):
        set_active(actor_of(Role.TRIAL_MANAGER), manager, False, by=manager, reason="oops")


def test_roles_are_assigned_per_site_and_removed_with_a_reason(client, staff, sites):
    manager, person = staff[Role.TRIAL_MANAGER], staff[Role.RESEARCHER]
    client.force_login(manager)
    url = reverse("accounts:staff_member", args=[person.pk])
    client.post(url, {"action": "role", "role-role": "researcher", "role-site": str(sites["HAR"].pk)})
    assert set(person.role_assignments.values_list("site__code", flat=True)) == {"CAM", "HAR"}
    again = client.post(url, {"action": "role", "role-role": "researcher", "role-site": str(sites["HAR"].pk)})
    assert "is already a researcher (HAR)" in again.content.decode()
    har = person.role_assignments.get(site=sites["HAR"])
    client.post(
        url, {"action": "remove_role", "remove-assignment": har.pk, "remove-reason": "moved to Camden only"}
    )
    assert set(person.role_assignments.values_list("site__code", flat=True)) == {"CAM"}
    removed = RoleAssignment.history.filter(id=har.pk, history_type="-").get()
    assert (removed.history_user, removed.history_change_reason) == (manager, "moved to Camden only")


def test_the_duty_contact_is_edited_with_a_reason_and_only_by_the_manager(client, staff, sites, actor_of):
    manager = staff[Role.TRIAL_MANAGER]
    with pytest.raises(PermissionDenied):
        update_duty_contact(
            actor_of(Role.RESEARCHER),
            sites["CAM"],
            name="X",
            email_address="x@example.org",
            by=manager,
            reason="r",
        )
    client.force_login(manager)
    url = reverse("accounts:duty_contact", args=["CAM"])
    half = client.post(url, {"name": "On-call lead", "email": "", "reason": "new rota"}).content.decode()
    assert "Give both the duty contact" in half
    client.post(url, {"name": "On-call lead", "email": "oncall-cam@example.org", "reason": "new rota"})
    site = sites["CAM"]
    site.refresh_from_db()
    assert (site.duty_contact_name, site.duty_contact_email) == ("On-call lead", "oncall-cam@example.org")
    assert site.history.first().history_change_reason == "new rota"


def test_only_the_manager_manages_staff(staff, actor_of, sites):
    for role in Role:
        if role == Role.TRIAL_MANAGER:
            continue
        with pytest.raises(PermissionDenied):
            add_staff(
                actor_of(role),
                username="x",
                first_name="X",
                last_name="Y",
                email="",
                role=Role.REFERRER,
                site=sites["CAM"],
                by=staff[role],
            )
        with pytest.raises(PermissionDenied):
            sign_in_link(actor_of(role), staff[Role.REFERRER], by=staff[role], base_url="")

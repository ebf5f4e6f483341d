"""Every page's address and filters sent a NUL character, which PostgreSQL refuses to compare or store:
a page answers that the request was not right, the API answers with problem details, never a server
error (this module runs again on PostgreSQL in CI). A new route is covered without touching this file."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse
from tests.test_permissions import MATRIX, OK, ROLES, sample, url_of  # noqa: F401  (sample: a fixture)

pytestmark = pytest.mark.django_db

NUL = "\x00"
FILTERS = {"q": f"CAM{NUL}", "site": NUL, "status": NUL, "sort": NUL, "page": NUL, "category": NUL}


def _opened_by(name: str):
    return next((role for role in ROLES if role is not None and MATRIX[name][role] == OK), None)


def _with_nul(url: str) -> list[str]:
    """The URL once for each of its text arguments, that argument ending in a NUL character."""
    match = resolve(url)
    texts = [k for k, v in match.kwargs.items() if isinstance(v, str)]
    return [reverse(match.view_name, kwargs={**match.kwargs, k: match.kwargs[k] + NUL}) for k in texts]


@pytest.mark.parametrize("name", sorted(n for n in MATRIX if _opened_by(n) is not None))
def test_a_nul_character_in_an_address_or_a_filter_is_bad_input(client, staff, sample, name):  # noqa: F811
    role = _opened_by(name)
    client.force_login(staff[role])
    url = url_of(name, sample, staff)
    for address in _with_nul(url):
        response = client.get(address)
        assert response.status_code in (400, 404, 422), (address, response.status_code)
    response = client.get(url, FILTERS)
    assert response.status_code in (400, 422), (url, response.status_code)
    if response.status_code == 400:  # a page: it names each value that held one
        assert f"<strong>{', '.join(FILTERS)}</strong>" in response.content.decode(), url

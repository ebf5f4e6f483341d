"""Error pages that say no more than a masked role may know."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.jinja", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.jinja", status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "400.jinja", status=400)


def _nul_in(value: Any, where: list[str]) -> list[str]:
    if isinstance(value, str):
        return [".".join(where) or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _nul_in(item, [*where, str(key)])]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in _nul_in(item, [*where, str(i)])]
    return []


def nul_characters(request: HttpRequest, path_values: dict[str, Any]) -> list[str]:
    """Where the request holds a NUL character, named as a field: no text in the trial's database may hold
    one (PostgreSQL refuses it), so such a value is bad input wherever it is sent."""
    found = _nul_in(path_values, [])
    found += [name for name, values in request.GET.lists() if any("\x00" in v for v in values)]
    found += [name for name, value in request.headers.items() if "\x00" in value]
    if request.content_type == "application/json":
        with contextlib.suppress(ValueError):  # not JSON: the handler says so
            found += _nul_in(json.loads(request.body), [])
    return found


class RefusalMiddleware:
    """A service's refusal that no form showed (a button, say) goes back to the page it was sent from, as a
    message; without a page to go back to it is a page of its own. Never a server error, whatever the route."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        # A page's address or filters holding a NUL character; the API says so in its own words.
        fields = [] if request.path.startswith("/api/") else nul_characters(request, kwargs)
        if not fields:
            return None
        return render(request, "400.jinja", {"nul_fields": fields}, status=400)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ValidationError):
            return None
        for message in exception.messages:
            messages.error(request, message)
        back = request.headers.get("Referer", "")
        if request.method == "POST" and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(back)
        return render(request, "409.jinja", status=409)

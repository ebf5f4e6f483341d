"""Errors as RFC 9457 problem details: a type, a title, the status, a detail and, for refused input, an
`errors` list naming each field or row. Never a stack trace, and nothing a masked role may not know."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as Refusal
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as InvalidRequest

from aftercrisis.config.errors import nul_characters
from aftercrisis.lock.services import DatabaseLocked

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
TYPES = "https://aftercrisis.example/problems/"  # documented in docs/api.md


SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
RESPONSES = {
    str(status): {
        "description": HTTPStatus(status).phrase,
        "content": {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (401, 403, 404, 405, 409, 422, 429, 500)
}


def problem(
    status: int, detail: str, *, kind: str = "", errors: list[dict[str, str]] | None = None
) -> JsonResponse:
    body: dict[str, Any] = {
        "type": TYPES + kind if kind else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


def _location(loc: list[Any] | tuple[Any, ...]) -> str:
    """Ninja's location of a bad value as a field name: the body and the parameter kind are left out."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or "body"


def _invalid_request(request: HttpRequest, exc: InvalidRequest) -> HttpResponse:
    errors = [{"field": _location(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors]
    return problem(422, "The request has invalid values.", kind="invalid-request", errors=errors)


def refusal_errors(exc: Refusal) -> list[dict[str, str]]:
    """A service's refusal as named errors: by field where it names them, else each message as it is
    (the services name the row: `row 3: start: …`)."""
    if hasattr(exc, "error_dict"):
        return [
            {"field": "" if field == "__all__" else field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in exc.messages]


def _refused(request: HttpRequest, exc: Refusal) -> HttpResponse:
    if isinstance(exc, DatabaseLocked):
        return problem(409, " ".join(exc.messages), kind="database-locked")
    return problem(422, "Nothing was written.", kind="refused", errors=refusal_errors(exc))


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    response = problem(exc.status_code, str(exc))
    if isinstance(exc, Throttled) and exc.wait:
        response["Retry-After"] = str(exc.wait)
    return response


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request failed", exc_info=exc)
    return problem(500, "Something went wrong; nothing about it is shown here. It has been logged.")


HANDLERS: dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]] = {
    InvalidRequest: _invalid_request,
    Refusal: _refused,
    AuthenticationError: lambda r, e: problem(401, "Send a valid API token: Authorization: Bearer <token>."),
    HttpError: _http_error,
    PermissionDenied: lambda r, e: problem(403, "Your role may not do this."),
    Http404: lambda r, e: problem(404, "There is no such record."),
    Exception: _unexpected,
}


def install(api: NinjaAPI) -> None:
    for exception, handler in HANDLERS.items():
        api.add_exception_handler(exception, handler)


class ProblemsMiddleware:
    """What the API's own handlers never see (an unknown address, a method a route does not take, a NUL
    character the database would refuse) is a problem too, not the pages' HTML or a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        fields = nul_characters(request, kwargs)
        if not fields:
            return None
        errors = [{"field": field, "message": "NUL characters are not accepted"} for field in fields]
        return problem(422, "The request has invalid values.", kind="invalid-request", errors=errors)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.get("Content-Type") == CONTENT_TYPE:
            return response
        if response.status_code == 404:
            return problem(404, "There is no such address in the API.")
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            refused = problem(405, f"This address takes {allowed or 'other methods'}.")
            refused["Allow"] = allowed
            return refused
        return response

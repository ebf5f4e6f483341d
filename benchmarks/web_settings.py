"""The settings of benchmarks/web.py: the served production settings (tests.randomisation.served_settings)
with each response saying, in an X-Queries header, how many SQL queries its request made. Only the
benchmark uses them; the application never sends that header."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from tests.randomisation.served_settings import *  # noqa: F403
from tests.randomisation.served_settings import MIDDLEWARE


class QueryCount:
    """Counts every query of the request, the session's and the sign-in's included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.db import connection

        count = 0

        def counted(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Queries"] = str(count)
        return response


MIDDLEWARE = ["benchmarks.web_settings.QueryCount", *MIDDLEWARE]

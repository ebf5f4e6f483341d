"""Lists that grow with the trial are shown a page at a time, their filters kept from page to page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZE = 50


def page_of(request: HttpRequest, rows: QuerySet[Any] | Sequence[Any], count: int | None = None) -> Page[Any]:
    """The page of `rows` the request asks for (`?page=`); the last page past the end, the first if garbled.

    `count`, when the page has already counted the rows, spares counting them again.
    """
    paginator = Paginator(rows, PAGE_SIZE)
    if count is not None:
        paginator.count = count
    return paginator.get_page(request.GET.get("page"))


def page_url(request: HttpRequest, number: int) -> str:
    """The same list on another page, with the request's other parameters (its filters) unchanged."""
    query = request.GET.copy()
    query["page"] = str(number)
    return f"?{query.urlencode()}"

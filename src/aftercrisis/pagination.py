"""Lists that grow with the trial are shown a page at a time, in the order asked for, their filters kept
from page to page."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest

PAGE_SIZE = 50


def page_of(request: HttpRequest, rows: QuerySet[Any] | Sequence[Any], count: int | None = None) -> Page[Any]:
    """The page of `rows` the request asks for (`?page=`); the last page past the end, the first if garbled.

    `count`, when the page has already counted the rows, spares counting them again.
    """
    return numbered_page(rows, request.GET.get("page"), count)


def numbered_page(rows: QuerySet[Any] | Sequence[Any], number: Any, count: int | None = None) -> Page[Any]:
    """`page_of` for a page number already taken from the request (a selector's `page`)."""
    paginator = Paginator(rows, PAGE_SIZE)
    if count is not None:
        paginator.count = count
    return paginator.get_page(number)


def page_url(request: HttpRequest, number: int) -> str:
    """The same list on another page, with the request's other parameters (its filters) unchanged."""
    query = request.GET.copy()
    query["page"] = str(number)
    return f"?{query.urlencode()}"


def filter_value(request: HttpRequest, name: str, listed: Collection[str]) -> str:
    """The value the request asks the list to be filtered by (`?name=value`) if it is one of those `listed`,
    otherwise "" (no filter): anything else (a NUL byte, say) never reaches the database."""
    asked = request.GET.get(name, "")
    return asked if asked in listed else ""


def sorted_by(
    request: HttpRequest, rows: QuerySet[Any], columns: Mapping[str, str], default: str
) -> tuple[QuerySet[Any], str]:
    """`rows` in the order the request asks for (`?sort=column`, `?sort=-column` for descending) and that
    order; a column not among `columns` (name -> field) gives the `default` order. Ties go by primary key,
    so no row appears on two pages.

    Only the columns a list offers can order it: never an arm, nor anything that follows from one.
    """
    order, asked = sort_order(request, columns, default)
    return rows.order_by(*order), asked


def sort_order(
    request: HttpRequest, columns: Mapping[str, str], default: str
) -> tuple[tuple[OrderBy, ...], str]:
    """The `order_by` terms for the order the request asks for, as `sorted_by` applies them, and that order.

    A value not yet known (an episode still going on has no end) sorts as the latest, on every database.
    """
    asked = request.GET.get("sort", "")
    if asked.removeprefix("-") not in columns:
        asked = default
    column, pk = F(columns[asked.removeprefix("-")]), F("pk")
    if asked.startswith("-"):
        return (column.desc(nulls_first=True), pk.desc()), asked
    return (column.asc(nulls_last=True), pk.asc()), asked


def sort_url(request: HttpRequest, column: str, current: str) -> str:
    """The same list ordered by `column`: descending if it is already ascending, from the first page."""
    query = request.GET.copy()
    query["sort"] = f"-{column}" if current == column else column
    query.pop("page", None)
    return f"?{query.urlencode()}"

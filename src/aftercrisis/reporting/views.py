from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from aftercrisis.accounts.decorators import acting, requires
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.reporting.charts import bar_chart_svg
from aftercrisis.reporting.selectors import follow_up_completeness, randomisations_by_month, research_export


@requires(Capability.VIEW_REPORTS)
def index(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    months = randomisations_by_month(actor)
    return render(
        request,
        "reporting/index.jinja",
        {
            "trial": trial,
            "months": months,
            "randomised": sum(n for _, n in months),
            "chart": bar_chart_svg(months, title="Participants randomised each month (all arms)")
            if months
            else "",
            "completeness": follow_up_completeness(actor, trial, timezone.localdate()),
            "can_export": actor.can(Capability.RESEARCH_EXPORT),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@requires(Capability.RESEARCH_EXPORT)
def export(request: HttpRequest) -> StreamingHttpResponse:
    columns, rows = research_export(acting(request))
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(columns)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="research-export-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response

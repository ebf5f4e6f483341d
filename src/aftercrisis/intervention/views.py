from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from aftercrisis.accounts.decorators import acting, requires
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.intervention.selectors import caseload as caseload_for


@requires(Capability.VIEW_CASELOAD)
def caseload(request: HttpRequest) -> HttpResponse:
    trial = protocol()
    entries = caseload_for(acting(request), trial, timezone.localdate())
    return render(
        request,
        "intervention/caseload.jinja",
        {
            "open": [e for e in entries if e.days_left_in_window >= 0],
            "closed": [e for e in entries if e.days_left_in_window < 0],
            "trial": trial,
        },
    )

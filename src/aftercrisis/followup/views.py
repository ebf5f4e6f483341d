from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from aftercrisis.accounts.decorators import acting, requires
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.followup.schedule import WindowState
from aftercrisis.followup.selectors import worklist as worklist_for


@requires(Capability.VIEW_WORKLIST)
def worklist(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    entries = worklist_for(acting(request), protocol(), today)
    counts = {
        state: sum(1 for e in entries if e.state is state)
        for state in WindowState
        if state is not WindowState.NOT_OPEN
    }
    return render(request, "followup/worklist.jinja", {"entries": entries, "counts": counts, "today": today})

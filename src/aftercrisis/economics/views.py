from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.economics.forms import ResourceUseForm
from aftercrisis.economics.models import Period
from aftercrisis.economics.selectors import days_from_episodes, entered_for, typed_resources
from aftercrisis.economics.services import record_resource_use
from aftercrisis.forms import show_refusal
from aftercrisis.participants.selectors import participant_for


@requires(Capability.RECORD_EPISODES)
@require_http_methods(["GET", "POST"])
def resource_use(request: HttpRequest, trial_id: str) -> HttpResponse:
    """Resource use counted from clinical records. Nothing on it differs by arm: peer support and the
    workbook are costed from the trial's own records at analysis."""
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    trial = protocol()
    resources = typed_resources(trial)
    if not resources or not hasattr(participant, "allocation"):
        why = (
            "This trial's protocol costs no resource use."
            if not resources
            else f"Resource use is counted once {participant.trial_id} is randomised."
        )
        return render(
            request, "economics/resource_use.jinja", {"participant": participant, "form": None, "why": why}
        )
    form = ResourceUseForm(request.POST or None, resources=resources, entered=entered_for(participant))
    if request.method == "POST" and form.is_valid():
        try:
            record_resource_use(
                actor,
                trial,
                participant,
                form.units(),
                by=staff_user(request),
                reason=form.cleaned_data.get("reason") or "",
            )
        except ValidationError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "The resource use was recorded.")
            return redirect("economics:resource_use", trial_id=trial_id)
    economics = trial.health_economics
    assert economics is not None  # typed_resources is empty without it
    derived = days_from_episodes(trial, [participant], timezone.localdate()).get(participant.pk, {})
    return render(
        request,
        "economics/resource_use.jinja",
        {
            "participant": participant,
            "form": form,
            "period_names": dict(Period.choices),
            "from_episodes": [(economics.unit_cost(code).name, days) for code, days in derived.items()],
        },
    )

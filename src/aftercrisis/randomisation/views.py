from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.intervention.services import assign_least_loaded_worker
from aftercrisis.participants.selectors import participant_for
from aftercrisis.randomisation.services import RandomisationRefused
from aftercrisis.randomisation.services import randomise as take_allocation


@requires(Capability.RANDOMISE)
@require_POST
def randomise(request: HttpRequest, trial_id: str) -> HttpResponse:
    actor = acting(request)
    participant = participant_for(actor, trial_id)
    try:
        allocation = take_allocation(actor, participant, by=staff_user(request))
    except RandomisationRefused as exc:
        messages.error(request, exc.messages[0])
        return redirect("participants:detail", trial_id=trial_id)
    arm = protocol().arm(allocation.arm)
    text = f"{participant.trial_id} is allocated to: {arm.name}."
    if allocation.arm == protocol().intervention.arm and not hasattr(participant, "caseload_assignment"):
        assignment = assign_least_loaded_worker(
            participant, by=staff_user(request), on=allocation.randomised_on
        )
        text += (
            f" Added to {assignment.worker.display_name}'s caseload."
            if assignment
            else " There is no peer support worker at this site yet: assign one."
        )
    messages.success(request, text)
    return redirect("participants:detail", trial_id=trial_id)

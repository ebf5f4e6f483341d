from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.accounts.selectors import sites_for
from aftercrisis.config.trial import protocol
from aftercrisis.participants.selectors import participants_for
from aftercrisis.participants.services import register_participant
from aftercrisis.recruitment.forms import ReferralForm
from aftercrisis.recruitment.selectors import recruitment_by_site


@requires(Capability.VIEW_RECRUITMENT)
def by_site(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    trial = protocol()
    rows = recruitment_by_site(actor, trial.arm_codes)
    total = {
        "referred": sum(r.referred for r in rows),
        "awaiting_randomisation": sum(r.awaiting_randomisation for r in rows),
        "randomised": sum(r.randomised for r in rows),
        "withdrawn": sum(r.withdrawn for r in rows),
        "by_arm": {c: sum(r.by_arm.get(c, 0) for r in rows) for c in trial.arm_codes},
    }
    return render(
        request,
        "recruitment/by_site.jinja",
        {"rows": rows, "total": total, "arms": trial.arms if rows and rows[0].by_arm else [], "trial": trial},
    )


@requires(Capability.REFER)
@require_http_methods(["GET", "POST"])
def referrals(request: HttpRequest) -> HttpResponse:
    actor = acting(request)
    form = ReferralForm(request.POST or None, sites=sites_for(actor))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        identity = {
            k: data[k]
            for k in (
                "given_name",
                "family_name",
                "nhs_number",
                "date_of_birth",
                "phone",
                "email",
                "address",
                "postcode",
            )
        }
        try:
            participant = register_participant(
                site=data["site"],
                referred_on=data["referred_on"],
                by=staff_user(request),
                identity=identity,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                f"{identity['given_name']} {identity['family_name']} is referred as {participant.trial_id}.",
            )
            return redirect("recruitment:referrals")
    mine = participants_for(actor).select_related("identity").order_by("-referred_on", "-trial_id")[:100]
    return render(request, "recruitment/referrals.jinja", {"form": form, "referrals": mine})

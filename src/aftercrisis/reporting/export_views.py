"""Every form's data: a page of downloads, a CSV per form, and the bundle with its data dictionary."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from aftercrisis.accounts.decorators import acting, requires
from aftercrisis.accounts.policy import Capability
from aftercrisis.reporting.form_export import bundle, dictionary, forms_for, table


@requires(Capability.FULL_EXPORT)
def form_exports(request: HttpRequest) -> HttpResponse:
    forms = forms_for(acting(request))
    return render(
        request,
        "reporting/form_exports.jinja",
        {"forms": forms, "columns": dictionary(forms).to_dict("records")},
    )


@requires(Capability.FULL_EXPORT)
def form_csv(request: HttpRequest, form: str) -> HttpResponse:
    actor = acting(request)
    chosen = next((f for f in forms_for(actor) if f.name == form), None)
    if chosen is None:  # a form the role may not have is as absent as one that does not exist
        raise Http404("no such form")
    response = HttpResponse(table(actor, chosen).to_csv(index=False), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{form}-{timezone.localdate():%Y%m%d}.csv"'
    return response


@requires(Capability.FULL_EXPORT)
def form_bundle(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(bundle(acting(request)), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="forms-{timezone.localdate():%Y%m%d}.zip"'
    return response

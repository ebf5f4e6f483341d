"""The trial manager's audit search across participants."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aftercrisis.accounts.decorators import acting, requires
from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Capability
from aftercrisis.forms import DateInput, NamedErrors
from aftercrisis.pagination import page_of
from aftercrisis.participants.audit_search import AuditQuery, audit_search, audited_forms, fields_of


class AuditSearchForm(NamedErrors, forms.Form):
    form = forms.ChoiceField(label="Form or record")
    person = forms.TypedChoiceField(label="Changed by", required=False, coerce=int, empty_value=None)
    since = forms.DateField(label="From", required=False, widget=DateInput)
    until = forms.DateField(label="To", required=False, widget=DateInput)
    field = forms.ChoiceField(label="Field changed", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = audited_forms()
        self.fields["form"].choices = [  # type: ignore[attr-defined]
            (label, str(model._meta.verbose_name).capitalize()) for label, model in kinds.items()
        ]
        self.fields["person"].choices = [("", "Anyone")] + [  # type: ignore[attr-defined]
            (u.pk, f"{u.display_name} ({u.username})") for u in User.objects.order_by("last_name", "username")
        ]
        chosen = kinds.get(self.data.get("form", ""), next(iter(kinds.values())))
        self.fields["field"].choices = [("", "Any field"), *fields_of(chosen)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date must be on or after the start date")
        return data


@requires(Capability.SEARCH_AUDIT)
def audit(request: HttpRequest) -> HttpResponse:
    """Nothing is searched until a form or record is chosen: the trail is read one kind at a time."""
    form = AuditSearchForm(request.GET if "form" in request.GET else None)
    page = None
    field_label = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        query = AuditQuery(data["form"], data["person"], data["since"], data["until"], data["field"])
        page = page_of(request, audit_search(acting(request), query))
        field_label = dict(form.fields["field"].choices).get(data["field"], "")  # type: ignore[attr-defined]
    return render(
        request, "participants/audit.jinja", {"form": form, "page": page, "field_label": field_label}
    )

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone

from aftercrisis.accounts.models import Site
from aftercrisis.forms import DateInput, NamedErrors
from aftercrisis.participants.models import normalise_nhs_number, validate_nhs_number
from aftercrisis.recruitment.models import SCREENED_LARGE, SCREENED_MAX, SCREENED_RANGE


class ReferralForm(NamedErrors, forms.Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), label="Crisis resolution team", empty_label=None
    )
    given_name = forms.CharField(label="First name", max_length=80)
    family_name = forms.CharField(label="Last name", max_length=80)
    nhs_number = forms.CharField(
        label="NHS number", max_length=12, help_text="10 digits, for example 999 123 4560"
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=DateInput,
        help_text="For example, 1980-03-31",
    )
    phone = forms.CharField(label="Phone", max_length=20, required=False)
    email = forms.EmailField(label="Email", max_length=254, required=False)
    address = forms.CharField(label="Address", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    postcode = forms.CharField(label="Postcode", max_length=10, required=False)
    referred_on = forms.DateField(
        label="Date of referral",
        widget=DateInput,
        initial=timezone.localdate,
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]

    def clean_nhs_number(self) -> str:
        number = normalise_nhs_number(self.cleaned_data["nhs_number"])
        validate_nhs_number(number)
        return number

    def clean_date_of_birth(self) -> dt.date:
        born: dt.date = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise forms.ValidationError("Date of birth must be in the past")
        return born

    def clean_referred_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["referred_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Date of referral cannot be in the future")
        return day


YES_NO = [("yes", "Yes"), ("no", "No")]


def _not_in_future(day: dt.date, label: str) -> dt.date:
    if day > timezone.localdate():
        raise forms.ValidationError(f"{label} cannot be in the future")
    return day


class ScreeningForm(NamedErrors, forms.Form):
    """One yes/no question per coded criterion of the protocol, then what happened next."""

    screened_on = forms.DateField(label="Date screened", widget=DateInput, initial=timezone.localdate)
    outcome = forms.ChoiceField(
        label="If eligible, what happened?",
        widget=forms.RadioSelect,
        choices=[
            ("eligible", "Approached and willing to hear about the study: take consent next"),
            ("not_approached", "Not approached"),
            ("declined", "Approached and declined"),
        ],
        initial="eligible",
    )
    reason = forms.ChoiceField(label="Reason not approached or declined", required=False)

    def __init__(
        self, *args: Any, criteria: list[tuple[str, str, bool]], reasons: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for code, text, inclusion in criteria:
            kind = "Inclusion" if inclusion else "Exclusion"
            self.fields[f"criterion_{code}"] = forms.ChoiceField(
                label=f"{kind}: {text}",
                help_text="Does this apply to the person?",
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": f"Answer whether '{text}' applies"},
            )
        self.fields["reason"].choices = [("", "Not applicable"), *reasons]  # type: ignore[attr-defined]
        self.order_fields(["screened_on", *[f"criterion_{c}" for c, _, _ in criteria], "outcome", "reason"])

    def clean_screened_on(self) -> dt.date:
        return _not_in_future(self.cleaned_data["screened_on"], "Date screened")

    def answers(self) -> dict[str, bool]:
        return {code: self.cleaned_data[f"criterion_{code}"] == "yes" for code, _, _ in self.criteria}


class ConsentForm(NamedErrors, forms.Form):
    taken_on = forms.DateField(label="Date of consent", widget=DateInput, initial=timezone.localdate)
    capacity_confirmed = forms.BooleanField(
        label="I confirm the person has capacity to give informed consent",
        error_messages={"required": "Confirm that the person has capacity to consent"},
    )

    def __init__(self, *args: Any, items: list[tuple[str, str, bool]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for code, text, required in items:
            self.fields[f"item_{code}"] = forms.BooleanField(
                label=text + (" (required to take part)" if required else ""), required=False
            )

    def clean_taken_on(self) -> dt.date:
        return _not_in_future(self.cleaned_data["taken_on"], "Date of consent")

    def agreed(self) -> dict[str, bool]:
        return {code: bool(self.cleaned_data[f"item_{code}"]) for code, _, _ in self.items}


class DeclineForm(NamedErrors, forms.Form):
    reason = forms.ChoiceField(label="Reason for declining", widget=forms.RadioSelect)

    def __init__(self, *args: Any, reasons: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = reasons  # type: ignore[attr-defined]


class WithdrawalForm(NamedErrors, forms.Form):
    level = forms.ChoiceField(label="Level of withdrawal", widget=forms.RadioSelect)
    on = forms.DateField(label="Date of withdrawal", widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(
        label="Reason given, if any", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, levels: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = levels  # type: ignore[attr-defined]

    def clean_on(self) -> dt.date:
        return _not_in_future(self.cleaned_data["on"], "Date of withdrawal")


class AnonymousScreenFailureForm(NamedErrors, forms.Form):
    site = forms.ModelChoiceField(
        queryset=Site.objects.none(), label="Crisis resolution team", empty_label=None
    )
    screened_on = forms.DateField(label="Date screened", widget=DateInput, initial=timezone.localdate)
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[
            ("not_eligible", "Not eligible"),
            ("not_approached", "Not approached"),
            ("declined", "Declined"),
        ],
    )
    reason = forms.ChoiceField(label="Reason")
    count = forms.IntegerField(
        label="Number of people",
        initial=1,
        min_value=1,
        max_value=SCREENED_MAX,
        error_messages={"min_value": SCREENED_RANGE, "max_value": SCREENED_RANGE},
    )
    large_count_confirmed = forms.BooleanField(
        label=f"The number is over {SCREENED_LARGE} and I have checked it",
        required=False,
    )

    def __init__(self, *args: Any, sites: Sequence[Site], reasons: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The sites already read, shown as they are: the database is asked only to check the one chosen.
        self.fields["site"].queryset = Site.objects.filter(pk__in=[s.pk for s in sites])  # type: ignore[attr-defined]
        self.fields["site"].widget.choices = [(s.pk, str(s)) for s in sites]
        self.fields["reason"].choices = reasons  # type: ignore[attr-defined]

    def clean_screened_on(self) -> dt.date:
        return _not_in_future(self.cleaned_data["screened_on"], "Date screened")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        count = data.get("count")
        if count is not None and count > SCREENED_LARGE and not data.get("large_count_confirmed"):
            self.add_error(
                "large_count_confirmed",
                f"Number of people: {count:,} is unusually many for one line; check it and confirm it, "
                "or split it by date or reason",
            )
        return data

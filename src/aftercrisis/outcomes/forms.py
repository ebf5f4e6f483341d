from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from aftercrisis.forms import (
    DateInput,
    NamedErrors,
    ReasonField,
    RecordIdField,
    RecordIdsField,
    confirmed_reason,
)
from aftercrisis.outcomes.imports import MAX_FILE_BYTES
from aftercrisis.outcomes.models import (
    AdmissionType,
    Decision,
    EpisodeSource,
    Expectedness,
    Relatedness,
    SaeCategory,
    Seriousness,
)
from aftercrisis.participants.models import CauseOfDeath


class EpisodeForm(NamedErrors, forms.Form):
    setting = forms.ChoiceField(label="Setting", widget=forms.RadioSelect)
    start = forms.DateField(label="Start date", widget=DateInput)
    end = forms.DateField(
        label="End date", required=False, widget=DateInput, help_text="Leave empty if still in care"
    )
    admission_type = forms.ChoiceField(
        label="Admission type",
        required=False,
        choices=[("", "Not applicable"), *AdmissionType.choices],
        widget=forms.RadioSelect,
    )
    source = forms.ChoiceField(
        label="Source",
        choices=[
            (EpisodeSource.CLINICAL_RECORDS, "Clinical records"),
            (EpisodeSource.SELF_REPORT, "Self-report"),
        ],
        widget=forms.RadioSelect,
    )
    before_randomisation_confirmed = forms.BooleanField(
        label="I confirm this episode started before randomisation", required=False
    )
    before_randomisation_reason = forms.CharField(
        label="Why an episode before randomisation is recorded",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only for a start before randomisation, for example 'admission still ongoing at randomisation'",
    )

    def __init__(self, *args: Any, settings: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["setting"].choices = settings  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end date must be the same as or after the start date")
        data["before_randomisation_reason"] = confirmed_reason(
            self,
            "before_randomisation_confirmed",
            "before_randomisation_reason",
            unconfirmed="Confirm the episode started before randomisation, or clear the reason",
            unexplained="Give the reason an episode before randomisation is recorded",
        )
        return data


class ImportForm(NamedErrors, forms.Form):
    file = forms.FileField(label="File", help_text="A CSV file, or a FHIR R4 bundle in JSON")

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        if (upload.size or 0) > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"File must be {MAX_FILE_BYTES // 2**20} MB or smaller (this one is "
                f"{(upload.size or 0) / 2**20:.1f} MB): split it and import each part"
            )
        return upload


class ReconcileForm(NamedErrors, forms.Form):
    decision = forms.ChoiceField(label="Decision", choices=Decision.choices, widget=forms.RadioSelect)
    pair = RecordIdsField(label="Overlapping episodes")
    keep = RecordIdField(label="Record to keep", required=False)
    reason = ReasonField(label="Reason", widget=forms.TextInput)


class DeathForm(NamedErrors, forms.Form):
    died_on = forms.DateField(label="Date of death", widget=DateInput)
    cause = forms.ChoiceField(label="Cause category", choices=CauseOfDeath.choices, widget=forms.RadioSelect)


class SaeForm(NamedErrors, forms.Form):
    category = forms.ChoiceField(label="Kind of event", choices=SaeCategory.choices, widget=forms.RadioSelect)
    onset = forms.DateField(label="Date of onset", widget=DateInput)
    description = forms.CharField(label="What happened", widget=forms.Textarea(attrs={"rows": 4}))
    seriousness = forms.ChoiceField(
        label="Seriousness", choices=Seriousness.choices, widget=forms.RadioSelect
    )
    relatedness = forms.ChoiceField(
        label="Relation to taking part in the trial", choices=Relatedness.choices, widget=forms.RadioSelect
    )
    expectedness = forms.ChoiceField(
        label="Expectedness", choices=Expectedness.choices, widget=forms.RadioSelect
    )


class SaeReviewForm(NamedErrors, forms.Form):
    relatedness = forms.ChoiceField(
        label="Relation to taking part in the trial", choices=Relatedness.choices, widget=forms.RadioSelect
    )
    expectedness = forms.ChoiceField(
        label="Expectedness", choices=Expectedness.choices, widget=forms.RadioSelect
    )
    review_notes = forms.CharField(
        label="Review notes", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = ReasonField(
        label="Reason for signing off", widget=forms.TextInput, initial="reviewed and signed off"
    )

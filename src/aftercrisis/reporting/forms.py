from __future__ import annotations

from django import forms

from aftercrisis.forms import NamedErrors


class LockForm(NamedErrors, forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: 'all queries resolved; final analysis' or 'data monitoring committee query'.",
    )
    reviewed = forms.BooleanField(label="I have reviewed the checklist", required=False)


class UnlockRequestForm(NamedErrors, forms.Form):
    reason = forms.CharField(label="Reason for unlocking", widget=forms.Textarea(attrs={"rows": 3}))


class UnlockDecisionForm(NamedErrors, forms.Form):
    decision = forms.ChoiceField(
        label="Decision", choices=[("agree", "Agree: unlock the database"), ("decline", "Decline")]
    )

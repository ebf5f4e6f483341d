from __future__ import annotations

from typing import Any

from django import forms

from aftercrisis.forms import NamedErrors
from aftercrisis.queries.checks import FIELDS
from aftercrisis.queries.models import QueryAction
from aftercrisis.queries.services import TEXT_MAX_LENGTH

MASKED_READERS = (
    "Researchers at the participant's site will read this. They do not know the participant's "
    "allocation: do not mention it, or anything that only happens in one group."
)


class QueryForm(NamedErrors, forms.Form):
    trial_id = forms.CharField(label="Trial ID", max_length=16)
    field = forms.ChoiceField(
        label="Form and field",
        choices=[("", "Select the form and field")] + [(f.code, f.label) for f in FIELDS],
    )
    text = forms.CharField(
        label="Query",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=MASKED_READERS,
    )


class RespondForm(NamedErrors, forms.Form):
    action = forms.ChoiceField(label="What to do", widget=forms.RadioSelect)
    text = forms.CharField(
        label="Message", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, actions: list[QueryAction], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(a.value, ACTION_TEXT[a]) for a in actions]
        if len(actions) == 1:
            field.initial = actions[0].value


ACTION_TEXT = {
    QueryAction.ANSWERED: "Answer the query",
    QueryAction.RESOLVED: "Resolve: the data is now right",
    QueryAction.CLOSED: "Close: no change is needed",
    QueryAction.REOPENED: "Re-open: ask again",
}

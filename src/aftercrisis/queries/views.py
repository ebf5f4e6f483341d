from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from aftercrisis.accounts.decorators import acting, requires, staff_user
from aftercrisis.accounts.policy import Capability
from aftercrisis.config.trial import protocol
from aftercrisis.forms import show_refusal
from aftercrisis.pagination import page_of
from aftercrisis.participants.selectors import participants_for
from aftercrisis.queries.checks import CHECKS_BY_CODE, FIELD_LABELS
from aftercrisis.queries.forms import MASKED_READERS, QueryForm, RespondForm
from aftercrisis.queries.models import QueryAction, QueryMessage, QueryState
from aftercrisis.queries.selectors import UNRESOLVED, counts_by_state, queries_for, query_for, thread_of
from aftercrisis.queries.services import raise_query, respond, run_checks, steps_for

SOURCES = {"check": "Raised by an automatic check", "hand": "Raised by hand"}


@requires(Capability.VIEW_QUERIES)
def query_list(request: HttpRequest) -> HttpResponse:
    """Open and answered queries first by default; a state or a source narrows the list."""
    actor = acting(request)
    queries = queries_for(actor)
    source = request.GET.get("source", "")
    if source == "check":
        queries = queries.exclude(check_code="")
    elif source == "hand":
        queries = queries.filter(check_code="")
    else:
        source = ""
    counts = counts_by_state(queries)
    state = request.GET.get("state", "")
    if state in QueryState.values:
        shown = queries.filter(state=state)
        count = counts[state]
    elif state == "all":
        shown, count = queries, sum(counts.values())
    else:
        state = ""
        shown = queries.filter(state__in=UNRESOLVED)
        count = sum(counts[s] for s in UNRESOLVED)
    page = page_of(request, shown.order_by("raised_at", "pk"), count=count)
    questions = dict(
        QueryMessage.objects.filter(query__in=[q.pk for q in page], action=QueryAction.RAISED).values_list(
            "query_id", "text"
        )
    )
    return render(
        request,
        "queries/list.jinja",
        {
            "page": page,
            "questions": questions,
            "counts": counts,
            "state": state,
            "states": QueryState.choices,
            "source": source,
            "sources": SOURCES,
            "fields": FIELD_LABELS,
            "can_manage": actor.can(Capability.MANAGE_QUERIES),
        },
    )


@requires(Capability.VIEW_QUERIES)
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting(request)
    query = query_for(actor, pk)
    actions = steps_for(actor, query)
    form = RespondForm(request.POST or None, actions=actions)
    if request.method == "POST":
        if not actions:
            raise ValidationError(
                f"This query is {query.get_state_display().lower()}: there is nothing to do now"
            )
        if form.is_valid():
            try:
                respond(
                    actor,
                    protocol(),
                    query,
                    action=form.cleaned_data["action"],
                    text=form.cleaned_data["text"],
                    by=staff_user(request),
                )
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                messages.success(
                    request, f"Query {query.pk}: {QueryAction(form.cleaned_data['action']).label.lower()}."
                )
                return redirect("queries:detail", pk=query.pk)
    check = CHECKS_BY_CODE.get(query.check_code)
    return render(
        request,
        "queries/detail.jinja",
        {
            "query": query,
            "thread": thread_of(query),
            "field_label": FIELD_LABELS.get(f"{query.form}.{query.field}", f"{query.form}: {query.field}"),
            "check": check,
            "form": form if actions else None,
            "warning": MASKED_READERS if actor.can(Capability.MANAGE_QUERIES) else "",
        },
    )


@requires(Capability.MANAGE_QUERIES)
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """A query raised by hand, on any participant and field; `?participant=` fills in the trial ID."""
    actor = acting(request)
    form = QueryForm(request.POST or None, initial={"trial_id": request.GET.get("participant", "")[:16]})
    if request.method == "POST" and form.is_valid():
        participant = participants_for(actor).filter(trial_id=form.cleaned_data["trial_id"].strip()).first()
        if participant is None:
            form.add_error("trial_id", "No participant at your sites has this trial ID")
        else:
            try:
                query = raise_query(
                    actor,
                    protocol(),
                    participant,
                    field=form.cleaned_data["field"],
                    text=form.cleaned_data["text"],
                    by=staff_user(request),
                )
            except ValidationError as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, f"Query {query.pk} raised on {participant.trial_id}.")
                return redirect("queries:detail", pk=query.pk)
    return render(request, "queries/new.jinja", {"form": form})


@requires(Capability.MANAGE_QUERIES)
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    summary = run_checks(protocol(), timezone.localdate())
    messages.success(request, f"Checks run: {summary}.")
    return redirect("queries:list")

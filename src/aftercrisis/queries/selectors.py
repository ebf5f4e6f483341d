"""Reads of data queries, scoped by the actor's sites: the owners of a query are the researchers at
the participant's site, and any of them may answer it."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from aftercrisis.accounts.policy import Actor, Capability
from aftercrisis.queries.models import DataQuery, QueryMessage, QueryState

UNRESOLVED = (QueryState.OPEN, QueryState.ANSWERED)


def queries_for(actor: Actor) -> QuerySet[DataQuery]:
    if not actor.can(Capability.VIEW_QUERIES):
        return DataQuery.objects.none()
    found = DataQuery.objects.select_related("participant", "participant__site")
    return found if actor.site_ids is None else found.filter(participant__site_id__in=actor.site_ids)


def query_for(actor: Actor, pk: int) -> DataQuery:
    found = queries_for(actor).filter(pk=pk).first()
    if found is None:
        raise Http404("no such query")
    return found


def queries_to_answer(actor: Actor) -> QuerySet[DataQuery]:
    """Queries at the actor's sites waiting for a researcher's answer, oldest first: on their worklist."""
    return queries_for(actor).filter(state=QueryState.OPEN).order_by("raised_at", "pk")


def thread_of(query: DataQuery) -> QuerySet[QueryMessage]:
    return QueryMessage.objects.filter(query=query).select_related("by")


def counts_by_state(queries: QuerySet[DataQuery]) -> dict[str, int]:
    """How many queries are in each state, in one query."""
    counted = queries.aggregate(**{s.value: Count("pk", filter=Q(state=s)) for s in QueryState})
    return {s.value: counted[s.value] for s in QueryState}

"""Personal API tokens: issued and revoked by their owner, checked on every request, limited in rate,
and named in the audit trail of everything written with them."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from aftercrisis.accounts.models import User
from aftercrisis.accounts.policy import Actor
from aftercrisis.accounts.roles import Role
from aftercrisis.accounts.selectors import actor_for, roles_of
from aftercrisis.api.models import ApiToken

# A token lives at most this long; its owner makes a new one rather than keeping one for ever.
LONGEST_LIFE = dt.timedelta(days=365)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str  # shown once, never stored


def issue_token(user: User, *, name: str, role: str, expires_on: dt.date, today: dt.date) -> Issued:
    """A new token for one of the user's roles; the secret is returned once and only its hash is kept."""
    problems: dict[str, str] = {}
    if not name.strip():
        problems["name"] = "Enter a name for the token"
    if role not in roles_of(user):
        problems["role"] = "A token acts only in a role of your own"
    if not today < expires_on <= today + LONGEST_LIFE:
        problems["expires_on"] = (
            f"The expiry date must be after today and no later than {today + LONGEST_LIFE:%Y-%m-%d}"
        )
    if problems:
        raise ValidationError(problems)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name.strip(), role=role, secret_sha256=_digest(secret), expires_on=expires_on
    )
    token._history_user = user  # type: ignore[attr-defined]
    token._change_reason = "token created"  # type: ignore[attr-defined]
    token.full_clean()
    token.save()
    return Issued(token, secret)


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens, for good."""
    token = tokens_of(user).filter(pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise ValidationError({"token": "There is no such token to revoke"})
    token.revoked_at = timezone.now()
    token._history_user = user  # type: ignore[attr-defined]
    token._change_reason = "token revoked"  # type: ignore[attr-defined]
    token.save(update_fields=["revoked_at"])
    return token


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def authenticate(secret: str) -> tuple[ApiToken, Actor] | None:
    """The token and the actor it acts as, if the secret is a live token of an active member of staff who
    still holds the token's role; its sites are that role's sites now."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(secret_sha256=_digest(secret), revoked_at__isnull=True, expires_on__gte=timezone.localdate())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    actor = actor_for(token.user, Role(token.role))
    if actor is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token, actor


def seconds_until_allowed(token: ApiToken) -> int:
    """0 if the token may make another request now; otherwise how long until its window ends.

    A fixed window per token in the cache (shared by the server's processes under the production settings),
    keyed by the token's own hash, which no other token ever has: a row number can come round again where
    a transaction that made a token was rolled back."""
    limit, window = settings.API_RATE_LIMIT
    now = int(time.time())
    key = f"api-rate:{token.secret_sha256}:{now // window}"
    cache.add(key, 0, timeout=window)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        used = 1
    return 0 if used <= limit else window - now % window


@receiver(pre_create_historical_record)
def _name_the_token(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """Whatever a request with a token writes is audited as written through that token."""
    request = getattr(HistoricalRecords.context, "request", None)
    token: ApiToken | None = getattr(request, "api_token", None)
    if token is None:
        return
    from aftercrisis.audit import REASON_MAX_LENGTH

    # The token is always named whole (its name is short enough); a long reason gives way to it.
    named = f"via API token {token.name}"
    reason = history_instance.history_change_reason or ""
    room = REASON_MAX_LENGTH - len(named) - 1
    if len(reason) > room:
        reason = reason[: room - 1] + "…"
    history_instance.history_change_reason = " ".join(filter(None, [reason, named]))

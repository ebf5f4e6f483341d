"""The Jinja2 environment: project templates first, then the NHS.UK frontend macros."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader

from aftercrisis.accounts.policy import Capability
from aftercrisis.config.navigation import navigation
from aftercrisis.lock.services import lock_notice
from aftercrisis.pagination import page_url, sort_url


def _date(value: dt.date | dt.datetime | None, fmt: str = "%-d %b %Y") -> str:
    """NHS style dates: 3 Jul 2015."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime(fmt)


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options: Any) -> Environment:
    options["loader"] = ChoiceLoader([options["loader"], PackageLoader("nhsuk_frontend_jinja")])
    options.update(
        undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.do"]
    )
    env = Environment(**options)
    env.globals.update(
        url=url,
        static=static,
        get_messages=get_messages,
        navigation=navigation,
        page_url=page_url,
        sort_url=sort_url,
        capability=Capability,
        lock_notice=lock_notice,
    )
    env.filters.update(date=_date, datetime=lambda v: _date(v, "%-d %b %Y, %H:%M"))
    return env

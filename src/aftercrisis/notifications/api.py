"""The stable API: `send_email`, `send_sms`, `send_letter`. Bad input is refused before anything is sent.

A write whose messages must go only if it is saved composes them inside its transaction (`email`,
`sms`, `letter`: checked, not sent) and hands them to `send_on_commit`, so that they go exactly once,
after the commit, and never for a write that was rolled back.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from aftercrisis.notifications.backends import Message, text_backend

log = logging.getLogger(__name__)

# The To header of a blind e-mail (RFC 5322's empty group): the addresses are the envelope's alone.
UNDISCLOSED = "undisclosed-recipients:;"

# UK mobile numbers, with or without the +44 prefix; spaces and dashes are ignored.
_UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# GOV.UK Notify needs three to seven address lines, the last a postcode.
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.IGNORECASE)


class NotificationRefused(ValueError):
    """The message cannot be sent as given; the text says which field is wrong."""


def email(
    to: str | Sequence[str], subject: str, body: str, *, reference: str = "", blind: bool = False
) -> Message:
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise NotificationRefused("to: give at least one e-mail address")
    bad = [r for r in recipients if not _EMAIL.match(r)]
    if bad:
        raise NotificationRefused(f"to: not an e-mail address: {', '.join(bad)}")
    _require_text(subject=subject, body=body)
    return Message("email", tuple(recipients), subject, body, reference, blind=blind)


def sms(phone: str, body: str, *, reference: str = "") -> Message:
    number = re.sub(r"[\s()-]", "", phone or "")
    if not _UK_MOBILE.match(number):
        raise NotificationRefused(f"phone: {phone!r} is not a UK mobile number")
    _require_text(body=body)
    return Message("sms", (number,), "", body, reference)


def letter(address_lines: Sequence[str], body: str, *, subject: str = "", reference: str = "") -> Message:
    lines = tuple(line.strip() for line in address_lines if line and line.strip())
    if not 3 <= len(lines) <= 7:
        raise NotificationRefused(
            f"address_lines: a letter needs 3 to 7 address lines, the last a postcode; got {len(lines)}"
        )
    if not _POSTCODE.match(lines[-1]):
        raise NotificationRefused(f"address_lines: the last line {lines[-1]!r} is not a UK postcode")
    _require_text(body=body)
    return Message("letter", lines, subject, body, reference)


def deliver(message: Message, *, connection: BaseEmailBackend | None = None) -> Message:
    """Send a composed message: e-mail through Django's mail (through `connection` when one is open),
    the rest through the text backend."""
    if message.channel == "email" and message.blind and len(message.to) > 1:
        EmailMessage(
            message.subject,
            message.body,
            settings.DEFAULT_FROM_EMAIL,
            list(message.to),
            headers={"To": UNDISCLOSED},
            connection=connection,
        ).send()
    elif message.channel == "email":
        send_mail(
            message.subject,
            message.body,
            settings.DEFAULT_FROM_EMAIL,
            list(message.to),
            connection=connection,
        )
    else:
        text_backend().deliver(message)
    return message


def send_on_commit(messages: Sequence[Message]) -> None:
    """Send the messages once the current transaction commits (at once outside one; never if it rolls
    back). Each goes on its own: a failing one is logged and does not hold back the others. The e-mails
    among them go through one connection to the mail server, opened for them."""
    if messages:
        transaction.on_commit(partial(_deliver_each, tuple(messages)))


def _deliver_each(messages: Sequence[Message]) -> None:
    connection: BaseEmailBackend | None = None
    try:
        for message in messages:
            try:
                if message.channel == "email" and connection is None:
                    opened = get_connection()
                    opened.open()
                    connection = opened
                deliver(message, connection=connection)
            except Exception:  # as Django's robust on_commit: logged, and the next one is sent
                log.exception("a %s (reference %s) could not be sent", message.channel, message.reference)
                if message.channel == "email" and connection is not None:
                    # The next e-mail on a connection of its own, in case this one is what failed.
                    with contextlib.suppress(Exception):
                        connection.close()
                    connection = None
    finally:
        if connection is not None:
            connection.close()


def send_email(to: str | Sequence[str], subject: str, body: str, *, reference: str = "") -> Message:
    return deliver(email(to, subject, body, reference=reference))


def send_sms(phone: str, body: str, *, reference: str = "") -> Message:
    return deliver(sms(phone, body, reference=reference))


def send_letter(
    address_lines: Sequence[str], body: str, *, subject: str = "", reference: str = ""
) -> Message:
    return deliver(letter(address_lines, body, subject=subject, reference=reference))


def _require_text(**fields: str) -> None:
    for name, value in fields.items():
        if not (value or "").strip():
            raise NotificationRefused(f"{name}: the message has no {name}")

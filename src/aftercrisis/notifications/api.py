"""The stable API: `send_email`, `send_sms`, `send_letter`. Bad input is refused before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail

from aftercrisis.notifications.backends import Message, text_backend

# UK mobile numbers, with or without the +44 prefix; spaces and dashes are ignored.
_UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# GOV.UK Notify needs three to seven address lines, the last a postcode.
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.IGNORECASE)


class NotificationRefused(ValueError):
    """The message cannot be sent as given; the text says which field is wrong."""


def send_email(to: str | Sequence[str], subject: str, body: str, *, reference: str = "") -> Message:
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise NotificationRefused("to: give at least one e-mail address")
    bad = [r for r in recipients if not _EMAIL.match(r)]
    if bad:
        raise NotificationRefused(f"to: not an e-mail address: {', '.join(bad)}")
    _require_text(subject=subject, body=body)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return Message("email", tuple(recipients), subject, body, reference)


def send_sms(phone: str, body: str, *, reference: str = "") -> Message:
    number = re.sub(r"[\s()-]", "", phone or "")
    if not _UK_MOBILE.match(number):
        raise NotificationRefused(f"phone: {phone!r} is not a UK mobile number")
    _require_text(body=body)
    message = Message("sms", (number,), "", body, reference)
    text_backend().deliver(message)
    return message


def send_letter(
    address_lines: Sequence[str], body: str, *, subject: str = "", reference: str = ""
) -> Message:
    lines = tuple(line.strip() for line in address_lines if line and line.strip())
    if not 3 <= len(lines) <= 7:
        raise NotificationRefused(
            f"address_lines: a letter needs 3 to 7 address lines, the last a postcode; got {len(lines)}"
        )
    if not _POSTCODE.match(lines[-1]):
        raise NotificationRefused(f"address_lines: the last line {lines[-1]!r} is not a UK postcode")
    _require_text(body=body)
    message = Message("letter", lines, subject, body, reference)
    text_backend().deliver(message)
    return message


def _require_text(**fields: str) -> None:
    for name, value in fields.items():
        if not (value or "").strip():
            raise NotificationRefused(f"{name}: the message has no {name}")

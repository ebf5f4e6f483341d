"""Where text messages and letters go: GOV.UK Notify, the console, files, or a list kept for tests."""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, Protocol

from django.conf import settings


@dataclass(frozen=True)
class Message:
    channel: Literal["email", "sms", "letter"]
    to: tuple[str, ...]  # addresses, one phone number, or the lines of a postal address
    subject: str
    body: str
    reference: str = ""
    # An e-mail to several people that names none of them to the others: its To header says
    # "undisclosed-recipients" (and so is short, however many there are); each address still receives it.
    blind: bool = False


class Backend(Protocol):
    def deliver(self, message: Message) -> None: ...


class ConsoleBackend:
    """Prints each message to standard error (the default when no Notify key is configured)."""

    def deliver(self, message: Message) -> None:
        print(
            f"--- {message.channel} to {' / '.join(message.to)}\n{message.subject}\n{message.body}\n---",
            file=sys.stderr,
        )


# Messages kept by the recording backend, like Django's mail.outbox.
outbox: list[Message] = []


class RecordingBackend:
    def deliver(self, message: Message) -> None:
        outbox.append(message)


class FileBackend:
    """One JSON file per message in a directory, like Django's file e-mail backend: what a server's
    processes sent can be read afterwards (a staging server, or a test of a running server)."""

    def __init__(self, directory: str) -> None:
        if not directory:
            raise ValueError("NOTIFICATIONS_FILE_PATH: give the directory for the file backend")
        self.directory = Path(directory)

    def deliver(self, message: Message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{message.channel}-{os.getpid()}-{uuid.uuid4().hex}.json"
        (self.directory / name).write_text(json.dumps(asdict(message)), encoding="utf-8")


class NotifyBackend:
    """GOV.UK Notify. Each channel uses one template with `subject` and `body` placeholders."""

    def __init__(self, api_key: str, sms_template: str, letter_template: str, base_url: str) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(api_key, base_url=base_url)  # type: ignore[no-untyped-call]
        self.sms_template = sms_template
        self.letter_template = letter_template

    def deliver(self, message: Message) -> None:
        if message.channel == "sms":
            self.client.send_sms_notification(  # type: ignore[no-untyped-call]
                phone_number=message.to[0],
                template_id=self.sms_template,
                personalisation={"body": message.body},
                reference=message.reference or None,
            )
        elif message.channel == "letter":
            address = {f"address_line_{i}": line for i, line in enumerate(message.to, start=1)}
            self.client.send_letter_notification(  # type: ignore[no-untyped-call]
                template_id=self.letter_template,
                personalisation={**address, "subject": message.subject, "body": message.body},
                reference=message.reference or None,
            )
        else:
            raise ValueError(f"channel: Notify backend does not send {message.channel}")


def text_backend() -> Backend:
    """Notify when a key is configured; otherwise the backend named by NOTIFICATIONS_BACKEND."""
    key = getattr(settings, "NOTIFY_API_KEY", "")
    if key:
        return NotifyBackend(
            key,
            sms_template=getattr(settings, "NOTIFY_SMS_TEMPLATE_ID", ""),
            letter_template=getattr(settings, "NOTIFY_LETTER_TEMPLATE_ID", ""),
            base_url=getattr(settings, "NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk"),
        )
    name = getattr(settings, "NOTIFICATIONS_BACKEND", "console")
    if name == "recording":
        return RecordingBackend()
    if name == "console":
        return ConsoleBackend()
    if name == "file":
        return FileBackend(getattr(settings, "NOTIFICATIONS_FILE_PATH", ""))
    raise ValueError(f"NOTIFICATIONS_BACKEND: unknown backend {name!r} (console, file or recording)")

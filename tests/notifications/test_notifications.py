"""The notifications API: what is refused, and what reaches each backend (Notify through a loopback server)."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from aftercrisis.notifications import (
    NotificationRefused,
    backends,
    email,
    letter,
    send_email,
    send_letter,
    send_on_commit,
    send_sms,
)
from aftercrisis.notifications.api import deliver

ADDRESS = ["A Participant", "1 Example Street", "London", "NW1 2AB"]


@pytest.fixture
def recording(settings):
    settings.NOTIFY_API_KEY = ""
    settings.NOTIFICATIONS_BACKEND = "recording"
    backends.outbox.clear()
    return backends.outbox


def test_email_goes_through_django_mail():
    send_email("manager@example.org", "Randomised", "CAM-0001 was randomised.")
    assert [m.to for m in mail.outbox] == [["manager@example.org"]]
    assert mail.outbox[0].subject == "Randomised"


def test_a_blind_email_reaches_everyone_and_names_nobody():
    deliver(email(["a@example.org", "b@example.org"], "Randomised", "CAM-0001 was randomised.", blind=True))
    deliver(email(["c@example.org"], "Randomised", "CAM-0002 was randomised.", blind=True))
    blind, alone = mail.outbox
    assert blind.recipients() == ["a@example.org", "b@example.org"]
    text = blind.message().as_string()
    assert "To: undisclosed-recipients:;" in text and "@example.org" not in text
    assert "To: c@example.org" in alone.message().as_string()  # one recipient sees only themselves


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: send_email("not-an-address", "s", "b"), "to"),
        (lambda: send_email([], "s", "b"), "to"),
        (lambda: send_email("a@example.org", " ", "b"), "subject"),
        (lambda: send_sms("020 7946 0000", "hello"), "phone"),
        (lambda: send_sms("07700 900123", ""), "body"),
        (lambda: send_letter(["One line", "NW1 2AB"], "b"), "address_lines"),
        (lambda: send_letter(["A", "B", "not a postcode"], "b"), "address_lines"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_sent(recording, call, field):
    with pytest.raises(NotificationRefused, match=rf"^{field}:"):
        call()
    assert recording == [] and mail.outbox == []


def test_sms_and_letters_reach_the_configured_backend(recording):
    send_sms("07700 900123", "Your next visit is due.", reference="CAM-0001")
    send_letter(ADDRESS, "Thank you for taking part.", subject="CORE study")
    assert [(m.channel, m.to) for m in recording] == [
        ("sms", ("07700900123",)),
        ("letter", tuple(ADDRESS)),
    ]


class RefusingBackend(LocmemBackend):
    """Django's test mail backend, counting its connections, refusing a message whose subject says so."""

    opened = 0

    def open(self) -> bool:
        RefusingBackend.opened += 1
        return super().open()

    def send_messages(self, messages):
        if any(m.subject == "refused" for m in messages):
            raise OSError("the mail server refused it")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_messages_sent_on_commit_go_each_on_its_own_the_emails_through_one_connection(
    recording, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    RefusingBackend.opened = 0
    messages = [
        email("a@example.org", "first", "b", reference="CAM-0001"),
        email("b@example.org", "refused", "b", reference="CAM-0001"),
        letter(ADDRESS, "Thank you for taking part.", reference="CAM-0001"),
        email("c@example.org", "last", "b", reference="CAM-0001"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(messages)
        assert mail.outbox == [] and recording == []  # nothing before the commit
    # The refused one is logged, without its addresses; the others are sent all the same.
    assert [m.subject for m in mail.outbox] == ["first", "last"]
    assert [m.channel for m in recording] == ["letter"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "a email (reference CAM-0001) could not be sent"
    ]
    # One connection for the e-mails, and a new one after a refusal, in case the connection was what failed.
    assert RefusingBackend.opened == 2


def test_console_backend_prints_to_stderr(settings, capsys):
    settings.NOTIFY_API_KEY = ""
    settings.NOTIFICATIONS_BACKEND = "console"
    send_sms("+447700900123", "Hello from the study")
    assert "Hello from the study" in capsys.readouterr().err


class _FakeNotify(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, object], str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body, self.headers.get("Authorization", "")))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": str(uuid.uuid4())}).encode())

    def log_message(self, *args: object) -> None:
        pass


def test_notify_backend_posts_to_the_notify_api(settings):
    server = HTTPServer(("127.0.0.1", 0), _FakeNotify)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # Notify keys are "name-<service uuid>-<secret uuid>".
        settings.NOTIFY_API_KEY = f"test-{uuid.uuid4()}-{uuid.uuid4()}"
        settings.NOTIFY_BASE_URL = f"http://127.0.0.1:{server.server_port}"
        settings.NOTIFY_SMS_TEMPLATE_ID = "sms-template"
        settings.NOTIFY_LETTER_TEMPLATE_ID = "letter-template"
        send_sms("07700 900123", "Reminder", reference="CAM-0001")
        send_letter(ADDRESS, "Your workbook", subject="CORE")
    finally:
        server.shutdown()
        server.server_close()
    (sms_path, sms, auth), (letter_path, letter, _) = _FakeNotify.received[-2:]
    assert sms_path == "/v2/notifications/sms" and auth.startswith("Bearer ")
    assert sms == {
        "phone_number": "07700900123",
        "template_id": "sms-template",
        "personalisation": {"body": "Reminder"},
        "reference": "CAM-0001",
    }
    assert letter_path == "/v2/notifications/letter"
    assert letter["personalisation"]["address_line_4"] == "NW1 2AB"
    assert letter["personalisation"]["body"] == "Your workbook"

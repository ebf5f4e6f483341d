"""Messages to staff and participants: e-mail, text message and letter.

Other code calls only these functions: `send_email`, `send_sms` and `send_letter` at once, or
`email`, `sms` and `letter` to compose inside a transaction and `send_on_commit` to send after it.
E-mail goes through Django's mail (the console backend unless configured otherwise); text messages
and letters go through GOV.UK Notify when `NOTIFY_API_KEY` is set, else to the console, or to one
file per message in `NOTIFICATIONS_FILE_PATH`.
"""

from aftercrisis.notifications.api import (
    NotificationRefused,
    email,
    letter,
    send_email,
    send_letter,
    send_on_commit,
    send_sms,
    sms,
)
from aftercrisis.notifications.backends import Message

__all__ = [
    "Message",
    "NotificationRefused",
    "email",
    "letter",
    "send_email",
    "send_letter",
    "send_on_commit",
    "send_sms",
    "sms",
]

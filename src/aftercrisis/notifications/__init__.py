"""Messages to staff and participants: e-mail, text message and letter.

Other code calls only these three functions. E-mail goes through Django's mail (the console
backend unless configured otherwise); text messages and letters go through GOV.UK Notify when
`NOTIFY_API_KEY` is set, and to the console otherwise.
"""

from aftercrisis.notifications.api import NotificationRefused, send_email, send_letter, send_sms
from aftercrisis.notifications.backends import Message

__all__ = ["Message", "NotificationRefused", "send_email", "send_letter", "send_sms"]

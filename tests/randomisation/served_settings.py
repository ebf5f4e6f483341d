"""The settings of a served day (tests.randomisation.served): the test or the production settings, as
SERVED_SETTINGS says, with every e-mail and letter written to a file under SERVED_OUTBOX, so that the
test can count what the server's processes sent."""

import importlib
import os

_chosen = importlib.import_module(f"aftercrisis.config.settings.{os.environ.get('SERVED_SETTINGS', 'test')}")
globals().update({name: value for name, value in vars(_chosen).items() if name.isupper()})

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.path.join(os.environ["SERVED_OUTBOX"], "email")
NOTIFICATIONS_BACKEND = "file"
NOTIFICATIONS_FILE_PATH = os.path.join(os.environ["SERVED_OUTBOX"], "text")
NOTIFY_API_KEY = ""

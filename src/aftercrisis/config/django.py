"""Start Django from the command line, with the demo's settings unless told otherwise."""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercrisis.config.settings.dev")
    import django

    django.setup()

"""The demo and local development: SQLite under var/, debug pages, no two-factor."""

from aftercrisis.config.settings.base import *  # noqa: F403

DEBUG = True

"""Tests: the real database (SQLite, or PostgreSQL through DATABASE_URL), fast hashing."""

from aftercrisis.config.settings.base import *  # noqa: F403
from aftercrisis.config.settings.base import PASSWORD_HASHERS

# Argon2 is what production uses; tests that sign in hundreds of times use a cheap hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = True

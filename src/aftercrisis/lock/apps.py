from django.apps import AppConfig


class LockConfig(AppConfig):
    name = "aftercrisis.lock"
    verbose_name = "Database lock"

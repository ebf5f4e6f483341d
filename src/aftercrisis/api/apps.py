from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "aftercrisis.api"
    verbose_name = "API"

    def ready(self) -> None:
        from aftercrisis.api import tokens  # noqa: F401  # names the token in the audit trail

from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "aftercrisis.reporting"
    verbose_name = "Reports"

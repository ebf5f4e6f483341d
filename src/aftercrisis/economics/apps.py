from django.apps import AppConfig


class EconomicsConfig(AppConfig):
    name = "aftercrisis.economics"
    verbose_name = "Resource use"

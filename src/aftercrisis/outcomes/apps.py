from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "aftercrisis.outcomes"
    verbose_name = "Outcomes and safety"

from django.apps import AppConfig


class QueriesConfig(AppConfig):
    name = "aftercrisis.queries"
    verbose_name = "Data queries"

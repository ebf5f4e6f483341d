from django.apps import AppConfig


class RandomisationConfig(AppConfig):
    name = "aftercrisis.randomisation"
    verbose_name = "Randomisation"

from django.apps import AppConfig


class InterventionConfig(AppConfig):
    name = "aftercrisis.intervention"
    verbose_name = "Peer support"

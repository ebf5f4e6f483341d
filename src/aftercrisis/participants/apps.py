from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "aftercrisis.participants"
    verbose_name = "Participants"

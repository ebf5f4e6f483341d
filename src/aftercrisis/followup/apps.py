from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "aftercrisis.followup"
    verbose_name = "Follow-up"

from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "aftercrisis.recruitment"
    verbose_name = "Recruitment"

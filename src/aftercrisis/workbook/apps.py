from django.apps import AppConfig


class WorkbookConfig(AppConfig):
    name = "aftercrisis.workbook"
    verbose_name = "Personal recovery workbook"

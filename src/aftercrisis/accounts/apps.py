from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "aftercrisis.accounts"
    verbose_name = "Staff, roles and sites"

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "epoch_site.accounts"
    label = "accounts"
    verbose_name = "Epoch users and roles"

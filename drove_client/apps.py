from django.apps import AppConfig


class DroveClientConfig(AppConfig):
    name = "drove_client"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "arrears.access"
    default_auto_field = "django.db.models.BigAutoField"

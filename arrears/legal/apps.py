from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "arrears.legal"
    default_auto_field = "django.db.models.BigAutoField"

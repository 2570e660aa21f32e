from django.apps import AppConfig


class CorrespondenceConfig(AppConfig):
    name = "arrears.correspondence"
    default_auto_field = "django.db.models.BigAutoField"

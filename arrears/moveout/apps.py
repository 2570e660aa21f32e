from django.apps import AppConfig


class MoveoutConfig(AppConfig):
    name = "arrears.moveout"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "arrears.reports"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "arrears.web"
    label = "web"

from django.apps import AppConfig


class BankingConfig(AppConfig):
    name = "arrears.banking"
    label = "banking"
    verbose_name = "Money in: bank files"

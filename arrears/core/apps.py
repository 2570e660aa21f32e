from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "arrears.core"
    label = "core"

    def ready(self) -> None:
        from arrears.core.lookups import install

        install()

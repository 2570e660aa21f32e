from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Each new SQLite connection gets `arrears_fold` (PostgreSQL's is a migration's function)."""
    if connection.vendor == "sqlite":
        from arrears.core.fold import install_sqlite

        install_sqlite(connection.connection)


class CoreConfig(AppConfig):
    name = "arrears.core"
    label = "core"

    def ready(self) -> None:
        from arrears.core.lookups import install

        install()
        connection_created.connect(_on_connection, dispatch_uid="arrears_fold")

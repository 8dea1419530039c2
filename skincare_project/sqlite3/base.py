"""Django's SQLite backend, except that it makes the database file's folder before connecting.

The default database is var/db.sqlite3 in a fresh clone, where var/ does not exist yet; settings
make no folders on import, so the folder is made here, where it is first needed.
"""

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        database = str(conn_params["database"])
        # In-memory databases (tests) and file: URIs name no folder of ours.
        if not self.is_in_memory_db() and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)

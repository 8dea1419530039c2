"""Django's SQLite backend, making the database file's folder on first connect (see base.py)."""

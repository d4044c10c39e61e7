"""Schema history of this service's database (alembic; the environment is shared)."""

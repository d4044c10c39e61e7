"""The platform tables every service's database has (event store, outbox, consumer state,
idempotency, set-aside events, outbox blocks) are the alembic branch `platform`, in
`platform_versions/`: one definition, applied once to each service's database beside
the service's own chain (`db/migrate.py`).
"""


def execute_script(sql: str) -> None:
    """asyncpg prepares each statement, so a script goes in one statement at a time."""
    from alembic import op

    for statement in sql.split(";\n"):
        if statement.strip():
            op.execute(statement)

"""Who may reach a service's database, and what a reader there may hold: for migrations.

PostgreSQL's defaults are open in three ways that matter here. Every role
(PUBLIC) may connect to every database, so the analysts' login, meant for the
reporting views, could open billing, collections and cases. Every role may
execute the advisory-lock functions, so a reader could take the locks the
relay, the consumers and the migrations rely on and stall the service. And a
statement runs as long as it likes. These helpers close each one for the
database being migrated, from inside its migrations, which is the one place
every deployment runs (the dev stack, the tests, compose, the Helm hook Job).

Each change needs a right the migrating role may not have on a managed server:
owning the database, or being superuser for the functions in `pg_catalog`.
Without it the migration does not fail (the service must still start) but
raises a WARNING naming the statement a DBA has to run instead.
"""

from __future__ import annotations

import re

# What a migration hands its DO blocks, which take no bind parameters: a setting local to
# the migration's transaction, set through a bound value so nothing is spliced into SQL.
_ARGUMENT = "SELECT set_config('receivables.migration_argument', :value, true)"

_CONNECT_ONLY_BY_GRANT = """
DO $$
DECLARE
  grantee text;
BEGIN
  IF NOT pg_has_role(current_user, (SELECT datdba FROM pg_database
                                    WHERE datname = current_database()), 'MEMBER') THEN
    RAISE WARNING '%', format('every role may still connect to database %s: %s does not own '
                              'it; its owner should run REVOKE CONNECT ON DATABASE %I FROM '
                              'PUBLIC', current_database(), current_user, current_database());
    RETURN;
  END IF;
  EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
  FOREACH grantee IN ARRAY string_to_array(
      current_setting('receivables.migration_argument'), ',') LOOP
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), grantee);
  END LOOP;
END $$"""

_ADVISORY_LOCKS_ONLY_FOR_THE_SERVICE = """
DO $$
DECLARE
  fn regprocedure;
  owner name := (SELECT pg_get_userbyid(datdba) FROM pg_database
                 WHERE datname = current_database());
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE WARNING '%', format('every role connecting to %s may still take advisory locks: '
                              'only a superuser may revoke EXECUTE on pg_advisory_lock and '
                              'its kin from PUBLIC', current_database());
    RETURN;
  END IF;
  FOR fn IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'pg_catalog'::regnamespace
              AND p.proname ~ '^pg_(try_)?advisory_' LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I, %I', fn, current_user, owner);
  END LOOP;
END $$"""

_STATEMENT_TIMEOUT_FOR_OTHERS = """
DO $$
DECLARE
  timeout text := current_setting('receivables.migration_argument');
  owner name := (SELECT pg_get_userbyid(datdba) FROM pg_database
                 WHERE datname = current_database());
BEGIN
  IF NOT pg_has_role(current_user, owner, 'MEMBER') THEN
    RAISE WARNING '%', format('no statement timeout for readers of %s: %s does not own it; '
                              'its owner should run ALTER DATABASE %I SET statement_timeout '
                              '= %L', current_database(), current_user, current_database(),
                              timeout);
    RETURN;
  END IF;
  EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET statement_timeout = 0',
                 current_database());
  IF owner <> current_user AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('ALTER ROLE %I IN DATABASE %I SET statement_timeout = 0',
                   owner, current_database());
  END IF;
  EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), timeout);
END $$"""

_DURATION = re.compile(r"[0-9]{1,9}\s*(?:ms|s|min|h|d)?", re.ASCII)


def _with_argument(value: str, block: str) -> None:
    import sqlalchemy as sa
    from alembic import op

    op.execute(sa.text(_ARGUMENT).bindparams(value=value))
    op.execute(block)


def connect_only_by_grant(*roles: str) -> None:
    """Revoke CONNECT on this database from PUBLIC and grant it to `roles`.

    The owner keeps it (an owner holds every privilege) and superusers need none,
    so the service itself is unaffected; `roles` are the others that belong here."""
    _with_argument(",".join(roles), _CONNECT_ONLY_BY_GRANT)


def advisory_locks_only_for_the_service() -> None:
    """Revoke EXECUTE on every advisory-lock function from PUBLIC in this database, and grant
    it back to the roles the service migrates and runs as (the migrating role and the
    database's owner). Function privileges are per database: other databases keep
    PostgreSQL's default."""
    from alembic import op

    op.execute(_ADVISORY_LOCKS_ONLY_FOR_THE_SERVICE)


def statement_timeout_for_others(timeout: str) -> None:
    """Make `timeout` the default statement_timeout of this database, for every role but
    the service's own (the migrating role and the owner keep none).

    A setting on a group role (`ALTER ROLE analyst SET ...`) would not reach its
    members: PostgreSQL applies only the settings of the role that logs in. The
    database's default reaches every analyst login however it was created, and a
    setting for role and database together outranks it for the service."""
    if not _DURATION.fullmatch(timeout.strip()):
        raise ValueError(
            f"a statement timeout is a whole number with an optional unit "
            f"(ms, s, min, h, d), e.g. 2min; got {timeout!r}"
        )
    _with_argument(timeout.strip(), _STATEMENT_TIMEOUT_FOR_OTHERS)

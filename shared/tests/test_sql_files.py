"""A file of SQL objects splits into the statements the server is sent one at a time."""

from receivables_platform.db.sql_files import statements


def test_semicolons_inside_function_bodies_quotes_and_comments_do_not_split():
    script = """
-- leading comment; with a semicolon
CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM 1; PERFORM $$;$$;
END $fn$;
COMMENT ON FUNCTION f() IS 'it''s; fine';
/* block; comment */
SELECT "odd;name" FROM t WHERE a = $1
"""
    assert statements(script) == [
        "-- leading comment; with a semicolon\n"
        "CREATE OR REPLACE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n    PERFORM 1; PERFORM $$;$$;\nEND $fn$",
        "COMMENT ON FUNCTION f() IS 'it''s; fine'",
        '/* block; comment */\nSELECT "odd;name" FROM t WHERE a = $1',
    ]


def test_a_script_of_comments_and_empty_statements_sends_nothing():
    assert statements("-- only a comment;\n;;\n/* and; this */\n") == []

"""The reporting command line (typer): options checked and named before anything runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from reporting_service.__main__ import ProjectionName, app
from reporting_service.consumers.projections import PROJECTIONS

runner = CliRunner()


def test_every_projection_can_be_named_and_help_lists_them():
    assert {p.value for p in ProjectionName} == set(PROJECTIONS)
    shown = runner.invoke(app, ["rebuild", "--help"], prog_name="reporting-service")
    assert shown.exit_code == 0, shown.output
    for name in PROJECTIONS:
        assert name in shown.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["rebuild", "--projection", "invoices"], "--projection"),
        (["rebuild", "--workers", "0"], "--workers"),
        (["rebuild", "--workers", "many"], "--workers"),
        (["rebuild", "--bogus"], "--bogus"),
    ],
)
def test_a_bad_option_is_refused_naming_it_before_any_work(args, named):
    result = runner.invoke(app, args, prog_name="reporting-service")
    assert result.exit_code == 2, result.output
    assert named in result.output


def test_rebuild_without_a_database_or_broker_says_what_it_needs(monkeypatch):
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    result = runner.invoke(
        app, ["rebuild", "--projection", "cases", "--workers", "1"], prog_name="reporting-service"
    )
    assert result.exit_code != 0
    assert "rebuild needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS" in str(result.exception)

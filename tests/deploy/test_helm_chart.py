"""The Helm chart renders and lints with Helm v4, its manifests are valid Kubernetes objects
(kubernetes-validate --strict), and it refuses bad values through values.schema.json."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import pytest
import yaml
from deploy_support import (
    CHART,
    KUBERNETES_VERSION,
    PRODUCTION_VALUES,
    SERVICES,
    Rendered,
    full_name,
    production_values,
    render,
    spec_keywords,
)

from billing_adapter.settings import StripeSettings
from case_service.settings import ENVIRONMENT as CASE_ENVIRONMENT
from case_service.settings import case_policy
from collections_service.runtime import CollectionsSettings
from console_service.settings import ConsoleSettings
from receivables_platform.business_dates import BusinessDateSettings
from receivables_platform.contracts.cases import CasePriority, CaseType
from receivables_platform.contracts.topics import CONTEXTS
from receivables_platform.settings import KafkaSettings, ServiceSettings

KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
# Custom resources kubernetes-validate has no schema for; checked below on their own.
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "HTTPRoute"}


def lint(values: dict[str, Any] | None = None, chart: Path = CHART) -> dict[str, Any]:
    return helm.lint(str(chart), values or {}, strict=True, kube_version=f"v{KUBERNETES_VERSION}")


def validate_strict(manifests: list[dict[str, Any]], tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "manifests.yaml"
    path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    command = [str(KUBERNETES_VALIDATE), "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def pod_specs(rendered: Rendered) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{m['kind']}/{m['metadata']['name']}", m["spec"]["template"]["spec"])
        for m in rendered.manifests
        if m["kind"] in ("Deployment", "Job")
    ]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# -- Helm lint and render ------------------------------------------------------------------


@pytest.mark.parametrize("values_file", [None, PRODUCTION_VALUES], ids=["default", "production"])
def test_chart_lints_clean(values_file: Path | None) -> None:
    values = yaml.safe_load(values_file.read_text()) if values_file else {}
    report = lint(values)
    assert report["total_charts_linted"] == 1
    assert report["errors"] == []
    # info ("icon is recommended") is fine; warnings would fail `helm lint --strict`
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("which", ["default", "production"])
def test_rendered_manifests_validate_strictly(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    rendered: Rendered = request.getfixturevalue(f"{which}_render")
    standard = [m for m in rendered.manifests if m["kind"] not in CUSTOM_KINDS]
    assert len(standard) >= 25
    done = validate_strict(standard, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_strict_validation_catches_an_unknown_field(
    default_render: Rendered, tmp_path: Path
) -> None:
    deployment = default_render.of_kind("Deployment")[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    done = validate_strict([deployment], tmp_path)
    assert done.returncode != 0 and "readinesProbe" in done.stdout + done.stderr


def test_production_renders_everything_optional(production_render: Rendered) -> None:
    kinds = {m["kind"] for m in production_render.manifests}
    assert kinds == {
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
        "Ingress",
        "PrometheusRule",
        "Pod",
    }
    assert any(
        m["metadata"]["name"] == "rx-receivables-topics" for m in production_render.of_kind("Job")
    )


# -- what a platform team relies on ----------------------------------------------------------


def test_every_service_has_its_resources(default_render: Rendered) -> None:
    for service in SERVICES:
        name = full_name(service)
        for kind in (
            "Deployment",
            "Service",
            "ConfigMap",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "NetworkPolicy",
        ):
            default_render.named(kind, name)
        default_render.named("Job", f"{name}-migrate")
    assert len(default_render.of_kind("ServiceAccount")) == 1
    assert not default_render.of_kind("ServiceMonitor")  # optional, off by default
    assert {j["metadata"]["name"] for j in default_render.of_kind("Job")} == {
        f"{full_name(s)}-migrate" for s in SERVICES
    }  # topic Job optional, off by default


def test_ports_and_databases_follow_the_service_specs(default_render: Rendered) -> None:
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())["services"]
    for service in SERVICES:
        spec = spec_keywords(service)
        assert defaults[service]["port"] == spec["default_port"]
        assert spec["database"] in defaults[service]["database"]["existingSecret"]
        svc = default_render.named("Service", full_name(service))
        assert svc["spec"]["ports"][0]["port"] == spec["default_port"]
        config = default_render.named("ConfigMap", full_name(service))["data"]
        assert config["HTTP_PORT"] == str(spec["default_port"]) and config["HTTP_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("which", ["default", "production"])
def test_pods_are_locked_down(which: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(f"{which}_render")
    for where, pod in pod_specs(rendered):
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["automountServiceAccountToken"] is False, where
        mounts_tmp = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert container["resources"]["requests"] and container["resources"]["limits"], where
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and tmp[0]["name"] in mounts_tmp, f"{where}: /tmp must be writable"


@pytest.mark.parametrize("which", ["default", "production"])
def test_probes_use_the_health_endpoints(which: str, request: pytest.FixtureRequest) -> None:
    rendered: Rendered = request.getfixturevalue(f"{which}_render")
    for deployment in rendered.of_kind("Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["ports"][0]["name"] == "http"


def test_secrets_are_only_referenced(production_render: Rendered) -> None:
    values = production_values()
    for service in SERVICES:
        deployment = production_render.named("Deployment", full_name(service))
        env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
        database = (
            values.get("services", {}).get(service, {}).get("database")
            or yaml.safe_load((CHART / "values.yaml").read_text())["services"][service]["database"]
        )
        assert env["DATABASE_URL"] == {
            "secretKeyRef": {"name": database["existingSecret"], "key": database["key"]}
        }
        assert env["KAFKA_SASL_PASSWORD"]["secretKeyRef"]["name"] == "receivables-kafka-sasl"
        assert "JWT_SECRET" not in env  # production verifies with the JWKS URL only
        stripe = {"secretKeyRef": {"name": "receivables-stripe", "key": "webhook-secret"}}
        assert env.get("STRIPE_WEBHOOK_SECRET") == (
            stripe if service == "billing-adapter" else None
        )
        smtp = {"secretKeyRef": {"name": "receivables-smtp", "key": "url"}}
        assert env.get("SMTP_URL") == (
            smtp if service in ("collections-service", "case-service") else None
        )
    for config in (production_render.named("ConfigMap", full_name(s)) for s in SERVICES):
        assert not {k for k in config["data"] if re.search("PASSWORD|SECRET|DATABASE_URL", k)}
        assert config["data"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert config["data"]["KAFKA_SSL_CAFILE"] == "/etc/receivables/kafka-ca/ca.crt"
        assert config["data"]["JWT_JWKS_URL"].startswith("https://")


def test_every_variable_set_is_one_the_services_read(
    default_render: Rendered, production_render: Rendered
) -> None:
    read = {f.upper() for f in ServiceSettings.model_fields if f != "kafka"}
    read |= {f"KAFKA_{f.upper()}" for f in KafkaSettings.model_fields}
    read |= {f"STRIPE_{f.upper()}" for f in StripeSettings.model_fields}  # billing-adapter's
    read |= {str(f.validation_alias) for f in CollectionsSettings.model_fields.values()}
    read |= set(CASE_ENVIRONMENT)
    read |= {str(f.validation_alias) for f in BusinessDateSettings.model_fields.values()}
    read |= {
        str(f.validation_alias or name).upper() for name, f in ConsoleSettings.model_fields.items()
    }
    for rendered in (default_render, production_render):
        set_by_chart = set()
        for config in (rendered.named("ConfigMap", full_name(s)) for s in SERVICES):
            set_by_chart |= set(config["data"])
        for deployment in rendered.of_kind("Deployment"):
            set_by_chart |= set(env_of(deployment["spec"]["template"]["spec"]["containers"][0]))
        unknown = {v for v in set_by_chart - read if not v.startswith("OTEL_")}
        assert not unknown, f"set by the chart but read by no service: {sorted(unknown)}"


def test_split_runs_workers_beside_an_autoscaled_api(production_render: Rendered) -> None:
    for service in ("billing-adapter", "reporting-service"):
        api = production_render.named("Deployment", full_name(service))
        worker = production_render.named("Deployment", f"{full_name(service)}-worker")
        assert "replicas" not in api["spec"], "the HPA owns the API replica count"
        api_env = env_of(api["spec"]["template"]["spec"]["containers"][0])
        worker_env = env_of(worker["spec"]["template"]["spec"]["containers"][0])
        assert api_env["RUN_RELAY"] == api_env["RUN_CONSUMERS"] == "false"
        assert worker_env["RUN_RELAY"] == worker_env["RUN_CONSUMERS"] == "true"
        hpa = production_render.named("HorizontalPodAutoscaler", full_name(service))
        assert hpa["spec"]["scaleTargetRef"]["name"] == api["metadata"]["name"]
        selector = production_render.named("Service", full_name(service))["spec"]["selector"]
        assert selector["app.kubernetes.io/component"] == "api"
        assert api["spec"]["selector"]["matchLabels"] != worker["spec"]["selector"]["matchLabels"]
        production_render.named("PodDisruptionBudget", f"{full_name(service)}-worker")
        production_render.named("Service", f"{full_name(service)}-worker")
    combined = production_render.named("Deployment", full_name("case-service"))
    env = env_of(combined["spec"]["template"]["spec"]["containers"][0])
    assert env["RUN_RELAY"] == env["RUN_CONSUMERS"] == "true"


def test_migrations_run_as_pre_install_and_pre_upgrade_hooks(default_render: Rendered) -> None:
    for service in SERVICES:
        job = default_render.named("Job", f"{full_name(service)}-migrate")
        annotations = job["metadata"]["annotations"]
        assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
        assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == [
            "python",
            "-m",
            "receivables_platform.db.migrate_service",
            service,
        ]
        assert container["image"].endswith(f"/{service}:0.1.0")
        assert "serviceAccountName" not in job["spec"]["template"]["spec"], (
            "hooks run before the chart's ServiceAccount exists"
        )


def test_a_migration_job_gets_its_services_extra_variables() -> None:
    """Migrations read some (ANALYST_STATEMENT_TIMEOUT), and the hook Job runs first."""
    rendered = render(
        {"services": {"reporting-service": {"env": {"ANALYST_STATEMENT_TIMEOUT": "5min"}}}}
    )
    job = rendered.named("Job", f"{full_name('reporting-service')}-migrate")
    assert (
        env_of(job["spec"]["template"]["spec"]["containers"][0])["ANALYST_STATEMENT_TIMEOUT"]
        == "5min"
    )


def test_topics_are_the_platform_topics_with_unlimited_retention(
    production_render: Rendered,
) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())["topics"]
    assert values["events"] == [c.topic for c in CONTEXTS]
    assert values["config"] == {"retention.ms": "-1", "retention.bytes": "-1"}
    job = production_render.named("Job", "rx-receivables-topics")
    assert int(job["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0  # before migrations
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    for context in CONTEXTS:
        assert context.topic in script and f"{context.topic}.dlq" in script
    assert "--config retention.ms=-1" in script and "--if-not-exists" in script
    assert "--partitions 12 --replication-factor 3" in script


def test_service_monitor_scrapes_every_metrics_service(production_render: Rendered) -> None:
    monitor = production_render.of_kind("ServiceMonitor")[0]
    # the part of the monitoring.coreos.com/v1 schema this chart uses
    jsonschema.validate(
        monitor,
        {
            "type": "object",
            "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {
                "apiVersion": {"const": "monitoring.coreos.com/v1"},
                "spec": {
                    "type": "object",
                    "required": ["selector", "endpoints"],
                    "additionalProperties": False,
                    "properties": {
                        "selector": {"type": "object", "required": ["matchLabels"]},
                        "namespaceSelector": {"type": "object"},
                        "endpoints": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "port": {"type": "string"},
                                    "path": {"type": "string"},
                                    "interval": {"type": "string"},
                                    "scrapeTimeout": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    )
    wanted = monitor["spec"]["selector"]["matchLabels"].items()
    scraped = [
        s["metadata"]["name"]
        for s in production_render.of_kind("Service")
        if wanted <= s["metadata"]["labels"].items()
    ]
    assert len(scraped) == 6  # four APIs and the two worker Services
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def egress_ports(rendered: Rendered, name: str) -> set[int]:
    policy = rendered.named("NetworkPolicy", name)
    return {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}


def test_network_policies_open_only_the_http_port(production_render: Rendered) -> None:
    for service in SERVICES:
        policy = production_render.named("NetworkPolicy", full_name(service))
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        for rule in policy["spec"]["ingress"]:
            assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
        # DNS, PostgreSQL, Kafka, the JWKS (https), OTLP (:4318), and SMTP where they email
        emailing = service in ("collections-service", "case-service")
        assert egress_ports(production_render, full_name(service)) == (
            {53, 5432, 9096, 443, 4318} | ({587} if emailing else set())
        ), service


def test_notes_name_the_services_and_the_secrets(production_render: Rendered) -> None:
    notes = production_render.notes
    for service in SERVICES:
        assert full_name(service) in notes
    assert "receivables-kafka-sasl" in notes and "receivables-billing-db" in notes
    assert "receivables-stripe (key webhook-secret): STRIPE_WEBHOOK_SECRET" in notes
    assert "receivables-smtp (key url): SMTP_URL of collections-service and case-service" in notes


def test_collections_and_case_settings_reach_their_services(production_render: Rendered) -> None:
    collections = production_render.named("ConfigMap", full_name("collections-service"))["data"]
    assert (
        collections["COLLECTIONS_TIMEZONE"],
        collections["COLLECTIONS_DAILY_RUN_AT"],
        collections["COLLECTIONS_GRACE_DAYS"],
    ) == ("Europe/Berlin", "05:30", "3")
    cases = production_render.named("ConfigMap", full_name("case-service"))["data"]
    assert cases["CASE_SLA_TARGETS"] == "dispute:urgent=3,*:urgent=5,dispute:*=10"
    with pytest.MonkeyPatch.context() as env:
        for key in CASE_ENVIRONMENT:
            env.setenv(key, cases[key])
        policy = case_policy()
    assert policy.sla.target_days(CaseType.DISPUTE, CasePriority.URGENT) == 3
    for other in ("billing-adapter", "reporting-service"):
        data = production_render.named("ConfigMap", full_name(other))["data"]
        assert not {k for k in data if k.startswith(("CASE_", "COLLECTIONS_"))}


def test_collections_asks_billing_for_pay_links_when_it_can_mint_a_token() -> None:
    def collections(values: dict[str, Any]) -> dict[str, str]:
        data: dict[str, str] = render(values).named("ConfigMap", full_name("collections-service"))[
            "data"
        ]
        return data

    assert collections({})["BILLING_ADAPTER_URL"] == (f"http://{full_name('billing-adapter')}:8101")
    # keys only from the identity provider: no token to mint, the template links stay
    assert "BILLING_ADAPTER_URL" not in collections(
        {"jwt": {"existingSecret": "", "jwksUrl": "https://idp.example/keys"}}
    )
    own = collections(
        {
            "services": {
                "collections-service": {"env": {"BILLING_ADAPTER_URL": "http://billing.other:8101"}}
            }
        }
    )
    assert own["BILLING_ADAPTER_URL"] == "http://billing.other:8101"


def test_every_service_gets_the_same_business_dates(production_render: Rendered) -> None:
    for service in SERVICES:
        data = production_render.named("ConfigMap", full_name(service))["data"]
        assert (data["BUSINESS_DATE_MIN"], data["BUSINESS_DATE_MAX"]) == (
            "1990-01-01",
            "2099-12-31",
        ), service


def test_every_value_is_documented() -> None:
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    opaque = {
        "config",
        "podSecurityContext",
        "containerSecurityContext",
        "resources",
        "env",
        "nodeSelector",
        "affinity",
        "annotations",
        "labels",
        "commonLabels",
        "podAnnotations",
    }

    def keys(node: dict[str, Any], prefix: str) -> list[str]:
        out = []
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and value and key not in opaque:
                out.extend(keys(value, path))
            else:
                out.append(path)
        return out

    services = values.pop("services")
    paths = keys(values, "")
    for service in services.values():
        paths.extend(keys(service, "services.<name>"))
    missing = sorted({p for p in paths if f"`{p}`" not in readme})
    assert not missing, f"values not described in the chart README: {missing}"


# -- bad values and broken templates fail ---------------------------------------------------

BAD_VALUES = {
    "unknown key": {"replicaCount": 3},
    "replicas not a number": {"services": {"case-service": {"api": {"replicas": "three"}}}},
    "port out of range": {"services": {"case-service": {"port": 70000}}},
    "unknown security protocol": {"kafka": {"securityProtocol": "TLS"}},
    "SASL without credentials": {"kafka": {"securityProtocol": "SASL_SSL"}},
    "SASL mechanism on PLAINTEXT": {"kafka": {"sasl": {"mechanism": "PLAIN"}}},
    "bootstrap server without port": {"kafka": {"bootstrapServers": "kafka"}},
    "no way to verify tokens": {"jwt": {"existingSecret": "", "jwksUrl": ""}},
    "no database secret": {"services": {"billing-adapter": {"database": {"existingSecret": ""}}}},
    "writable root filesystem": {"containerSecurityContext": {"readOnlyRootFilesystem": False}},
    "root allowed": {"podSecurityContext": {"runAsNonRoot": False}},
    "zero partitions": {"topics": {"partitions": 0}},
    "unknown log level": {"logLevel": "verbose"},
    "business date not YYYY-MM-DD": {"businessDates": {"earliest": "0", "latest": "2099-12-31"}},
    "daily run at not a time of day": {"collections": {"dailyRunAt": "25:00"}},
    "SLA target rule without days": {"cases": {"slaTargets": "dispute:urgent"}},
    "promise grace over 30 days": {"collections": {"graceDays": 45}},
    "HPA above 100 percent": {
        "services": {
            "reporting-service": {"api": {"autoscaling": {"targetCPUUtilizationPercentage": 150}}}
        }
    },
}


@pytest.mark.parametrize("values", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_schema_refuses_bad_values(values: dict[str, Any]) -> None:
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmValuesError, match="schema"):
        chart.render(values, name="rx", namespace="receivables")
    assert lint(values)["errors"], "helm lint must report the schema violation too"


def test_good_overrides_pass_the_schema() -> None:
    rendered = render(
        {
            "kafka": {"securityProtocol": "SSL", "tls": {"caSecret": "kafka-ca"}},
            "jwt": {"jwksUrl": "https://idp.example/jwks"},
            "services": {
                "case-service": {"enabled": False},
                "reporting-service": {"split": True, "env": {"X": 1}},
            },
        }
    )
    assert len(rendered.of_kind("Deployment")) == 5  # three services (one split), the console
    assert rendered.named("ConfigMap", full_name("reporting-service"))["data"]["X"] == "1"


@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "receivables"
    shutil.copytree(CHART, copy)
    return copy


def test_a_broken_template_fails_render_and_lint(chart_copy: Path) -> None:
    template = chart_copy / "templates" / "deployment.yaml"
    template.write_text(template.read_text().replace("{{- end }}\n", "", 1))
    with pytest.raises(helm.HelmError):
        render(chart=chart_copy)
    assert lint(chart=chart_copy)["errors"]


def test_a_template_emitting_a_wrong_field_fails_validation(
    chart_copy: Path, tmp_path: Path
) -> None:
    template = chart_copy / "templates" / "service.yaml"
    template.write_text(template.read_text().replace("targetPort: http", "targetPrt: http"))
    done = validate_strict(render(chart=chart_copy).manifests, tmp_path)
    assert done.returncode != 0 and "targetPrt" in done.stdout

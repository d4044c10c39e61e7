"""What a platform team needs from the chart beyond the services themselves: use as a
subchart, egress derived from the endpoints it names, one host for the console and the APIs,
extras from their own Secrets and sidecars, a connection budget, `helm test`, alerts with
runbooks and a dashboard."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from deploy_support import CHART, ROOT, SERVICES, Rendered, full_name, production_values, render
from prometheus_client import REGISTRY

import billing_adapter.service_layer.stripe_connector  # noqa: F401  (registers its metrics)
import receivables_platform.consumer.metrics
import receivables_platform.relay.metrics
import receivables_platform.web.metrics  # noqa: F401

RUNBOOKS = ROOT / "docs" / "operations" / "runbooks.md"
PREFIXES = {
    "billing-adapter": "/billing",
    "collections-service": "/collections",
    "case-service": "/cases",
    "reporting-service": "/reporting",
}


def container(rendered: Rendered, name: str) -> dict[str, Any]:
    pod = rendered.named("Deployment", name)["spec"]["template"]["spec"]
    return pod["containers"][0]


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def egress_ports(rendered: Rendered, name: str) -> set[int]:
    policy = rendered.named("NetworkPolicy", name)
    return {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}


# -- as a subchart -----------------------------------------------------------------------------


def test_the_chart_renders_as_a_subchart_of_an_umbrella(tmp_path: Path) -> None:
    """Helm hands every subchart `global`; a schema that refuses it breaks umbrella charts."""
    umbrella = tmp_path / "platform"
    (umbrella / "charts").mkdir(parents=True)
    shutil.copytree(CHART, umbrella / "charts" / "receivables")
    (umbrella / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": "platform",
                "version": "1.0.0",
                "dependencies": [{"name": "receivables", "version": "0.1.0"}],
            }
        )
    )
    (umbrella / "values.yaml").write_text(
        yaml.safe_dump(
            {
                "global": {"imageRegistry": "registry.example.com", "storageClass": "fast"},
                "receivables": {"console": {"replicas": 3}},
            }
        )
    )
    rendered = render(chart=umbrella)
    console = rendered.named("Deployment", "rx-receivables-console")
    assert console["spec"]["replicas"] == 3
    assert len(rendered.of_kind("Deployment")) == 5


# -- egress from the endpoints the values name ---------------------------------------------------


def test_egress_opens_the_ports_of_the_endpoints_named_and_no_other() -> None:
    rendered = render(
        {
            "smtp": {"existingSecret": "mail", "port": 2525},
            "otel": {"endpoint": "http://collector.observability:4318"},
            "objectStorage": {"endpoint": "http://minio.storage:9000"},
            "jwt": {"jwksUrl": "https://idp.example/keys"},
            "console": {
                "oidc": {"issuer": "https://idp.example:8443/realms/ar", "clientId": "console"}
            },
        }
    )
    base = {53, 5432, 9092, 9093, 9094}
    for service in SERVICES:
        emailing = {2525} if service in ("collections-service", "case-service") else set()
        # collections asks billing-adapter for pay links (the JWT secret mints its token)
        billing = {8101} if service == "collections-service" else set()
        assert egress_ports(rendered, full_name(service)) == (
            base | {4318, 9000, 443} | emailing | billing
        )
    console_ports = egress_ports(rendered, "rx-receivables-console")
    assert {8101, 8102, 8103, 8104, 8443} <= console_ports and 2525 not in console_ports
    assert egress_ports(render(), full_name("case-service")) == base  # nothing named: nothing


# -- one host: console at /, APIs under their prefixes ---------------------------------------------


def test_ingress_and_http_route_serve_the_console_at_root_and_each_api_under_its_prefix() -> None:
    rendered = render(
        {
            "ingress": {
                "enabled": True,
                "host": "ar.example.com",
                "className": "nginx",
                "tlsSecret": "ar-tls",
            },
            "httpRoute": {"enabled": True, "parentRefs": [{"name": "public"}]},
        }
    )
    ingress = rendered.of_kind("Ingress")[0]["spec"]
    assert ingress["tls"] == [{"hosts": ["ar.example.com"], "secretName": "ar-tls"}]
    paths = {p["path"]: p["backend"]["service"] for p in ingress["rules"][0]["http"]["paths"]}
    assert paths["/"] == {"name": "rx-receivables-console", "port": {"number": 8100}}
    route = rendered.of_kind("HTTPRoute")[0]["spec"]
    assert route["hostnames"] == ["ar.example.com"]
    routed = {r["matches"][0]["path"]["value"]: r["backendRefs"][0] for r in route["rules"]}
    for service, prefix in PREFIXES.items():
        config = rendered.named("ConfigMap", full_name(service))["data"]
        assert config["HTTP_ROOT_PATH"] == prefix  # the API itself answers under the prefix
        assert paths[prefix]["name"] == full_name(service)
        assert routed[prefix]["name"] == full_name(service)
    assert routed["/"]["name"] == "rx-receivables-console"


def test_the_console_calls_the_apis_in_the_cluster_with_its_secrets_referenced() -> None:
    rendered = render(production_values())
    env = env_of(container(rendered, "rx-receivables-console"))
    for service in SERVICES:
        variable = service.upper().replace("-", "_") + "_URL"
        port = yaml.safe_load((CHART / "values.yaml").read_text())["services"][service]["port"]
        assert env[variable] == f"http://{full_name(service)}:{port}"
    assert env["CONSOLE_SESSION_SECRET"] == {
        "secretKeyRef": {"name": "receivables-console", "key": "session-secret"}
    }
    assert env["OIDC_CLIENT_SECRET"]["secretKeyRef"]["name"] == "receivables-console-oidc"
    assert env["OIDC_ISSUER"] == "https://login.example.com/"
    assert "receivables-console (key session-secret)" in rendered.notes


# -- extras, digests, draining -------------------------------------------------------------------


def test_extras_reach_the_pods_and_digests_pin_the_images() -> None:
    digest = "sha256:" + "ab" * 32
    rendered = render(
        {
            "image": {"digests": {"reporting-service": digest}},
            "lifecycle": {"preStopSleepSeconds": 7},
            "services": {
                "reporting-service": {
                    "secretEnv": {"ANALYST_PASSWORD": {"secretName": "analyst", "key": "password"}},
                    "extraEnvFrom": [{"secretRef": {"name": "reporting-extra"}}],
                    "extraVolumes": [{"name": "certs", "secret": {"secretName": "pg-ca"}}],
                    "extraVolumeMounts": [
                        {"name": "certs", "mountPath": "/etc/pg", "readOnly": True}
                    ],
                    "sidecars": [{"name": "sql-proxy", "image": "proxy:1.0"}],
                }
            },
        }
    )
    pod = rendered.named("Deployment", full_name("reporting-service"))["spec"]["template"]["spec"]
    main = pod["containers"][0]
    assert main["image"].endswith(f"/reporting-service@{digest}")
    assert env_of(main)["ANALYST_PASSWORD"] == {
        "secretKeyRef": {"name": "analyst", "key": "password"}
    }
    assert {"secretRef": {"name": "reporting-extra"}} in main["envFrom"]
    assert {"name": "certs", "mountPath": "/etc/pg", "readOnly": True} in main["volumeMounts"]
    assert [c["name"] for c in pod["containers"]] == ["reporting-service", "sql-proxy"]
    assert {"name": "certs", "secret": {"secretName": "pg-ca"}} in pod["volumes"]
    assert main["lifecycle"] == {"preStop": {"exec": {"command": ["sleep", "7"]}}}
    assert container(rendered, full_name("billing-adapter"))["image"].endswith(
        "/billing-adapter:0.1.0"
    )  # no digest given: the tag
    job = rendered.named("Job", f"{full_name('reporting-service')}-migrate")
    assert "ANALYST_PASSWORD" in env_of(job["spec"]["template"]["spec"]["containers"][0])
    assert "lifecycle" not in container(
        render({"lifecycle": {"preStopSleepSeconds": 0}}), full_name("billing-adapter")
    )


@pytest.mark.parametrize(
    "values",
    [
        {"image": {"digests": {"billing-adapter": "latest"}}},
        {"lifecycle": {"preStopSleepSeconds": 40}},
        {"database": {"poolSize": 0, "connectionBudget": 90}},
        {"services": {"billing-adapter": {"pathPrefix": "billing"}}},
        {"services": {"billing-adapter": {"secretEnv": {"X": {"secretName": "s"}}}}},
        {"httpRoute": {"enabled": True, "parentRefs": []}},
        {"console": {"oidc": {"issuer": "https://idp.example"}}},
    ],
    ids=["digest", "preStop", "pool", "prefix", "secretEnv", "route", "oidc"],
)
def test_schema_refuses_extras_out_of_shape(values: dict[str, Any]) -> None:
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmValuesError, match="schema"):
        chart.render(values, name="rx", namespace="receivables")


# -- the connection budget -------------------------------------------------------------------


def test_the_notes_warn_when_the_pools_at_most_replicas_exceed_the_budget() -> None:
    within = render()
    config = within.named("ConfigMap", full_name("billing-adapter"))["data"]
    assert config["DATABASE_POOL_SIZE"] == "5"
    assert "WARNING" not in within.notes
    assert "at most 80 (16 pods x 5), within the budget of 90" in within.notes
    over = render({"database": {"poolSize": 20, "connectionBudget": 100}})
    assert "WARNING: connection budget exceeded" in over.notes
    assert "320 connections, over database.connectionBudget=100" in over.notes
    production = render(production_values())
    assert "WARNING" not in production.notes  # 47 pods x 10 within 500
    assert "WARNING" not in render({"database": {"poolSize": 20, "connectionBudget": 0}}).notes


# -- helm test ---------------------------------------------------------------------------------


def test_helm_test_asks_every_readyz() -> None:
    pod = render().named("Pod", "rx-receivables-test-readyz")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    args = pod["spec"]["containers"][0]["command"]
    urls = [a for a in args if a.startswith("http://")]
    assert sorted(urls) == sorted(
        [
            f"http://{full_name(s)}:{p}/readyz"
            for s, p in zip(SERVICES, (8101, 8102, 8103, 8104), strict=True)
        ]
        + ["http://rx-receivables-console:8100/readyz"]
    )
    assert not render({"tests": {"enabled": False}}).of_kind("Pod")


# -- alerts, runbooks and the dashboard ------------------------------------------------


def exported_metrics() -> set[str]:
    names = set()
    for metric in REGISTRY.collect():
        names.add(metric.name)
        names.update(sample.name for sample in metric.samples)
        names.update({f"{metric.name}_total", f"{metric.name}_bucket", f"{metric.name}_count"})
    return names


def metrics_in(expression: str) -> set[str]:
    words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*[{\[]", expression))
    return {w for w in words if "_" in w and not w.startswith(("histogram_", "label_"))}


def test_every_alert_has_a_runbook_section_and_reads_metrics_the_platform_exports() -> None:
    rule = render({"prometheusRule": {"enabled": True}}).of_kind("PrometheusRule")[0]
    anchors = {
        heading.strip().lower().replace(" ", "-")
        for heading in re.findall(r"^## (.+)$", RUNBOOKS.read_text(), re.M)
    }
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert {a["alert"] for a in alerts} >= {
        "ReceivablesOutboxBacklog",
        "ReceivablesConsumerLag",
        "ReceivablesDeadLetters",
        "ReceivablesStripeWebhooksParked",
        "ReceivablesServerErrors",
        "ReceivablesSlowRequests",
    }
    exported = exported_metrics()
    for alert in alerts:
        assert alert["annotations"]["runbook_url"].split("#")[1] in anchors, alert["alert"]
        used = metrics_in(alert["expr"])
        assert used and used <= exported, (alert["alert"], used - exported)
        assert 'namespace="receivables"' in alert["expr"]


def test_the_dashboard_is_valid_json_over_exported_metrics() -> None:
    config = render({"grafanaDashboard": {"enabled": True}}).named(
        "ConfigMap", "rx-receivables-dashboard"
    )
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config["data"]["receivables.json"])
    exported = exported_metrics()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used = metrics_in(target["expr"])
            assert used and used <= exported, (panel["title"], used - exported)

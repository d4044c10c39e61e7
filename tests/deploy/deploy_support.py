"""Helpers for the deploy/ checks: paths, the services, the chart rendered by a real Helm engine.

Helm v4 comes from the PyPI package `helm-python-sdk` (Helm's Go SDK as a native
library, no `helm` binary, no cluster, no network).
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "receivables"
PRODUCTION_VALUES = DEPLOY / "helm" / "examples" / "values-production.yaml"
SERVICES = ("billing-adapter", "collections-service", "case-service", "reporting-service")
KUBERNETES_VERSION = "1.37.0"  # the newest schemas kubernetes-validate ships
RELEASE = "rx"
NAMESPACE = "receivables"


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]  # template path -> rendered text

    @cached_property
    def _parsed(self) -> list[dict[str, Any]]:
        docs = []
        for path, text in sorted(self.files.items()):
            if path.endswith("NOTES.txt"):
                continue
            docs.extend(d for d in yaml.safe_load_all(text) if d)
        return docs

    @property
    def manifests(self) -> list[dict[str, Any]]:
        """Parsed once; each call hands out copies a test may change."""
        return copy.deepcopy(self._parsed)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        found = [m for m in self.of_kind(kind) if m["metadata"]["name"] == name]
        assert len(found) == 1, f"{kind} {name}: {len(found)} rendered"
        return found[0]

    @property
    def notes(self) -> str:
        return next(text for path, text in self.files.items() if path.endswith("NOTES.txt"))


def render(values: dict[str, Any] | None = None, chart: Path = CHART) -> Rendered:
    with helm.Chart.load(str(chart)) as loaded:
        return Rendered(
            loaded.render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
        )


def production_values() -> dict[str, Any]:
    return yaml.safe_load(PRODUCTION_VALUES.read_text())


def spec_keywords(service: str) -> dict[str, Any]:
    """The literal keywords of a service's `SPEC = ServiceSpec(...)`, read without importing."""
    package = service.replace("-", "_")
    tree = ast.parse((ROOT / "services" / service / "src" / package / "spec.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ServiceSpec":
            return {
                k.arg: k.value.value
                for k in node.keywords
                if k.arg and isinstance(k.value, ast.Constant)
            }
    raise AssertionError(f"no ServiceSpec(...) in {service}'s spec.py")


def full_name(service: str) -> str:
    return f"{RELEASE}-receivables-{service}"

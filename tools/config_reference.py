"""Write docs/operations/configuration.md: every environment variable the platform reads.

Generated, not written: it walks the settings classes (pydantic `BaseSettings`) of the
shared package and each service, and the few variables read directly from `os.environ`,
so the reference cannot drift from the code. `make docs` rewrites it; a test fails when
the file in the repository differs from what this prints.

    python tools/config_reference.py [--check]
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

sys.path.insert(0, str(Path(__file__).parent))
from generated_doc import write_or_check

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "operations" / "configuration.md"
SOURCES = {"every service": ROOT / "shared" / "src",
           **{p.name: p / "src" for p in sorted((ROOT / "services").iterdir())
              if (p / "src").is_dir()}}
SKIP_PARTS = {"testing", "infra", "devkit", "tests"}
"""Test fixtures and embedded servers are not configuration of a deployment."""


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    default: str
    meaning: str


def modules_with_settings(source: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(source.rglob("*.py")):
        relative = path.relative_to(source)
        if SKIP_PARTS & set(relative.parts):
            continue
        text = path.read_text()
        if "BaseSettings" in text or "os.environ" in text:
            yield ".".join(relative.with_suffix("").parts).removesuffix(".__init__"), path


def attribute_docstrings(cls: type) -> dict[str, str]:
    """The string right after each field (the convention here), which pydantic drops."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    found = {}
    for before, after in itertools.pairwise(body):
        if isinstance(before, ast.AnnAssign) and isinstance(before.target, ast.Name) \
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) \
                and isinstance(after.value.value, str):
            found[before.target.id] = " ".join(after.value.value.split())
    return found


def env_name(cls: type[BaseSettings], name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    if isinstance(alias, str):
        return alias
    prefix = str(cls.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


def shown_default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        try:
            value: Any = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
        if isinstance(value, BaseSettings):
            return "(see its section)"
    else:
        value = field.default
    if value is PydanticUndefined:
        return "(required)"
    if value is None or value == "" or value == []:
        return "unset"
    if hasattr(value, "get_secret_value"):
        return "unset" if not value.get_secret_value() else "(secret)"
    return f"`{value}`"


def type_name(field: FieldInfo) -> str:
    text = str(field.annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("datetime.", "").replace("pydantic.types.", "")


def settings_variables(cls: type[BaseSettings]) -> list[Variable]:
    docs = attribute_docstrings(cls)
    variables = []
    for name, field in cls.model_fields.items():
        if isinstance(field.default_factory, type) and issubclass(field.default_factory,
                                                                   BaseSettings):
            continue  # a nested settings class, listed in its own section
        meaning = field.description or docs.get(name, "")
        variables.append(Variable(env_name(cls, name, field), type_name(field),
                                  shown_default(field), meaning))
    return variables


def direct_reads(path: Path) -> set[str]:
    """Literal names read with os.environ.get / os.environ[...] / os.getenv."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        target = None
        if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "os.environ.get", "os.getenv") and node.args:
            target = node.args[0]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" \
                and isinstance(node.ctx, ast.Load):
            target = node.slice
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            names.add(target.value)
    return names


def sections() -> Iterator[tuple[str, list[tuple[str, list[Variable]]], set[str]]]:
    for owner, source in SOURCES.items():
        sys.path.insert(0, str(source))
        classes: list[tuple[str, list[Variable]]] = []
        direct: set[str] = set()
        for module_name, path in modules_with_settings(source):
            direct |= direct_reads(path)
            if "migrations" in module_name.split("."):
                continue  # read for what they read, not imported (alembic's op is not set up)
            module = importlib.import_module(module_name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseSettings) and cls is not BaseSettings \
                        and cls.__module__ == module.__name__:
                    classes.append((f"{module_name}.{cls.__name__}", settings_variables(cls)))
        yield owner, classes, direct


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = ["# Configuration reference", "",
             "Every environment variable the platform reads, generated from the settings "
             "classes by `tools/config_reference.py` (`make docs`); a test fails when this "
             "file and the code disagree. Deployment values for the Helm chart are in "
             "`deploy/helm/receivables/README.md`.", ""]
    for owner, classes, direct in sections():
        if not classes and not direct:
            continue
        lines += [f"## {owner}", ""]
        for qualified, variables in classes:
            lines += [f"### `{qualified}`", "", "| variable | type | default | meaning |",
                      "|---|---|---|---|"]
            lines += [f"| `{v.name}` | {cell(v.type)} | {v.default} | {cell(v.meaning)} |"
                      for v in variables]
            lines.append("")
        if direct:
            lines += ["Read directly (not through a settings class): "
                      + ", ".join(f"`{name}`" for name in sorted(direct)) + ".", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    return write_or_check(TARGET, render, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

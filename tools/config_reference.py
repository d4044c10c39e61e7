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
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

sys.path.insert(0, str(Path(__file__).parent))
from generated_doc import write_or_check

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "operations" / "configuration.md"
SOURCES = {
    "every service": ROOT / "shared" / "src",
    **{p.name: p / "src" for p in sorted((ROOT / "services").iterdir()) if (p / "src").is_dir()},
}
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
        if any(mark in text for mark in ("BaseSettings", "os.environ", "os.getenv", "envvar=")):
            yield ".".join(relative.with_suffix("").parts).removesuffix(".__init__"), path


def attribute_docstrings(cls: type) -> dict[str, str]:
    """The string right after each field (the convention here), which pydantic drops."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    found = {}
    for before, after in itertools.pairwise(body):
        if (
            isinstance(before, ast.AnnAssign)
            and isinstance(before.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
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
        if isinstance(field.default_factory, type) and issubclass(
            field.default_factory, BaseSettings
        ):
            continue  # a nested settings class, listed in its own section
        meaning = field.description or docs.get(name, "")
        variables.append(
            Variable(env_name(cls, name, field), type_name(field), shown_default(field), meaning)
        )
    return variables


ENVIRONMENT_READERS = ("os.environ.get", "os.getenv", "env.get", "environ.get")
"""Calls whose first argument names a variable (`env` is a parameter defaulting to
os.environ, as in the fault hooks)."""
ENVIRONMENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def module_strings(tree: ast.Module, module: ModuleType | None) -> dict[str, str]:
    """What each name bound to a variable's name holds: `SPEC_ENV = "..."`, an imported
    constant, or one of a tuple's names unpacked in a function (`a, b = ENVIRONMENT`)."""
    found: dict[str, str] = {}
    globals_ = vars(module) if module is not None else {}
    for name, value in globals_.items():
        if isinstance(value, str) and ENVIRONMENT_NAME.match(value):
            found[name] = value
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            found.setdefault(target.id, value.value)
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Name):
            held = globals_.get(value.id)
            if held is None:
                continue
            for element, name in zip(target.elts, list(held), strict=False):
                if isinstance(element, ast.Name) and isinstance(name, str):
                    found[element.id] = name
    return found


def _named(node: ast.expr | None, strings: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return strings.get(node.id)
    return None


def direct_reads(path: Path, module: ModuleType | None = None) -> dict[str, str | None]:
    """Names read with os.environ.get / os.environ[...] / `in os.environ` / os.getenv, a
    typer option's `envvar`, or a helper whose parameter is passed to one of those,
    whether written literally or through a constant; each with the default the read gives."""
    tree = ast.parse(path.read_text())
    strings = module_strings(tree, module)
    helpers = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            parameters = {a.arg for a in function.args.args}
            for call in ast.walk(function):
                if (
                    isinstance(call, ast.Call)
                    and ast.unparse(call.func) in ENVIRONMENT_READERS
                    and call.args
                    and isinstance(call.args[0], ast.Name)
                    and call.args[0].id in parameters
                ):
                    helpers.add(function.name)
    reads: list[tuple[str | None, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = ast.unparse(node.func)
            if (function in ENVIRONMENT_READERS or function in helpers) and node.args:
                default = _named(node.args[1], strings) if len(node.args) > 1 else None
                reads.append((_named(node.args[0], strings), default))
            reads += [(_named(k.value, strings), None) for k in node.keywords if k.arg == "envvar"]
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.ctx, ast.Load)
        ):
            reads.append((_named(node.slice, strings), None))
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and ast.unparse(node.comparators[0]) == "os.environ"
        ):
            reads.append((_named(node.left, strings), None))
    found: dict[str, str | None] = {}
    for name, default in reads:
        if name and ENVIRONMENT_NAME.match(name):
            found[name] = found.get(name) or default
    return found


def declared_meanings(path: Path) -> dict[str, str]:
    """The meaning of each variable read outside a settings class, declared beside the read
    as a module-level dict literal named `...ENVIRONMENT` (variable -> meaning)."""
    meanings = {}
    tree = ast.parse(path.read_text())
    strings = module_strings(tree, None)
    for node in tree.body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else (
                node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            )
        )
        if (
            isinstance(target, ast.Name)
            and target.id.endswith("ENVIRONMENT")
            and isinstance(node.value, ast.Dict)
        ):  # type: ignore[union-attr]
            for key, value in zip(
                node.value.keys,
                node.value.values,  # type: ignore[union-attr]
                strict=True,
            ):
                name = _named(key, strings)
                if name:
                    meanings[name] = " ".join(str(ast.literal_eval(value)).split())
    return meanings


@dataclass(frozen=True)
class Section:
    owner: str
    classes: list[tuple[str, list[Variable]]]
    direct: dict[str, str | None]
    """Variables read outside a settings class, with the default the read gives."""


def sections() -> list[Section]:
    found = []
    for owner, source in SOURCES.items():
        sys.path.insert(0, str(source))
        classes: list[tuple[str, list[Variable]]] = []
        direct: dict[str, str | None] = {}
        for module_name, path in modules_with_settings(source):
            if "migrations" in module_name.split("."):
                # read for what they read, not imported (alembic's op is not set up)
                direct.update(direct_reads(path))
                continue
            module = importlib.import_module(module_name)
            direct.update(direct_reads(path, module))
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, BaseSettings)
                    and cls is not BaseSettings
                    and cls.__module__ == module.__name__
                ):
                    classes.append((f"{module_name}.{cls.__name__}", settings_variables(cls)))
        found.append(Section(owner, classes, direct))
    return found


def meanings() -> dict[str, str]:
    """Every variable's meaning declared beside a direct read, whichever service reads it."""
    declared: dict[str, str] = {}
    for source in SOURCES.values():
        for path in sorted(source.rglob("*.py")):
            if not SKIP_PARTS & set(path.relative_to(source).parts):
                declared.update(declared_meanings(path))
    return declared


def reference() -> list[tuple[str, list[tuple[str, list[Variable]]]]]:
    """Each owner's tables: its settings classes, then what it reads directly (a variable a
    settings class documents already is not listed twice)."""
    found = sections()
    in_classes = {
        v.name for section in found for _, variables in section.classes for v in variables
    }
    declared = meanings()
    tables = []
    for section in found:
        direct = [
            Variable(name, "str", f"`{default}`" if default else "unset", declared.get(name, ""))
            for name, default in sorted(section.direct.items())
            if name not in in_classes
        ]
        tables.append(
            (section.owner, [*section.classes, *([("read directly", direct)] if direct else [])])
        )
    return tables


def variables() -> list[Variable]:
    return [v for _, tables in reference() for _, table in tables for v in table]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = [
        "# Configuration reference",
        "",
        "Every environment variable the platform reads, generated from the settings "
        "classes and the variables read directly (with the meaning declared beside the "
        "read) by `tools/config_reference.py` (`make docs`); a test fails when this "
        "file and the code disagree. Deployment values for the Helm chart are in "
        "`deploy/helm/receivables/README.md`.",
        "",
    ]
    for owner, tables in reference():
        if not tables:
            continue
        lines += [f"## {owner}", ""]
        for qualified, table in tables:
            heading = (
                f"### `{qualified}`"
                if qualified != "read directly"
                else "### Read directly (not through a settings class)"
            )
            lines += [heading, "", "| variable | type | default | meaning |", "|---|---|---|---|"]
            lines += [
                f"| `{v.name}` | {cell(v.type)} | {v.default} | {cell(v.meaning)} |" for v in table
            ]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    return write_or_check(TARGET, render, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

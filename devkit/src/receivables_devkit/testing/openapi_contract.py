"""What each service's contract test holds its OpenAPI document to.

An integrator reads the document, not the code: every operation says what it does, every
model and every inline JSON body shows an example, and each example is valid against the
schema it illustrates (an example that its own schema refuses teaches the wrong request).
A 2xx JSON answer is a typed model, not "an object", so generated clients and the
schemathesis response checks know its fields.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from receivables_platform.service import ServiceSpec, build_app
from receivables_platform.web.openapi_examples import is_json, missing_examples

REF = "#/components/schemas/"


def _validator(schema: dict[str, Any], document: dict[str, Any]) -> Draft202012Validator:
    # the schema sits beside the document's components, so their `#/components/...` resolve
    return Draft202012Validator(
        {**schema, "components": document.get("components", {})}, format_checker=FormatChecker()
    )


def _invalid(example: Any, schema: dict[str, Any], document: dict[str, Any]) -> str | None:
    errors = sorted(_validator(schema, document).iter_errors(example), key=str)
    if not errors:
        return None
    first = errors[0]
    return f"{'/'.join(map(str, first.absolute_path)) or '(root)'}: {first.message}"


def _untyped(schema: dict[str, Any]) -> bool:
    if "$ref" in schema or "anyOf" in schema or "oneOf" in schema:
        return False
    if schema.get("type") == "array":
        return _untyped(schema.get("items", {}))
    if schema.get("type") not in (None, "object"):
        return False
    extra = schema.get("additionalProperties", True)
    return not schema.get("properties") and (extra is True or extra == {})


def contract_gaps(document: dict[str, Any]) -> list[str]:
    """Everything the document fails to tell an integrator, one line each."""
    gaps = []
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            if not operation.get("description", "").strip():
                gaps.append(f"{where}: no description (write the route's docstring)")
            for status, answer in operation.get("responses", {}).items():
                for media, content in answer.get("content", {}).items():
                    schema = content.get("schema")
                    if (
                        status.startswith("2")
                        and is_json(media)
                        and schema is not None
                        and _untyped(schema)
                    ):
                        gaps.append(f"{where} {status}: answers an untyped object")
                    if "example" in content and schema is not None:
                        wrong = _invalid(content["example"], schema, document)
                        if wrong:
                            gaps.append(f"{where} {status} example invalid: {wrong}")
    gaps += [f"{name}: no example" for name in missing_examples(document)]
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        for example in schema.get("examples", []):
            wrong = _invalid(example, {"$ref": REF + name}, document)
            if wrong:
                gaps.append(f"{name}: example invalid at {wrong}")
    return gaps


def served_document(spec: ServiceSpec) -> dict[str, Any]:
    """The document the service serves at /openapi.json (building it needs no database)."""
    app = build_app(spec, spec.settings(database_url="postgresql://document@127.0.0.1/only"))
    return app.openapi()

"""Whether a contract's current JSON Schema can stand in for the one already published.

Events are kept forever and replayed into read models, and services deploy one
at a time, so a published (type, version) is a promise in both directions: the
new code must read every stored payload, and consumers still on the old code
must read what the new code writes. Within one version that leaves room only
for adding optional properties (readers ignore what they do not know) and for
accepting more than before. Everything else is a new version with an upcaster.

The check works on the exported schemas, not on the models, so the committed
files are the record of what was promised, whatever the code says today.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

# Bounds a new version may only loosen: lower bounds must not rise, upper bounds must not fall.
_LOWER_BOUNDS = ("minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "multipleOf")


@dataclass(frozen=True)
class Incompatibility:
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path or '(payload)'}: {self.problem}"


def check_compatible(old: Schema, new: Schema) -> list[Incompatibility]:
    """Every way `new` breaks the promise `old` made; empty when it is a compatible change."""
    return list(_Comparison(old, new).compare(old, new, "", frozenset()))


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root, self.new_root = old_root, new_root

    def compare(
        self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[str, str]]
    ) -> Iterator[Incompatibility]:
        refs = (old.get("$ref", ""), new.get("$ref", ""))
        if refs != ("", "") and refs in seen:
            return  # a recursive model: this pair is already being compared further up
        seen = seen | {refs}
        old, new = _resolve(self.old_root, old), _resolve(self.new_root, new)
        old_branches, new_branches = _branches(self.old_root, old), _branches(self.new_root, new)
        old_kinds, new_kinds = _kinds(old_branches), _kinds(new_branches)
        if old_kinds != new_kinds:
            yield Incompatibility(
                path, f"type changed from {_show(old_kinds)} to {_show(new_kinds)}"
            )
            return
        for json_type in sorted({t for t, _ in old_kinds}):
            old_one = _only(old_branches, json_type)
            new_one = _only(new_branches, json_type)
            if old_one is None or new_one is None:
                continue  # several branches of one type: no sound pairing, the kinds matched
            yield from self._compare_same_type(json_type, old_one, new_one, path, seen)

    def _compare_same_type(
        self, json_type: str, old: Schema, new: Schema, path: str, seen: frozenset[tuple[str, str]]
    ) -> Iterator[Incompatibility]:
        yield from _compare_values(old, new, path)
        if json_type == "object":
            yield from self._compare_objects(old, new, path, seen)
        elif json_type == "array":
            old_items, new_items = old.get("items"), new.get("items")
            if isinstance(old_items, dict) and isinstance(new_items, dict):
                yield from self.compare(old_items, new_items, f"{path}[]", seen)

    def _compare_objects(
        self, old: Schema, new: Schema, path: str, seen: frozenset[tuple[str, str]]
    ) -> Iterator[Incompatibility]:
        old_props: dict[str, Schema] = old.get("properties", {})
        new_props: dict[str, Schema] = new.get("properties", {})
        old_required = set(old.get("required", ()))
        new_required = set(new.get("required", ()))
        for name in sorted(old_props):
            where = f"{path}.{name}" if path else name
            if name not in new_props:
                yield Incompatibility(where, "property removed")
            else:
                yield from self.compare(old_props[name], new_props[name], where, seen)
        for name in sorted(new_required - old_required):
            where = f"{path}.{name}" if path else name
            if name in old_props:
                yield Incompatibility(where, "optional property became required")
            else:
                yield Incompatibility(where, "new property is required")
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            yield from self.compare(old_extra, new_extra, f"{path}.*", seen)


def _resolve(root: Schema, schema: Schema) -> Schema:
    """Follow local `$ref`s, keeping any keywords written beside the reference."""
    hops = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ValueError(f"cannot follow schema reference {ref!r}: only local ones")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        hops += 1
        if hops > 64:
            raise ValueError(f"schema reference loop at {ref!r}")
    return schema


def _branches(root: Schema, schema: Schema) -> list[Schema]:
    """The alternatives a value may match, flattened, with references followed."""
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            out: list[Schema] = []
            for branch in schema[keyword]:
                out.extend(_branches(root, _resolve(root, branch)))
            return out
    if "allOf" in schema and len(schema["allOf"]) == 1:
        merged = {
            **_resolve(root, schema["allOf"][0]),
            **{k: v for k, v in schema.items() if k != "allOf"},
        }
        return _branches(root, merged)
    return [schema]


def _json_types(schema: Schema) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    values = _allowed_values(schema)
    if values is not None:
        return sorted({_type_of(v) for v in values})
    return ["any"]


def _type_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _kinds(branches: list[Schema]) -> set[tuple[str, str | None]]:
    """(JSON type, format) pairs: a uuid is not a date though both are strings."""
    return {(t, b.get("format")) for b in branches for t in _json_types(b)}


def _only(branches: list[Schema], json_type: str) -> Schema | None:
    matching = [b for b in branches if json_type in _json_types(b)]
    return matching[0] if len(matching) == 1 else None


def _show(kinds: set[tuple[str, str | None]]) -> str:
    return " | ".join(sorted(f"{t} ({f})" if f else t for t, f in kinds)) or "nothing"


def _allowed_values(schema: Schema) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _bound(schema: Schema, inclusive: str, exclusive: str, step: int) -> tuple[float, bool] | None:
    """(limit, exclusive) of a numeric bound; for integers an exclusive bound is the next one."""
    found: list[tuple[float, bool]] = []
    if inclusive in schema:
        found.append((schema[inclusive], False))
    if exclusive in schema:
        limit = schema[exclusive]
        if "integer" in _json_types(schema) and isinstance(limit, int):
            found.append((limit + step, False))
        else:
            found.append((limit, True))
    if not found:
        return None
    # the stricter of the two when both are given
    return max(found) if step > 0 else min(found, key=lambda b: (b[0], not b[1]))


def _numeric_bounds(old: Schema, new: Schema, path: str) -> Iterator[Incompatibility]:
    old_low, new_low = (_bound(s, "minimum", "exclusiveMinimum", 1) for s in (old, new))
    if new_low is not None and (old_low is None or new_low > old_low):
        yield Incompatibility(
            path,
            f"lower bound tightened from {_show_bound(old_low, '>')} "
            f"to {_show_bound(new_low, '>')}",
        )
    old_high, new_high = (_bound(s, "maximum", "exclusiveMaximum", -1) for s in (old, new))
    if new_high is not None and (
        old_high is None or (new_high[0], not new_high[1]) < (old_high[0], not old_high[1])
    ):
        yield Incompatibility(
            path,
            f"upper bound tightened from {_show_bound(old_high, '<')} "
            f"to {_show_bound(new_high, '<')}",
        )


def _show_bound(bound: tuple[float, bool] | None, sign: str) -> str:
    if bound is None:
        return "none"
    limit, exclusive = bound
    return f"{sign} {limit}" if exclusive else f"{sign}= {limit}"


def _compare_values(old: Schema, new: Schema, path: str) -> Iterator[Incompatibility]:
    old_values, new_values = _allowed_values(old), _allowed_values(new)
    if new_values is not None:
        if old_values is None:
            yield Incompatibility(path, f"values narrowed to {new_values!r}")
        else:
            dropped = [v for v in old_values if v not in new_values]
            if dropped:
                yield Incompatibility(path, f"enum values removed: {dropped!r}")
    yield from _numeric_bounds(old, new, path)
    for keyword in _LOWER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
            yield Incompatibility(
                path, f"{keyword} tightened from {old.get(keyword)!r} to {new[keyword]!r}"
            )
    for keyword in _UPPER_BOUNDS:
        if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
            yield Incompatibility(
                path, f"{keyword} tightened from {old.get(keyword)!r} to {new[keyword]!r}"
            )
    for keyword in _EXACT:
        if keyword in new and new[keyword] != old.get(keyword):
            yield Incompatibility(
                path, f"{keyword} changed from {old.get(keyword)!r} to {new[keyword]!r}"
            )

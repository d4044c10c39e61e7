"""Which event contracts a consumer handler's code tells apart, read from its source.

A handler that branches with `isinstance` or `match` declares its types with
`handles(...)` so its consumer can pass over the rest undecoded. A branch added
later for a type the declaration misses would never run, silently: a service's
test compares the two with `contracts_branched_on`.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from types import ModuleType

from receivables_platform.contracts.base import EventContract


def contracts_branched_on(*modules: ModuleType) -> set[str]:
    """The event types of the contracts that `case C(...)` patterns and `isinstance(x, C)`
    calls in these modules name (`C | D` and tuples too)."""
    found: set[str] = set()
    for module in modules:
        for name in _branch_names(ast.parse(inspect.getsource(module))):
            value = getattr(module, name, None)
            if isinstance(value, type) and issubclass(value, EventContract):
                found.add(value.event_type)
    return found


def _branch_names(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.MatchClass):
            yield from _names(node.cls)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "isinstance"
            and len(node.args) == 2
        ):
            yield from _names(node.args[1])


def _names(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.BinOp):
        yield from _names(node.left)
        yield from _names(node.right)
    elif isinstance(node, ast.Tuple):
        for element in node.elts:
            yield from _names(element)

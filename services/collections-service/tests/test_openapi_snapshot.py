"""The collections API as clients see it, pinned: a refactoring of the write side (issue 18,
one write shape) must not change a route, a model or an example. A deliberate change
regenerates the snapshot with `UPDATE_OPENAPI_SNAPSHOT=1` and shows up in review as a diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from collections_service.runtime import Runtime
from collections_service.spec import SPEC
from collections_service.testing import SECRET
from receivables_platform.service import build_app

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


def test_the_openapi_document_is_the_committed_one(runtime: Runtime) -> None:
    settings = SPEC.settings(
        database_url="postgresql://nobody@127.0.0.1:1/unused", jwt_secret=SECRET
    )
    document = build_app(SPEC, settings, dependencies=runtime).openapi()
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text(), (
        "collections' OpenAPI document changed; if meant, rerun with UPDATE_OPENAPI_SNAPSHOT=1"
    )

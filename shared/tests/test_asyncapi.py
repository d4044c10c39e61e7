"""The committed AsyncAPI document is the generated one, and it says what the code does."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from typer.testing import CliRunner

from receivables_platform.consumer.dead_letter import error_headers
from receivables_platform.contracts import REGISTRY
from receivables_platform.contracts.asyncapi import (
    ASYNCAPI_PATH,
    build_asyncapi,
    message_id,
    render_asyncapi,
)
from receivables_platform.contracts.cli import app as contracts_cli
from receivables_platform.contracts.topics import CONTEXTS, topic_for
from receivables_platform.envelope import CloudEvent, to_kafka

REGENERATE = "run: python -m receivables_platform.contracts asyncapi"


def committed() -> dict[str, Any]:
    loaded = yaml.safe_load(ASYNCAPI_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_committed_document_is_the_generated_one() -> None:
    generated = render_asyncapi(build_asyncapi(REGISTRY))
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == generated, REGENERATE


def test_cli_check_agrees() -> None:
    result = CliRunner().invoke(contracts_cli, ["asyncapi", "--check"])
    assert result.exit_code == 0, result.output


def test_cli_check_fails_on_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text("asyncapi: 3.0.0\n")
    result = CliRunner().invoke(contracts_cli, ["asyncapi", "--out", str(stale), "--check"])
    assert result.exit_code == 1
    assert stale.read_text() == "asyncapi: 3.0.0\n"


def test_every_topic_and_its_dead_letter_topic_is_a_channel() -> None:
    doc = committed()
    assert doc["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in doc["channels"].values()}
    assert addresses == {
        "billing.events.v1",
        "billing.events.v1.dlq",
        "collections.events.v1",
        "collections.events.v1.dlq",
        "cases.events.v1",
        "cases.events.v1.dlq",
    }


def test_every_registered_event_type_is_a_message_on_its_topic() -> None:
    doc = committed()
    by_address = {c["address"]: c for c in doc["channels"].values()}
    for (event_type, version), contract in REGISTRY.contracts.items():
        mid = message_id(contract)
        message = doc["components"]["messages"][mid]
        assert message["name"] == event_type
        assert {"const": str(version)} in [
            part.get("properties", {}).get("ce_schemaversion")
            for part in message["headers"]["allOf"]
        ]
        channel = by_address[topic_for(event_type)]
        assert channel["messages"][mid] == {"$ref": f"#/components/messages/{mid}"}


def test_message_payloads_point_at_the_committed_schema_files() -> None:
    for message in committed()["components"]["messages"].values():
        ref = message["payload"].get("$ref")
        if ref is not None:
            assert (ASYNCAPI_PATH.parent / ref).is_file(), ref


def test_operations_reference_channels_and_messages_that_exist() -> None:
    doc = committed()
    for name, operation in doc["operations"].items():
        channel_id = operation["channel"]["$ref"].removeprefix("#/channels/")
        channel = doc["channels"][channel_id]
        for ref in operation.get("messages", []):
            prefix = f"#/channels/{channel_id}/messages/"
            assert ref["$ref"].startswith(prefix), name
            assert ref["$ref"].removeprefix(prefix) in channel["messages"], name
    publishers = {op["channel"]["$ref"] for op in doc["operations"].values()}
    assert len(publishers) == 2 * len(CONTEXTS)


def test_documented_headers_are_the_ones_the_codec_writes() -> None:
    schema = committed()["components"]["schemas"]["CloudEventHeaders"]
    full = CloudEvent(
        source="billing-adapter",
        type="billing.invoice.issued",
        subject="a",
        partitionkey="a",
        data={},
        dataschema="urn:x",
        correlationid="c",
        causationid="d",
        sequence=1,
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    minimal = CloudEvent(
        source="billing-adapter",
        type="billing.invoice.issued",
        subject="a",
        partitionkey="a",
        data={},
    )
    assert {name for name, _ in to_kafka(full)[2]} == set(schema["properties"])
    assert {name for name, _ in to_kafka(minimal)[2]} == set(schema["required"])


def test_documented_dead_letter_headers_are_the_ones_the_consumer_writes() -> None:
    record = SimpleNamespace(topic="billing.events.v1", partition=0, offset=7)
    written = {name for name, _ in error_headers(record, ValueError("bad"), "reporting-service")}
    schema = committed()["components"]["schemas"]["DeadLetterHeaders"]
    assert written == set(schema["properties"]) == set(schema["required"])

"""The AsyncAPI 3.0 document of the platform's topics, generated from the contract registry.

A hand-written document drifts the first week; this one is rebuilt from the
same registry, envelope model and topic rules the code runs on, and a test
fails when the committed `shared/asyncapi.yaml` differs from what this module
generates. Message payloads point at the committed JSON Schema files rather
than inlining them, so there is one copy of each schema in the repository.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml

from receivables_platform.contracts.base import REGISTRY, EventContract, Registry
from receivables_platform.contracts.schemas import SCHEMA_ROOT, SHARED_ROOT, schema_id, schema_path
from receivables_platform.contracts.topics import CONTEXTS, BoundedContext, context_of
from receivables_platform.envelope import (
    CONTENT_TYPE,
    ENVELOPE_VERSION,
    SEQUENCE_DIGITS,
    SPEC_VERSION,
    CloudEvent,
)
from receivables_platform.kafka.topics import UNLIMITED_RETENTION, dead_letter_topic

ASYNCAPI_PATH = SHARED_ROOT / "asyncapi.yaml"
KAFKA_BINDING_VERSION = "0.5.0"
_HEADER_NOTE = (
    "# Generated from the contract registry by\n"
    "#   python -m receivables_platform.contracts asyncapi\n"
    "# Do not edit by hand: a test compares this file with the generated one.\n"
)

# Every CloudEvent attribute must be described here: adding one to the envelope without
# documenting its header fails generation, and so the test.
_ATTRIBUTES: dict[str, tuple[str, dict[str, Any]]] = {
    "id": (
        "Event id, a UUIDv7; with `ce_source` it identifies the event for deduplication.",
        {"format": "uuid"},
    ),
    "source": ("The service that recorded the event.", {"format": "uri-reference"}),
    "type": ("Event type, `<context>.<aggregate>.<past tense verb>`.", {}),
    "specversion": ("CloudEvents specification version.", {"const": SPEC_VERSION}),
    "time": ("When the event was recorded, RFC 3339 in UTC.", {"format": "date-time"}),
    "subject": ("The customer account id the event is about.", {}),
    "datacontenttype": ("Media type of the record value.", {"const": CONTENT_TYPE}),
    "dataschema": (
        "Id of the payload's JSON Schema (its `$id`), naming type and version.",
        {"format": "uri"},
    ),
    "schemaversion": (
        "Contract version of the payload; older ones are upcast on read.",
        {"pattern": "^[1-9][0-9]*$"},
    ),
    "correlationid": ("Id of the request or conversation that led to the event.", {}),
    "causationid": ("Id of the command or event that caused this one.", {}),
    "sequence": (
        f"Version of the event in its stream, from 1; gapless per stream. Zero-padded "
        f"to {SEQUENCE_DIGITS} digits so that it orders as text (envelope 2.0.0); "
        "records published before carry it unpadded: read both as the same "
        "number, or pad before comparing.",
        {"pattern": f"^(?:[0-9]{{{SEQUENCE_DIGITS}}}|[1-9][0-9]*)$"},
    ),
    "partitionkey": (
        "Kafka key of the record: the customer account id, so one account's events stay in order.",
        {},
    ),
    "traceparent": (
        "W3C trace context of the request that recorded the event.",
        {"pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"},
    ),
}

# What the consumer runner adds when it dead-letters a record (next to the original headers).
DEAD_LETTER_HEADERS: dict[str, str] = {
    "dlq-error-class": "Qualified class name of the error that made the record unprocessable.",
    "dlq-error-message": "The error's message, truncated to 4000 bytes.",
    "dlq-original-topic": "Topic the record was read from.",
    "dlq-original-partition": "Partition the record was read from.",
    "dlq-original-offset": "Offset the record had there.",
    "dlq-consumer-group": "Consumer group that gave up on it.",
    "dlq-failed-at": "When it was dead-lettered, ISO 8601 in UTC.",
}


def header_name(attribute: str) -> str:
    """The CloudEvents Kafka binding's header for an attribute (binary content mode)."""
    return "content-type" if attribute == "datacontenttype" else f"ce_{attribute}"


def _optional(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def envelope_headers_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for attribute, info in CloudEvent.model_fields.items():
        if attribute == "data":
            continue
        if attribute not in _ATTRIBUTES:
            raise KeyError(
                f"CloudEvent attribute {attribute!r} has no header description in "
                f"{__name__}; document it before publishing it"
            )
        description, extra = _ATTRIBUTES[attribute]
        name = header_name(attribute)
        properties[name] = {"type": "string", "description": description, **extra}
        if not _optional(info.annotation):
            required.append(name)
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in binary content mode "
        "(Kafka protocol binding): one header per attribute, values UTF-8 text.",
        "required": required,
        "properties": properties,
    }


def dead_letter_headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The original record's headers, copied byte for byte (usually the "
        "CloudEvents ones), plus why it was dead-lettered.",
        "required": list(DEAD_LETTER_HEADERS),
        "properties": {
            name: {"type": "string", "description": text}
            for name, text in DEAD_LETTER_HEADERS.items()
        },
    }


def message_id(contract: type[EventContract]) -> str:
    return f"{contract.event_type}.v{contract.version}"


def _channel_id(context: BoundedContext, dead_letters: bool = False) -> str:
    return f"{context.name}Events" + ("DeadLetters" if dead_letters else "")


def _message(contract: type[EventContract], payload_ref: str) -> dict[str, Any]:
    summary = (contract.__doc__ or "").strip().split("\n\n", 1)[0]
    message: dict[str, Any] = {
        "name": contract.event_type,
        "title": f"{contract.__name__} v{contract.version}",
    }
    if summary:
        message["summary"] = " ".join(summary.split())
    message.update(
        {
            "contentType": CONTENT_TYPE,
            "headers": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEventHeaders"},
                    {
                        "type": "object",
                        "properties": {
                            "ce_type": {"const": contract.event_type},
                            "ce_schemaversion": {"const": str(contract.version)},
                            "ce_dataschema": {
                                "const": schema_id(contract.event_type, contract.version)
                            },
                        },
                    },
                ]
            },
            "payload": {"$ref": payload_ref},
            "correlationId": {"location": "$message.header#/ce_correlationid"},
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": "Customer account id (ce_partitionkey)",
                    },
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
            "x-aggregate": contract.aggregate,
        }
    )
    return message


def _kafka_channel_binding(topic: str) -> dict[str, Any]:
    return {
        "kafka": {
            "topic": topic,
            "topicConfiguration": {k: int(v) for k, v in UNLIMITED_RETENTION.items()},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
    }


def build_asyncapi(
    registry: Registry = REGISTRY, *, out: Path = ASYNCAPI_PATH, schema_root: Path = SCHEMA_ROOT
) -> dict[str, Any]:
    by_context: dict[str, list[type[EventContract]]] = {c.name: [] for c in CONTEXTS}
    for _, contract in sorted(registry.contracts.items()):
        by_context[context_of(contract.event_type).name].append(contract)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for context in CONTEXTS:
        cid, dlq_id = _channel_id(context), _channel_id(context, dead_letters=True)
        channel_messages: dict[str, Any] = {}
        for contract in by_context[context.name]:
            mid = message_id(contract)
            path = schema_path(contract.event_type, contract.version, schema_root)
            ref = Path(os.path.relpath(path, out.parent)).as_posix()
            messages[mid] = _message(contract, ref if ref.startswith(".") else f"./{ref}")
            channel_messages[mid] = {"$ref": f"#/components/messages/{mid}"}
        channels[cid] = {
            "address": context.topic,
            "title": f"{context.name} events",
            "description": f"{context.title}. Published by {context.publisher}'s outbox relay, "
            "keyed by customer account id, retained forever: the replay source "
            "of every read model. Every version of every event type stays "
            "readable; consumers upcast old versions.",
            "messages": channel_messages,
            "bindings": _kafka_channel_binding(context.topic),
        }
        channels[dlq_id] = {
            "address": dead_letter_topic(context.topic),
            "title": f"{context.name} dead letters",
            "description": f"Records of {context.topic} a consumer could never process "
            "(undecodable, invalid, no upcaster), with the reason in headers.",
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
            "bindings": _kafka_channel_binding(dead_letter_topic(context.topic)),
        }
        publish: dict[str, Any] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"{context.publisher} publishes its events, in order per account.",
        }
        if channel_messages:
            publish["messages"] = [
                {"$ref": f"#/channels/{cid}/messages/{mid}"} for mid in channel_messages
            ]
        operations[f"publish{context.name.title()}Events"] = publish
        operations[f"deadLetter{context.name.title()}Events"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{dlq_id}"},
            "summary": "A consumer sets aside a record it can never process and moves on.",
            "messages": [{"$ref": f"#/channels/{dlq_id}/messages/deadLetter"}],
        }

    messages["deadLetter"] = {
        "name": "deadLetter",
        "title": "Dead letter",
        "summary": "The original record, key, value and headers unchanged, plus the error.",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {
            "description": "The original record value, byte for byte; it may not be JSON at all."
        },
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Receivables platform events",
            "version": ENVELOPE_VERSION,
            "description": "Topics of the receivables platform. Records follow the CloudEvents "
            "1.0 Kafka protocol binding in binary content mode: attributes in "
            "`ce_*` headers, the event data alone as a JSON object in the value, "
            "the Kafka key equal to `ce_partitionkey` (the customer account id). "
            "Delivery is at least once; deduplicate by (`ce_source`, `ce_id`).",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "Apache Kafka in production; an embedded broker with `make run`.",
                "variables": {
                    "bootstrap": {
                        "default": "localhost:9092",
                        "description": "KAFKA_BOOTSTRAP_SERVERS",
                    }
                },
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {
                "CloudEventHeaders": envelope_headers_schema(),
                "DeadLetterHeaders": dead_letter_headers_schema(),
            },
            "messages": messages,
        },
    }


def render_asyncapi(document: dict[str, Any]) -> str:
    body: str = yaml.safe_dump(
        document, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100
    )
    return _HEADER_NOTE + body

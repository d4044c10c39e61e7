"""The CloudEvents Kafka binding in binary mode, as any CloudEvents tool would read our topics."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from receivables_platform.envelope import CloudEvent, InvalidEnvelope, from_kafka, to_kafka

ACCOUNT = "0190a5f2-7a3e-7c4d-9b1e-2f3a4b5c6d7e"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def an_event(**overrides: object) -> CloudEvent:
    fields: dict[str, object] = dict(
        source="billing-adapter",
        type="billing.invoice.issued",
        subject=ACCOUNT,
        partitionkey=ACCOUNT,
        time=datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        dataschema="urn:receivables:schema:billing.invoice.issued:v1",
        schemaversion=1,
        correlationid="req-42",
        causationid="cmd-7",
        sequence=3,
        traceparent=TRACEPARENT,
        data={"invoice_id": "abc", "total_minor": 12345, "lines": [{"sku": "x"}]},
    )
    fields.update(overrides)
    return CloudEvent.model_validate(fields)


def headers_of(event: CloudEvent) -> dict[str, bytes]:
    return dict(to_kafka(event)[2])


def test_binary_mode_round_trip_keeps_every_attribute_and_the_data() -> None:
    event = an_event()
    _, value, headers = to_kafka(event)
    assert from_kafka(value, headers) == event


def test_round_trip_without_optional_attributes() -> None:
    event = CloudEvent(
        source="s", type="billing.invoice.issued", subject="a", partitionkey="a", data={}
    )
    _, value, headers = to_kafka(event)
    assert from_kafka(value, headers) == event
    assert {name for name, _ in headers} == {
        "content-type",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_specversion",
        "ce_time",
        "ce_subject",
        "ce_schemaversion",
        "ce_partitionkey",
    }


def test_headers_are_ce_prefixed_attributes_and_content_type() -> None:
    headers = headers_of(an_event())
    assert headers == {
        "content-type": b"application/json",
        "ce_id": headers["ce_id"],
        "ce_source": b"billing-adapter",
        "ce_type": b"billing.invoice.issued",
        "ce_specversion": b"1.0",
        "ce_time": b"2025-03-01T09:30:15.123456Z",
        "ce_subject": ACCOUNT.encode(),
        "ce_dataschema": b"urn:receivables:schema:billing.invoice.issued:v1",
        "ce_schemaversion": b"1",
        "ce_correlationid": b"req-42",
        "ce_causationid": b"cmd-7",
        "ce_sequence": b"00000000000000000003",
        "ce_partitionkey": ACCOUNT.encode(),
        "ce_traceparent": TRACEPARENT.encode(),
    }
    assert all(name == name.lower() for name in headers)


def test_the_id_is_a_uuid7() -> None:
    raw = headers_of(an_event())["ce_id"].decode()
    assert raw[14] == "7", raw


def test_the_key_is_the_partition_key() -> None:
    key, _, _ = to_kafka(an_event(partitionkey="acct-9", subject="acct-9"))
    assert key == b"acct-9"


def test_the_value_is_the_data_alone_as_compact_json() -> None:
    _, value, _ = to_kafka(an_event())
    assert json.loads(value) == {"invoice_id": "abc", "total_minor": 12345, "lines": [{"sku": "x"}]}
    assert b" " not in value


def test_time_is_written_in_utc() -> None:
    local = datetime(2025, 3, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    assert headers_of(an_event(time=local))["ce_time"] == b"2025-03-01T09:30:00Z"


def test_headers_as_aiokafka_hands_them_over_are_read() -> None:
    _, value, headers = to_kafka(an_event())
    assert from_kafka(value, tuple(headers)) == an_event(id=dict(headers)["ce_id"].decode())


def test_unknown_headers_are_ignored() -> None:
    event = an_event()
    _, value, headers = to_kafka(event)
    assert from_kafka(value, [*headers, ("x-trace-vendor", b"1")]) == event


def test_a_record_without_specversion_is_invalid() -> None:
    _, value, headers = to_kafka(an_event())
    without = [(n, v) for n, v in headers if n != "ce_specversion"]
    with pytest.raises(InvalidEnvelope, match="specversion"):
        from_kafka(value, without)


def test_another_specversion_is_invalid() -> None:
    _, value, headers = to_kafka(an_event())
    other = [(n, b"0.3" if n == "ce_specversion" else v) for n, v in headers]
    with pytest.raises(InvalidEnvelope, match="specversion"):
        from_kafka(value, other)


def test_a_structured_or_bare_record_is_invalid() -> None:
    """Structured mode (everything in the value) is not what we publish or read."""
    structured = json.dumps(
        {"specversion": "1.0", "id": "1", "type": "t", "source": "s", "data": {}}
    ).encode()
    with pytest.raises(InvalidEnvelope):
        from_kafka(structured, [("content-type", b"application/cloudevents+json")])


def test_a_non_json_value_is_invalid() -> None:
    _, _, headers = to_kafka(an_event())
    with pytest.raises(InvalidEnvelope, match="not JSON"):
        from_kafka(b"\x00\x01 not json", headers)


@pytest.mark.parametrize("value", [b"[1, 2]", b'"text"', b"42", b"null", None])
def test_a_value_that_is_not_a_json_object_is_invalid(value: bytes | None) -> None:
    _, _, headers = to_kafka(an_event())
    with pytest.raises(InvalidEnvelope, match="not a JSON object"):
        from_kafka(value, headers)


def test_another_content_type_is_invalid() -> None:
    _, value, headers = to_kafka(an_event())
    avro = [(n, b"application/avro" if n == "content-type" else v) for n, v in headers]
    with pytest.raises(InvalidEnvelope, match="content-type"):
        from_kafka(value, avro)


@pytest.mark.parametrize(
    "drop", ["ce_id", "ce_time", "ce_source", "ce_type", "ce_subject", "ce_partitionkey"]
)
def test_a_missing_required_attribute_is_invalid(drop: str) -> None:
    """Never minted on read: a fresh id would defeat deduplication of a redelivered event."""
    event = CloudEvent(id="x", source="s", type="t", subject="a", partitionkey="a", data={})
    _, value, headers = to_kafka(event)
    with pytest.raises(InvalidEnvelope, match="invalid CloudEvents attributes"):
        from_kafka(value, [(n, v) for n, v in headers if n != drop])


def test_a_malformed_attribute_is_invalid() -> None:
    _, value, headers = to_kafka(an_event())
    bad = [(n, b"third" if n == "ce_sequence" else v) for n, v in headers]
    with pytest.raises(InvalidEnvelope, match="invalid CloudEvents attributes"):
        from_kafka(value, bad)


def test_sequences_order_as_text_as_they_do_as_numbers() -> None:
    """The CloudEvents sequence extension compares as text: unpadded, "10" sorted before "2"."""
    versions = [1, 2, 9, 10, 11, 100, 2**63 - 1]
    texts = [headers_of(an_event(sequence=v))["ce_sequence"] for v in versions]
    assert sorted(texts) == texts and len(set(map(len, texts))) == 1


@pytest.mark.parametrize("old", [b"3", b"0003", b"00000000000000000003"])
def test_a_record_from_before_the_padding_reads_as_the_same_event(old: bytes) -> None:
    """Envelope 1.x records stay on the topics forever: unpadded is upcast to the same number."""
    event = an_event()
    _, value, headers = to_kafka(event)
    unpadded = [(n, old if n == "ce_sequence" else v) for n, v in headers]
    assert from_kafka(value, unpadded) == event and from_kafka(value, unpadded).sequence == 3


@pytest.mark.parametrize(
    "bad", [b"0", b"00000000000000000000", b"-3", b"+3", b" 3", b"3_0", b"\xd9\xa3", b"1" * 21, b""]
)
def test_a_sequence_that_no_envelope_version_wrote_is_invalid(bad: bytes) -> None:
    _, value, headers = to_kafka(an_event())
    with pytest.raises(InvalidEnvelope, match="sequence"):
        from_kafka(value, [(n, bad if n == "ce_sequence" else v) for n, v in headers])


def test_data_the_fast_encoder_refuses_is_still_written() -> None:
    _, value, _ = to_kafka(an_event(data={"total_minor": 10**30, "name": "Société"}))
    assert json.loads(value) == {"total_minor": 10**30, "name": "Société"}

"""An example for every model in the OpenAPI document, written from one receivables story.

Integrators read a document to learn what a request looks like; a schema alone does not
say that `amount_minor` is 125000 for 1,250.00 or what a case number looks like. Writing
an example by hand into each of some two hundred models would drift the day a field is
added, so the document's examples are composed here, when it is generated: a model that
declares its own (`json_schema_extra={"examples": [...]}`, `Field(examples=[...])`) keeps
it; otherwise each field's value comes from the field's own example or default, from the
receivables vocabulary below (one account, Northwind Traders, its invoices, a promise, a
dispute case), or, for ids, dates, amounts and counts, from its type. A text field that is
in none of these gets no invented value: its model is left without an example and
`missing_examples` names it, which each service's contract test turns into a failure.
The same test validates every example against its own schema.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI

REF = "#/components/schemas/"
ACCOUNT_ID = "0193a5b2-7c41-7e2a-9f30-4b8c2d1e6a01"
INVOICE_ID = "0193a5b3-1d02-7b6c-8e41-5a9f3c2b7d02"

VOCABULARY: dict[str, Any] = {
    # who
    "name": "Northwind Traders GmbH",
    "account_name": "Northwind Traders GmbH",
    "collector_id": "ana.lopez",
    "owner_id": "sam.okafor",
    "user_id": "ana.lopez",
    "supervisor_id": "maria.chen",
    "assignee": "ana.lopez",
    "author": "sam.okafor",
    "added_by": "sam.okafor",
    "answered_by": "lee.martin",
    "claimed_by": "lee.martin",
    "created_by": "ana.lopez",
    "decided_by": "maria.chen",
    "escalated_by": "sam.okafor",
    "opened_by": "sam.okafor",
    "recorded_by": "ana.lopez",
    "requested_by": "sam.okafor",
    "sent_by": "sam.okafor",
    "submitted_by": "erp-connector",
    "confirmed_by_name": "Jana Novak",
    "team": "east",
    "teams": ["east"],
    "role": "billing",
    "roles": ["collector"],
    "segment": "smb",
    "email": "ap@northwind.example",
    "email_to": "ap@northwind.example",
    "recipient": "ap@northwind.example",
    "recipients": ["ap@northwind.example"],
    "cc": ["controller@northwind.example"],
    "email_cc": ["controller@northwind.example"],
    "to": ["ap@northwind.example"],
    "phone": "+49 30 1234567",
    "contact_hours": "Mon-Fri 09:00-12:00",
    "language": "en",
    "language_requested": "en",
    "preferred_channel": "email",
    # the billing system's names
    "external_id": "cus_NffrFeUfNV2Hib",
    "case_number": "CASE-000123",
    "case_id": "CASE-000123",
    "currency": "EUR",
    "reference": "INV-2026-0042",
    "payment_method_type": "card",
    "payment_method_reference": "pm_1OoKpQ2eZvKYlo2C",
    "provider": "stripe",
    "provider_reference": "cs_test_a1b2c3",
    "code": "RATE_ERROR",
    "category_code": "RATE_ERROR",
    "category_name": "Wrong rate billed",
    "root_cause_code": "RATE_ERROR",
    "reason_code": "customer_disputes_charge",
    "rejection_code": "invoice_voided",
    "rejection_detail": "the invoice was voided before the correction arrived",
    "template": "reminder",
    "step_id": "day_7_call",
    "tags": ["vip"],
    "object_id": "in_1OoKpQ2eZvKYlo2C",
    "filename": "credit-note-0042.pdf",
    "content_type": "application/pdf",
    "download": "/v1/cases/0193a5b4-2e13-7c7d-9f52-6b0a4d3c8e03/attachments/0042",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "url": "https://pay.example/northwind/0042",
    "link": "https://wiki.example/sop/rate-errors",
    "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
    "due_time": "10:30",
    "kind": "invoice",
    "type": "dispute",
    "status": "investigating",
    "state": "open",
    "sla_state": "on_track",
    "outcome": "reached_promised",
    "channel": "email",
    "method": "card",
    "source": "agent",
    "release": "payment received",
    "withheld": "no_credit_sales",
    "dso_withheld": None,
    "requires": ["pay_link"],
    "bucket": "1-30",
    "sop_candidates": ["RATE_ERROR"],
    "waiting_for": "customer",
    "notification_key": "sla_at_risk:CASE-000123",
    "key": "ana.lopez",
    # what people write
    "note": "Customer says the March invoice bills the old rate; asked for the contract.",
    "notes": "Prefers a call before 10:00; pays by card at month end.",
    "body": "Hello, we disagree with invoice INV-2026-0042: the rate is the old one.",
    "subject": "Invoice INV-2026-0042: reminder",
    "title": "Invoice INV-2026-0042 issued",
    "summary": "Rate corrected and credit note issued",
    "resolution": "Credit of 120.00 issued for the wrong rate",
    "resolution_summary": "Credit of 120.00 issued for the wrong rate",
    "description": "Invoices billed at last year's rate after the renewal",
    "reason": "customer disputes the rate on INV-2026-0042",
    "memo": "Credit for the rate error, case CASE-000123",
    "message": "We will pay the open balance on 31 March.",
    "answer": "The contract was renewed at the new rate on 1 February.",
    "question": "Which rate did the renewed contract agree?",
    "next_action": "Call back after the customer checked the contract",
    "satisfaction_comment": "Quick and clear, thank you.",
    "comment": "Quick and clear, thank you.",
    "detail": "invoice INV-2026-0042 is already paid",
    "error": "mailbox unavailable",
    "email_error": "550 mailbox unavailable",
    "last_error": "broker not reachable",
    "failure": "550 mailbox unavailable",
    "kpi": "DSO (days)",
    "week": "2026-W12",
    "query": "northwind",
    "subtitle": "cus_NffrFeUfNV2Hib",
    "id": ACCOUNT_ID,
    "at": "2026-03-18T09:15:00Z",
    "instance": "/v1/invoices/" + INVOICE_ID,
    # the platform's names
    "topic": "billing.events.v1",
    "consumer_group": "reporting-service",
    "broker": "ok",
    "event_id": "0193a5b5-3f24-7d8e-a063-7c1b5e4d9f04",
    "event_type": "billing.invoice.issued",
    "stream_id": "invoice-" + INVOICE_ID,
    "correlation_id": "0193a5b6-4035-7e9f-b174-8d2c6f5e0a05",
    "causation_id": "0193a5b5-3f24-7d8e-a063-7c1b5e4d9f04",
    "message_id": "<0193a5b7@mail.northwind.example>",
    "email_message_id": "<0193a5b7@receivables.example>",
    "next_cursor": "eyJhZnRlciI6IjAxOTNhNWIyIn0",
    "next_errors_cursor": "eyJyb3ciOjUwfQ",
    "cursor": "eyJhZnRlciI6IjAxOTNhNWIyIn0",
    "field": "body.amount_minor",
    "msg": "Input should be greater than 0",
    "loc": ["body", "amount_minor"],
    "input": -5,
    "ctx": {"gt": 0},
    # amounts and figures whose name says more than their type
    "amount_minor": 125000,
    "quantity": 2,
    "accounts_assigned": 12,
    "size_bytes": 48213,
    "unit_price_minor": 50000,
    "tax_minor": 25000,
    "subtotal_minor": 100000,
    "total_minor": 125000,
    "payment_terms_days": 30,
    "grace_days": 2,
    "offset_days": 7,
    "snooze_days": 3,
    "target_days": 14,
    "days_past_due": 18,
    "days_overdue": 18,
    "satisfaction": 5,
    "priority_score": 870,
    "version": 3,
    "case_version": 4,
    "status_code": 422,
    "score": 0.92,
    "days": 31,
    "dso": 41.3,
    "best_possible_dso": 28.6,
    "add": 12.7,
    "cei": 82.4,
    "mean": 4.3,
    "partition": 0,
    "position": 1842,
    "offset": 1842,
    "end_offset": 1845,
    "lag": 3,
    "total_lag": 3,
    "block_id": 7,
    "outbox_id": 10521,
    "waiting_rows": 4,
    "share_pct": 42.5,
    "cumulative_pct": 75.0,
    "reduction_pct": 12.5,
    "buckets": {"current": 125000, "1-30": 48000, "31-60": 12000},
    "totals_minor": {"EUR": 185000},
    "distribution": {"1": 0, "2": 1, "3": 2, "4": 5, "5": 9},
    "channels": {"sla_at_risk": "email", "customer_reply": "digest"},
    "dates": {"due": "2026-03-31"},
    "data": {"account_id": ACCOUNT_ID, "amount_minor": 125000, "currency": "EUR"},
    "escalations_by_origin": {"case:service": 2, "collections:final notice": 1},
    "detail_object": {"invoice_id": INVOICE_ID, "amount_minor": 125000, "currency": "EUR"},
    # business dates of the story: issued 1 March, due 31 March, promised 28 March
    "business_date": "2026-03-18",
    "as_of": "2026-03-31",
    "issue_date": "2026-03-01",
    "due_date": "2026-03-31",
    "due_on": "2026-03-31",
    "promised_date": "2026-03-28",
    "deadline": "2026-03-31",
    "made_on": "2026-03-18",
    "date": "2026-03-18",
    "from": "2026-03-01",
    "start": "2026-03-01",
    "end": "2026-03-31",
}
"""One value per field name, from the same story, so examples read as one account."""

FOR_MODEL: dict[str, Any] = {
    "TemplateRequest.name": "reminder",
    "CollectorName.name": "Ana Lopez",
    "Problem.status": 422,
    "Problem.title": "Invalid input",
    "Problem.type": "https://receivables.example/problems/validation",
    "Problem.detail": "amount_minor must be greater than 0",
    "TimelineEntry.detail": VOCABULARY["detail_object"],
    "TimelineEntry.kind": "invoice",
    "SearchResult.kind": "account",
    "SearchResult.title": "Northwind Traders GmbH",
    "ValidationError.input": -5,
    "ValidationError.type": "greater_than",
    "InvoiceResponse.status": "open",
    "CommitmentView.status": "open",
    "TaskView.status": "open",
    "OpenCase.status": "investigating",
    "SentNotification.status": "sent",
    "BlockedKey.key": ACCOUNT_ID,
    "CommitmentView.instalments": [
        {"due_date": "2026-03-28", "amount_minor": 62500},
        {"due_date": "2026-04-28", "amount_minor": 62500},
    ],
    "PolicyResponse.steps": [
        {
            "step_id": "d+7-call",
            "offset_days": 7,
            "channel": "call",
            "template": "reminder",
            "escalates": False,
        }
    ],
    "BlockedKey.error": "MessageSizeTooLargeError: the broker refused the record",
    "SetAsideEvent.source": "billing-adapter",
    "SetAsideEvent.type": "billing.invoice.issued",
    "SetAsideEvent.subject": ACCOUNT_ID,
    "SetAsideEvent.reason": "no upcaster for billing.invoice.issued version 9",
    **dict.fromkeys(
        (
            "IssueInvoiceRequest.external_id",
            "InvoiceResponse.external_id",
            "InvoiceView.external_id",
            "TaskInvoice.external_id",
        ),
        "in_1OoKpQ2eZvKYlo2C",
    ),
    **dict.fromkeys(
        ("RecordPaymentRequest.external_id", "PaymentResponse.external_id"), "py_3OoKpQ2eZvKYlo2C"
    ),
    **dict.fromkeys(("LineIn.description", "LineOut.description"), "Field service visit, March"),
    **dict.fromkeys(("Contact.name", "ContactIn.name", "ContactCard.name"), "Jana Novak"),
    **dict.fromkeys(("AgentRequest.name", "AgentResponse.name"), "Sam Okafor"),
    **dict.fromkeys(("CollectorView.name",), "Ana Lopez"),
    **dict.fromkeys(
        ("PolicyRequest.name", "PolicyResponse.name", "PolicyRevision.name"), "SMB standard cadence"
    ),
    "TemplateView.name": "reminder",
    **dict.fromkeys(
        (
            "CategoryRequest.name",
            "CategoryResponse.name",
            "CorrectedByRootCause.name",
            "ParetoEntry.name",
            "RootCause.name",
            "RootCauseThisWeek.name",
            "WeekOverWeek.name",
        ),
        "Wrong rate billed",
    ),
    **dict.fromkeys(
        ("CategoryRequest.description", "CategoryResponse.description"),
        "The renewed contract's rate was not loaded into billing",
    ),
    **dict.fromkeys(
        ("RootCause.detail", "RootCauseRequest.detail"),
        "Renewal on 1 February not loaded into billing",
    ),
}
"""Where one model's field means something else than the name usually does."""

MAP_KEYS = {"escalations_by_cause": "delay", "checks": "database"}
"""The key a map of this name is keyed by (a map of amounts is keyed by currency)."""


MEANINGS: dict[str, str] = {
    "currency": "ISO 4217 currency code",
    "external_id": "The billing system's own id of it",
    "next_cursor": "Pass it back as the cursor for the next page; null on the last page",
    "business_date": "A business date: a day in the team's time zone (TEAM_TIMEZONE)",
    "correlation_id": "Ties the request, the events it caused and their log lines together",
    "case_number": "The case's number for people, `CASE-000123`",
    "collector_id": "The collector's user id (their token's `sub`)",
    "owner_id": "The owner's user id (their token's `sub`)",
}
"""What a field of this name means wherever its model does not say: the names whose
meaning a reader cannot guess from the type."""
MINOR_UNITS = "Money in minor units of the currency (125000 is 1,250.00 EUR)"


def describe_fields(components: dict[str, Any]) -> None:
    for schema in components.values():
        for name, field in schema.get("properties", {}).items():
            meaning = MINOR_UNITS if name.endswith("_minor") else MEANINGS.get(name)
            if meaning and "description" not in field:
                field["description"] = meaning


class NoExample(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _uuid(name: str) -> str:
    """A UUIDv7-shaped id, the same for the same field, so one example's ids agree."""
    raw = bytearray(uuid.uuid5(uuid.NAMESPACE_URL, f"receivables:{name}").bytes)
    raw[0:4] = bytes.fromhex("0193a5b2")
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(raw)))


def _ids(name: str) -> str:
    if name in ("account_id", "id"):
        return ACCOUNT_ID
    if name in ("invoice_id", "invoice_ids"):
        return INVOICE_ID
    return _uuid(name)


def _matches(value: Any, schema: dict[str, Any]) -> bool:
    """The vocabulary's value fits the field's type (a `status` may be a code or a word)."""
    kind = schema.get("type")
    if "enum" in schema:
        return value in schema["enum"]
    if kind is None:
        return True
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    kinds = kind if isinstance(kind, list) else [kind]
    if not any(checks[k](value) for k in kinds if k in checks):
        return False
    if isinstance(value, str):
        return schema.get("minLength", 0) <= len(value) <= schema.get(
            "maxLength", len(value)
        ) and _formatted(value, schema.get("format"))
    return True


def _formatted(value: str, form: str | None) -> bool:
    """A case number is no `uuid`, though both are called case_id somewhere."""
    parsers: dict[str, Callable[[str], object]] = {
        "uuid": uuid.UUID,
        "date": date.fromisoformat,
        "date-time": lambda v: datetime.fromisoformat(v) if "T" in v else int("x"),
    }
    try:
        parsers.get(form or "", str)(value)
    except ValueError:
        return False
    return True


class Composer:
    """Builds examples over one document's components, each model once."""

    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components
        self.done: dict[str, Any] = {}
        self.failed: dict[str, str] = {}
        self.busy: set[str] = set()

    def model(self, name: str) -> Any:
        if name in self.done:
            return self.done[name]
        if name in self.failed:
            raise NoExample(self.failed[name])
        schema = self.components[name]
        if name in self.busy:  # a recursive model: stop at the second level
            raise NoExample(f"{name} (recursive)")
        self.busy.add(name)
        try:
            value = self.value(schema, None, name)
        except NoExample as exc:
            self.failed[name] = exc.path
            raise
        finally:
            self.busy.discard(name)
        self.done[name] = value
        return value

    def value(self, schema: dict[str, Any], field: str | None, path: str) -> Any:
        own = schema.get("examples")
        if isinstance(own, list) and own:
            return copy.deepcopy(own[0])
        if "example" in schema:
            return copy.deepcopy(schema["example"])
        if "$ref" in schema:
            return self.model(schema["$ref"].removeprefix(REF))
        model = path.split(".")[0]
        for key in (f"{model}.{field}", field):
            if key is not None:
                known = FOR_MODEL.get(key, VOCABULARY.get(key, _MISSING))
                if known is not _MISSING and self._fits(known, schema):
                    return copy.deepcopy(known)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return copy.deepcopy(schema["default"])
        for union in ("anyOf", "oneOf"):
            if union in schema:
                alternatives = [a for a in schema[union] if a.get("type") != "null"]
                for alternative in alternatives or schema[union]:
                    try:
                        return self.value(alternative, field, path)
                    except NoExample:
                        continue
                raise NoExample(path)
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.value(schema["allOf"][0], field, path)
        return self._by_type(schema, field, path)

    def _fits(self, value: Any, schema: dict[str, Any]) -> bool:
        if "$ref" in schema:
            target = self.components.get(schema["$ref"].removeprefix(REF), {})
            return "enum" in target and value in target["enum"]
        if "anyOf" in schema:
            return any(self._fits(value, a) for a in schema["anyOf"])
        return _matches(value, schema)

    def _by_type(self, schema: dict[str, Any], field: str | None, path: str) -> Any:
        kind = schema.get("type")
        name = field or ""
        if kind == "object" or "properties" in schema:
            if not schema.get("properties") and not isinstance(
                schema.get("additionalProperties"), dict
            ):
                raise NoExample(path)  # "any object": only the vocabulary knows its keys
            return {
                key: self.value(sub, key, f"{path}.{key}")
                for key, sub in schema.get("properties", {}).items()
            } | self._additional(schema, name, path)
        if kind == "array":
            item = self.value(schema.get("items", {}), name.removesuffix("s") or name, f"{path}[]")
            return [item] * max(1, schema.get("minItems", 1))
        if kind == "string":
            return self._string(schema, name, path)
        if kind == "integer":
            return self._number(schema, 125000 if name.endswith("_minor") else 3)
        if kind == "number":
            return self._number(schema, 87.5 if name.endswith("_pct") else 12.5)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        raise NoExample(path)

    def _additional(self, schema: dict[str, Any], name: str, path: str) -> dict[str, Any]:
        extra = schema.get("additionalProperties")
        if schema.get("properties") or not isinstance(extra, dict) or not extra:
            return {}
        key = MAP_KEYS.get(name, "EUR" if name.endswith("_minor") else None)
        if key is None:
            raise NoExample(f"{path}{{}}")
        return {key: self.value(extra, None, f"{path}{{}}")}

    def _string(self, schema: dict[str, Any], name: str, path: str) -> str:
        form = schema.get("format")
        if form == "uuid":
            return _ids(name)
        if form == "date":
            return "2026-03-31" if name in ("to", "until", "end") else "2026-03-18"
        if form == "date-time":
            return "2026-03-18T09:15:00Z"
        if form == "email":
            return "ap@northwind.example"
        if form in ("uri", "uri-reference"):
            return "https://receivables.example/v1/invoices/" + INVOICE_ID
        if form == "binary":
            return "(the file's bytes)"
        raise NoExample(path)

    @staticmethod
    def _number(schema: dict[str, Any], preferred: float) -> Any:
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        value = preferred
        if high is not None and value > high:
            value = high - (1 if "exclusiveMaximum" in schema else 0)
        if low is not None and value < low:
            value = low + (1 if "exclusiveMinimum" in schema else 0)
        return int(value) if schema.get("type") == "integer" else value


_MISSING = object()


def is_json(media: str) -> bool:
    """One JSON document: not JSON Lines (`application/jsonl`, `x-ndjson`), a file of many."""
    return media == "application/json" or media.endswith("+json")


def add_examples(document: dict[str, Any]) -> dict[str, str]:
    """Give every component without one an example, and every inline JSON body or answer,
    and the fields whose names need it a description; returns the models left without an
    example (model -> the field no value was found for)."""
    components = document.get("components", {}).get("schemas", {})
    describe_fields(components)
    composer = Composer(components)
    for name, schema in components.items():
        if "examples" in schema or "example" in schema:
            continue
        try:
            schema["examples"] = [composer.model(name)]
        except NoExample:
            continue
    for item in document.get("paths", {}).values():
        for operation in item.values():
            bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
            for body in bodies:
                for media, content in body.get("content", {}).items():
                    schema = content.get("schema")
                    if (
                        not is_json(media)
                        or not schema
                        or "$ref" in schema
                        or "example" in content
                        or "examples" in content
                    ):
                        continue
                    try:
                        content["example"] = composer.value(
                            schema, None, operation.get("operationId", "operation")
                        )
                    except NoExample:
                        continue
    return dict(composer.failed)


def missing_examples(document: dict[str, Any]) -> list[str]:
    """Models, and inline JSON bodies and answers, the document gives no example for."""
    missing = [
        name
        for name, schema in document.get("components", {}).get("schemas", {}).items()
        if "examples" not in schema and "example" not in schema
    ]
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            bodies = {"request": operation.get("requestBody", {}), **operation.get("responses", {})}
            for status, body in bodies.items():
                for media, content in body.get("content", {}).items():
                    schema = content.get("schema")
                    if (
                        is_json(media)
                        and schema
                        and "$ref" not in schema
                        and "example" not in content
                        and "examples" not in content
                    ):
                        missing.append(f"{method.upper()} {path} {status} {media}")
    return missing


def document_examples(app: FastAPI) -> None:
    """Wrap `app.openapi` so the generated document carries the examples."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            app.state.openapi_examples_missing = add_examples(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

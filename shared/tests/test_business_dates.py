"""Business dates: strict ISO 8601 calendar dates, inside the one configurable range."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from receivables_platform.business_dates import (
    BusinessDate,
    BusinessDateSettings,
    BusinessInstant,
    business_dates,
)
from receivables_platform.web.bodies import RequestBody


class Payment(RequestBody):
    received_on: BusinessDate
    applied_on: BusinessDate | None = None


ARABIC_INDIC_DIGITS = "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661"  # 2026-01-01


def _refusal(value: object) -> dict:
    with pytest.raises(ValidationError) as refused:
        Payment.model_validate({"received_on": value})
    [error] = refused.value.errors()
    assert error["loc"] == ("received_on",)
    return error


@pytest.mark.parametrize(
    "value",
    [
        0,
        "0",
        1_700_000_000,
        "1700000000",
        20260101,
        "20260101",
        1.5,
        True,
        "2026-01-01T00:00:00",
        "2026-W01-1",
        "2026-001",
        " 2026-01-01",
        "2026-01-01\n",
        ARABIC_INDIC_DIGITS,
        None,
        [],
        {},
    ],
)
def test_only_iso_calendar_dates_are_dates(value):
    assert _refusal(value)["type"] == "date_format"


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "0000-01-01"])
def test_a_day_the_calendar_lacks_is_named(value):
    error = _refusal(value)
    assert error["type"] == "date_not_on_calendar"
    assert value in error["msg"]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1989-12-31", "2100-01-01"])
def test_a_date_outside_the_business_range_is_refused_naming_the_range(value):
    error = _refusal(value)
    assert error["type"] == "date_out_of_range"
    assert "1990-01-01 to 2099-12-31" in error["msg"]


@pytest.mark.parametrize("value", ["1990-01-01", "2099-12-31", "2026-11-20", date(2026, 11, 20)])
def test_dates_in_range_are_read_as_dates(value):
    assert Payment.model_validate({"received_on": value}).received_on == date.fromisoformat(
        str(value)
    )
    assert Payment.model_validate_json(f'{{"received_on": "{value}"}}').received_on


def test_a_datetime_is_not_a_business_date():
    assert _refusal(datetime(2026, 11, 20))["type"] == "date_format"


def test_csv_rows_read_strings_the_same_way():
    assert Payment.model_validate_strings({"received_on": "2026-11-20"}).received_on
    with pytest.raises(ValidationError):
        Payment.model_validate_strings({"received_on": "0"})


def test_the_schema_still_says_a_date():
    schema = Payment.model_json_schema()["properties"]["received_on"]
    assert schema == {"format": "date", "title": "Received On", "type": "string"}


def test_the_range_is_configurable(monkeypatch):
    monkeypatch.setenv("BUSINESS_DATE_MIN", "2000-01-01")
    monkeypatch.setenv("BUSINESS_DATE_MAX", "2030-12-31")
    business_dates.cache_clear()
    try:
        assert _refusal("1999-12-31")["type"] == "date_out_of_range"
        assert Payment.model_validate({"received_on": "2030-12-31"})
    finally:
        business_dates.cache_clear()


@pytest.mark.parametrize(("earliest", "latest"), [("2030-01-01", "2029-12-31"), ("0", None)])
def test_a_bad_range_setting_stops_the_service_at_start(monkeypatch, earliest, latest):
    monkeypatch.setenv("BUSINESS_DATE_MIN", earliest)
    if latest:
        monkeypatch.setenv("BUSINESS_DATE_MAX", latest)
    with pytest.raises(ValidationError):
        BusinessDateSettings()


class Confirmation(RequestBody):
    confirmed_at: BusinessInstant


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("2026-01-05T09:30:00", "datetime_offset_missing"),
        (datetime(2026, 1, 5, 9, 30), "datetime_offset_missing"),
        (1_767_605_400, "datetime_format"),
        ("1767605400", "datetime_format"),
        ("20260105T093000Z", "datetime_format"),
        ("2026-W02-1T09:30:00Z", "datetime_format"),
        ("2026-01-05", "datetime_format"),
        ("\uff12026-01-05T09:30:00Z", "datetime_format"),
        (None, "datetime_format"),
        (["2026-01-05T09:30:00Z"], "datetime_format"),
        ("2026-02-30T09:30:00Z", "datetime_not_on_calendar"),
        ("2026-01-05T24:00:00Z", "datetime_not_on_calendar"),
        ("0001-01-01T00:00:00Z", "datetime_out_of_range"),
        ("0001-01-01T00:00:00+01:00", "datetime_out_of_range"),  # year 0 in UTC
        ("9999-12-31T23:59:59Z", "datetime_out_of_range"),
        ("1990-01-01T00:30:00+01:00", "datetime_out_of_range"),  # 1989-12-31 in UTC
    ],
)
def test_a_request_instant_has_an_offset_and_a_date_in_the_range(value, kind):
    with pytest.raises(ValidationError) as refused:
        Confirmation.model_validate({"confirmed_at": value})
    [error] = refused.value.errors()
    assert (error["loc"], error["type"]) == (("confirmed_at",), kind)


EASTERN = timezone(-timedelta(hours=5))


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-05T09:30:00Z",
        "2026-01-05t09:30z",
        "2026-01-05T04:30:00.123456-05:00",
        datetime(2026, 1, 5, 4, 30, tzinfo=EASTERN),
    ],
)
def test_an_instant_with_its_offset_is_read_as_that_moment(value):
    moment = Confirmation.model_validate({"confirmed_at": value}).confirmed_at
    assert moment.astimezone(UTC).replace(microsecond=0) == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)

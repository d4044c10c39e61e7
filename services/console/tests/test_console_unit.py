"""The console's own small rules: cookie flags by where it listens, amounts as typed,
languages, vendored scripts and the compiled Spanish catalog."""

from __future__ import annotations

import base64
import hashlib
import json
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from pydantic import ValidationError

from console_service.api.auth import _local
from console_service.api.my_day import to_minor
from console_service.i18n import LOCALE_DIR, Localizer, negotiate
from console_service.settings import ConsoleSettings

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "console_service"


def settings(**env: object) -> ConsoleSettings:
    return ConsoleSettings.model_validate(env)


def test_secure_cookies_everywhere_but_plain_http_loopback():
    assert not settings(HTTP_HOST="127.0.0.1").secure_cookies
    assert settings(HTTP_HOST="127.0.0.1", CONSOLE_PUBLIC_URL="https://c.example").secure_cookies
    assert settings(HTTP_HOST="0.0.0.0", CONSOLE_SESSION_SECRET="s" * 32).secure_cookies


def test_beyond_loopback_needs_a_session_key_and_refuses_the_dev_sign_in():
    with pytest.raises(ValidationError, match="CONSOLE_SESSION_SECRET"):
        settings(HTTP_HOST="0.0.0.0")
    with pytest.raises(ValidationError, match="loopback"):
        settings(
            HTTP_HOST="0.0.0.0",
            CONSOLE_SESSION_SECRET="s" * 32,
            CONSOLE_DEV_SIGN_IN=True,
            JWT_SECRET="j" * 32,
        )
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings(CONSOLE_DEV_SIGN_IN=True)


@pytest.mark.parametrize(
    ("typed", "minor"),
    [
        ("1200", 120_000),
        ("1,200.50", 120_050),
        ("1200,5", 120_050),
        (" 0.07 ", 7),
        ("", None),
        ("-5", None),
        ("1.234", None),
        ("1e3", None),
        ("12,34,5", None),
        ("99999999999999", None),
        ("١٢", None),
    ],
)
def test_amounts_as_people_type_them(typed: str, minor: int | None):
    assert to_minor(typed) == minor


def test_sign_in_returns_only_to_this_console():
    assert _local("/accounts/1?x=2") == "/accounts/1?x=2"
    for elsewhere in ("//evil.example/", "https://evil.example/", "evil", "/\\evil", None):
        assert _local(elsewhere) == "/"


def test_language_from_the_browser_then_english():
    assert negotiate("es-MX,es;q=0.9,en;q=0.5") == "es"
    assert negotiate("fr-FR, en;q=0.1") == "en"
    assert negotiate("de") == "en" and negotiate(None) == "en" and negotiate("es;q=x") == "en"


def test_money_and_dates_in_the_persons_locale():
    assert Localizer("en").money(123_456, "USD") == "$1,234.56"
    assert Localizer("es").money(123_456, "EUR") == "1.234,56\xa0€"
    assert Localizer("en").money(500, "JPY") == "¥500"
    assert Localizer("es").day("2026-12-05") == "5 dic 2026"


def test_vendored_scripts_are_the_files_recorded_from_npm():
    manifest = json.loads((PACKAGE / "static" / "vendor.json").read_text())
    for name, entry in manifest.items():
        data = (PACKAGE / "static" / "vendor" / name).read_bytes()
        digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert entry["integrity"] == f"sha384-{digest}", name


def test_every_message_is_in_the_compiled_spanish_catalog():
    folder = LOCALE_DIR / "es" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(BytesIO(mo.read()))
    wanted = {
        message
        for _, _, message, _, _ in extract_from_dir(
            PACKAGE.parent.parent,
            method_map=[("**/templates/**.html", "jinja2"), ("**.py", "python")],
            keywords={"_": None, "N_": None},
        )
        if isinstance(message, str)
    }
    untranslated = sorted(m for m in wanted if not (compiled.get(m) and compiled[m].string))
    assert not untranslated, f"add to messages.po and run make console-messages: {untranslated}"
    stale = sorted(
        m.id
        for m in source
        if m.id and m.string and (compiled.get(m.id) is None or compiled[m.id].string != m.string)
    )
    assert not stale, f"messages.mo is older than messages.po: run make console-messages {stale}"

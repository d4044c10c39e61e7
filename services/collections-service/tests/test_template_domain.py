"""An email template's revision as a pure decision: the draft becomes the version after the
one it was read at, under the template's own name and language."""

from __future__ import annotations

from collections_service.domain.templates import EmailTemplate

SHIPPED = EmailTemplate("reminder", "es", 0, "Recordatorio", "Hola {{ name }}", ("name",))


def test_a_revision_of_a_shipped_template_is_version_1() -> None:
    draft = EmailTemplate("reminder", "es", 0, "Aviso", "Hola de nuevo {{ name }}", ("name",))
    revised = SHIPPED.revised_by(draft)
    assert (revised.version, revised.subject, revised.body) == (
        1,
        "Aviso",
        "Hola de nuevo {{ name }}",
    )


def test_a_revision_keeps_the_name_and_language_whatever_the_draft_says() -> None:
    current = EmailTemplate("reminder", "es", 7, "Aviso", "Hola", ())
    draft = EmailTemplate("other", "en", 99, "Notice", "Hello", ())
    revised = current.revised_by(draft)
    assert (revised.name, revised.language, revised.version) == ("reminder", "es", 8)
    assert (revised.subject, revised.body) == ("Notice", "Hello")

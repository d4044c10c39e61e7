"""What a profile edit changed, decided without IO: the fields that differ, before and after."""

from __future__ import annotations

from collections_service.domain.profile import CustomerProfile, profile_changes

SAVED = {
    "tags": ["vip"],
    "preferred_channel": None,
    "contact_hours": None,
    "language": "en",
    "do_not_contact": False,
    "email_opt_out": False,
}


def edit(**fields: object) -> CustomerProfile:
    values = {**SAVED, **fields}
    values["tags"] = tuple(values["tags"])  # type: ignore[arg-type]
    return CustomerProfile(**values)  # type: ignore[arg-type]


def test_the_same_profile_saved_again_changes_nothing():
    assert profile_changes(SAVED, edit()) == []


def test_each_changed_field_is_listed_in_the_profiles_order_with_before_and_after():
    changes = profile_changes(
        SAVED, edit(email_opt_out=True, tags=["vip", "needs-po"], preferred_channel="call")
    )
    assert [(c.field, c.before, c.after) for c in changes] == [
        ("tags", ["vip"], ["vip", "needs-po"]),
        ("preferred_channel", None, "call"),
        ("email_opt_out", False, True),
    ]

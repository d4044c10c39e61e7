"""What files a case accepts: the byte limit of one upload and the media types allowed,
for agents' uploads and inbound-email attachments alike (`ATTACHMENT_*`)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ATTACHMENT_TYPES = (
    "application/pdf,image/png,image/jpeg,image/gif,image/tiff,image/heic,text/plain,text/csv,"
    "message/rfc822,application/msword,application/vnd.ms-excel,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "application/vnd.oasis.opendocument.text,application/vnd.oasis.opendocument.spreadsheet"
)
"""What a billing dispute is documented with: statements, scans, photos, spreadsheets, mail.
Executables, archives and HTML (which a browser would run from our origin) are not on it."""


def media_type(content_type: str) -> str:
    """`Application/PDF; name=x` -> `application/pdf`: the part a type limit compares."""
    return content_type.split(";", 1)[0].strip().lower()


class AttachmentLimits(BaseSettings):
    """`ATTACHMENT_MAX_BYTES` for one agent upload, `ATTACHMENT_CONTENT_TYPES` (comma-separated
    media types) for uploads and inbound-email attachments alike; inbound mail keeps its own
    byte limits (`INBOUND_EMAIL_MAX_ATTACHMENT_BYTES`), since a whole email is bounded too."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        le=1024 * 1024 * 1024,
        validation_alias="ATTACHMENT_MAX_BYTES",
    )
    """The largest file an agent may attach to a case, in bytes (413 above it)."""
    content_types: str = Field(
        default=DEFAULT_ATTACHMENT_TYPES, validation_alias="ATTACHMENT_CONTENT_TYPES"
    )
    """Comma-separated media types an agent may attach (`application/pdf,image/png`); others
    are refused (415)."""

    @field_validator("content_types")
    @classmethod
    def _media_types(cls, value: str) -> str:
        if not [t for t in value.split(",") if t.strip()]:
            raise ValueError("ATTACHMENT_CONTENT_TYPES names no media type")
        return value

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(media_type(t) for t in self.content_types.split(",") if t.strip())

    def allows(self, content_type: str) -> bool:
        return media_type(content_type) in self.allowed

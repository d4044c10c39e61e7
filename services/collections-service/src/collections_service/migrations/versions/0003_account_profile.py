"""What collectors learn about a customer: tags, preferred channel, contact hours, language.

Kept beside the account with its own version, for the profile's ETag: the
account's version follows its event stream, which a profile edit does not touch.
"""

from receivables_platform.db.platform_schema import execute_script

revision = "collections_service_0003"
down_revision = "collections_service_0002"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE accounts ADD COLUMN profile_version integer NOT NULL DEFAULT 0;
"""


def upgrade() -> None:
    execute_script(SCHEMA)

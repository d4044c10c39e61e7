"""Database access shared by every service: pools, migrations, the platform tables."""

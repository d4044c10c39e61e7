"""`python -m receivables_platform.consumer`: one consumer runner as its own process."""

from receivables_platform.consumer.cli import app

app()

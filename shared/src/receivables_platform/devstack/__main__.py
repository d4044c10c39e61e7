"""`python -m receivables_platform.devstack`, for when the console script is not on PATH."""

from receivables_platform.devstack.cli import app

if __name__ == "__main__":
    app()

"""`python -m receivables_devkit.devstack`, for when the console script is not on PATH."""

from receivables_devkit.devstack.cli import app

if __name__ == "__main__":
    app()

from receivables_platform.contracts.cli import app

app(prog_name="python -m receivables_platform.contracts")

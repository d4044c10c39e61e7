"""`python -m billing_adapter`: migrate and serve."""

from receivables_platform.service import serve

from billing_adapter.spec import SPEC

if __name__ == "__main__":
    serve(SPEC)

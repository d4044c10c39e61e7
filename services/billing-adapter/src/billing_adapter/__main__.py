"""`python -m billing_adapter`: migrate and serve."""

from billing_adapter.spec import SPEC
from receivables_platform.serving import serve

if __name__ == "__main__":
    serve(SPEC)

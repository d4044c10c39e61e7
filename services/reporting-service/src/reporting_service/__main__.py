"""`python -m reporting_service`: migrate and serve."""

from receivables_platform.service import serve
from reporting_service.spec import SPEC

if __name__ == "__main__":
    serve(SPEC)

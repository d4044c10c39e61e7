"""`python -m case_service`: migrate and serve."""

from case_service.spec import SPEC
from receivables_platform.serving import serve

if __name__ == "__main__":
    serve(SPEC)

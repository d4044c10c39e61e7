"""`python -m case_service`: migrate and serve."""

from receivables_platform.service import serve

from case_service.spec import SPEC

if __name__ == "__main__":
    serve(SPEC)

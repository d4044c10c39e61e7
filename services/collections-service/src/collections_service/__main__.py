"""`python -m collections_service`: migrate and serve."""

from collections_service.spec import SPEC
from receivables_platform.serving import serve

if __name__ == "__main__":
    serve(SPEC)

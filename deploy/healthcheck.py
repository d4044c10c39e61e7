"""Container healthcheck: exit 0 when the service answers 200 on a probe path, else 1.

    python /opt/receivables/healthcheck.py [/healthz | /readyz]

Standard library only (the slim image has no curl). The port is HTTP_PORT when
set, else the service's documented port, which the image recorded from the
service's spec at build time (RECEIVABLES_SERVICE_FILE overrides where).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

SERVICE_FILE = "/opt/venv/receivables-service.json"


def probe_url(path: str) -> str:
    port = os.environ.get("HTTP_PORT", "").strip()
    if not port:
        with open(os.environ.get("RECEIVABLES_SERVICE_FILE", SERVICE_FILE)) as f:
            port = str(json.load(f)["port"])
    host = os.environ.get("HTTP_HOST", "").strip()
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: ask loopback  # noqa: S104
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{int(port)}{path}"


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    url = probe_url(path)
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 (http to ourselves)
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    if not ok:
        print(f"{url}: HTTP {response.status}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

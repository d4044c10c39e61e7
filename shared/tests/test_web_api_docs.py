"""/docs and /redoc work offline: every asset they load is served by the service itself."""

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest

from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import create_app
from receivables_platform.web.testserver import running_server

MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class References(HTMLParser):
    """Every URL the page makes the browser load: src and href attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


@pytest.fixture
async def client(platform_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="docs-test",
        database_url=platform_db,
        jwt_secret="docs-test-secret-0123456789abcdef",
        jwt_jwks_url=None,
    )
    app = create_app(settings, title="docs test", routers=[])
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


def request_count(metrics: str, route: str) -> float:
    found = re.search(
        r'^http_server_request_duration_seconds_count\{method="GET",'
        rf'route="{re.escape(route)}",status="200"\}} (\S+)$',
        metrics,
        re.M,
    )
    return float(found.group(1)) if found else 0.0


@pytest.mark.parametrize(
    ("page", "loads"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}),
        ("/redoc", {"redoc.standalone.js", "favicon.png"}),
    ],
)
async def test_the_page_and_every_asset_it_loads_come_from_the_service(
    client: httpx.AsyncClient, page: str, loads: set[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    # no host named anywhere in the page: not in a tag, not in a script, not protocol-relative
    assert not re.search(r"(https?:)?//[A-Za-z0-9]", html), html
    assert "validatorUrl" not in html or '"validatorUrl": null' in html
    urls = references(html)
    assert {url.rsplit("/", 1)[-1] for url in urls} == loads
    for url in urls:
        assert url.startswith("/docs/assets/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(MEDIA_TYPES[url[url.rfind(".") :]])
        assert len(asset.content) > 1000
    assert "/openapi.json" in html
    assert (await client.get("/openapi.json")).status_code == 200


async def test_only_the_listed_assets_are_served(client: httpx.AsyncClient) -> None:
    for name in ("core.py", "..%2F__init__.py", "%2E%2E%2Fcore.py", "nothing.js"):
        response = await client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/problem+json"


async def test_the_pages_are_counted_under_their_routes(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    for path in ("/docs", "/redoc", "/docs/assets/swagger-ui.css", "/docs/assets/favicon.png"):
        assert (await client.get(path)).status_code == 200
    after = (await client.get("/metrics")).text
    assert request_count(after, "/docs") == request_count(before, "/docs") + 1
    assert request_count(after, "/redoc") == request_count(before, "/redoc") + 1
    assets = "/docs/assets/{asset}"
    assert request_count(after, assets) == request_count(before, assets) + 2

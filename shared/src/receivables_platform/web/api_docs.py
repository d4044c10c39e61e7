"""`/docs` (Swagger UI) and `/redoc` (ReDoc) served with their assets from the service.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they are blank where an
integrator's network, or an air-gapped cluster, does not reach it, and they run
whatever the CDN serves that day. The assets here come from the PyPI package
`fastapi-offline`, pinned exactly in `shared/pyproject.toml` and by hash in `uv.lock`
(Swagger UI 5, ReDoc 2.5): a bump is a reviewed change like any other.

The pages and their assets are routes of the app, not a mounted folder, so the request
metric and log name them by route (`/docs`, `/docs/assets/{asset}`) and only the files
listed below can be asked for. Like the OpenAPI document they document, they are open.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from receivables_platform.web.problems import Problem

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
ASSETS_PATH = f"{DOCS_PATH}/assets"
_ASSET_DIR = Path(str(files("fastapi_offline") / "static"))
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# the files change only with the pinned package, so a day in a browser's cache is safe
ASSET_CACHE = "public, max-age=86400"
# Swagger UI would otherwise send the document to validator.swagger.io for a badge
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def install_api_docs(app: FastAPI) -> None:
    """The two documentation pages and their assets; `app` must be built with
    `docs_url=None, redoc_url=None`, so FastAPI's CDN pages are not there too."""

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), **SWAGGER_UI_PARAMETERS},
        )

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    @app.get(f"{ASSETS_PATH}/{{asset}}", include_in_schema=False)
    async def asset(asset: str) -> FileResponse:
        media_type = ASSETS.get(asset)
        if media_type is None:
            raise Problem(
                404,
                "Not Found",
                f"no documentation asset {asset!r}; there are {', '.join(sorted(ASSETS))}",
                field="path.asset",
            )
        return FileResponse(
            _ASSET_DIR / asset, media_type=media_type, headers={"Cache-Control": ASSET_CACHE}
        )

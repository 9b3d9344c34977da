"""The map, the dashboard and the API docs: HTML pages whose paths are relative to the app's root path (served
alone or inside the Airflow API server)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def page(name: str, request: Request, title: str) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"base": _base(request), "title": title})


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request) -> HTMLResponse:
    return page("map.html", request, "Airport map")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request) -> HTMLResponse:
    return page("dashboard.html", request, "Flight dashboard")


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    base = _base(request)
    return get_swagger_ui_html(openapi_url=f"{base}/openapi.json", title="aerolake API",
                               swagger_js_url=f"{base}/static/vendor/swagger-ui/swagger-ui-bundle.js",
                               swagger_css_url=f"{base}/static/vendor/swagger-ui/swagger-ui.css",
                               swagger_favicon_url=f"{base}/static/vendor/swagger-ui/favicon-32x32.png")


@router.get("/vendor/plotly.min.js")
def plotly_js() -> FileResponse:
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    return FileResponse(path, media_type="application/javascript", headers={"Cache-Control": "public, max-age=86400"})

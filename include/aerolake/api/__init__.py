"""The aerolake web API and pages (FastAPI): ``create_app(settings=None)``.

``python -m aerolake.api`` serves it with uvicorn; ``plugins/aerolake_plugin.py`` mounts it in the Airflow
API server. See ``aerolake.api.app`` for the endpoints and ``aerolake.api.config`` for the settings.
"""

from aerolake.api.app import create_app
from aerolake.api.config import ApiSettings, load_api_settings

__all__ = ["ApiSettings", "create_app", "load_api_settings"]

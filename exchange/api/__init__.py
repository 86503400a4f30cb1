"""The JSON API under ``/api/v1`` (flask-smorest: schemas, OpenAPI, Swagger UI)."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, send_from_directory
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from exchange.api import leagues, markets, trading, users_api
from exchange.api.schemas import ErrorSchema
from exchange.extensions import api

SWAGGER_STATIC = Path(swagger_ui_bundle.swagger_ui_path)

API_CONFIG = {
    "API_TITLE": "Environmental Rights Exchange API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "api/docs",
    # Served from the installed swagger-ui-bundle package: no CDN at run time.
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",
}

swagger_assets = Blueprint("swagger_assets", __name__)


class IdConverter(IntegerConverter):
    """``<int:...>`` within a signed 32-bit integer (ids are INTEGER columns).

    A larger id is a 404, never a 500 from the database driver.
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, 2**31 - 1 if max is None else max, signed)


@swagger_assets.route("/api/docs/static/<path:filename>")
def swagger_static(filename: str) -> Response:
    """Swagger UI's scripts and styles, shipped inside the Python package."""
    return send_from_directory(SWAGGER_STATIC, filename, max_age=3600)


def register_api(app: Flask) -> None:
    """Bind the Api and register every API blueprint."""
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    api.ERROR_SCHEMA = ErrorSchema  # our error shape, so the OpenAPI document declares it
    api.init_app(app)
    api.register_blueprint(leagues.blp)
    api.register_blueprint(markets.blp)
    api.register_blueprint(users_api.blp)
    api.register_blueprint(trading.blp)
    api.register_blueprint(import_module("exchange.api.continuous_api").blp)
    api.register_blueprint(import_module("exchange.api.stability_api").blp)
    api.register_blueprint(import_module("exchange.api.ledger_api").blp)
    api.register_blueprint(import_module("exchange.api.checkpoints_api").blp)
    api.register_blueprint(import_module("exchange.api.compensation_api").blp)
    api.register_blueprint(import_module("exchange.api.transfers_api").blp)
    api.register_blueprint(import_module("exchange.api.compliance_api").blp)
    api.register_blueprint(import_module("exchange.api.paid_use_api").blp)
    api.register_blueprint(import_module("exchange.api.bundles_api").blp)

    api.register_blueprint(import_module("exchange.api.participants_api").blp)
    api.register_blueprint(import_module("exchange.api.representatives_api").blp)
    app.register_blueprint(swagger_assets)

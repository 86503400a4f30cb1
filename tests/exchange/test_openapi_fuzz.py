"""schemathesis over the whole API: no 5xx, and every response as the OpenAPI document declares.

Bounded and reproducible: at most 25 generated examples per operation,
derandomized, no example database. Calls carry a regulator's token (an
admin's on ``/api/v1/users``), so that the operations behind roles run too.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from exchange import create_app
from tests.conftest import AuthHeaders

pytestmark = pytest.mark.slow  # schemathesis walks every operation

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document (building it touches no database)."""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    document: dict[str, Any] = app.test_client().get("/openapi.json").get_json()
    app.extensions["exchange.db"]["engine"].dispose()
    return document


schema = schemathesis.openapi.from_dict(_openapi_document())


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(
    case: schemathesis.Case, demo_registry: Flask, auth: AuthHeaders
) -> None:
    demo_registry.config["RATELIMIT_TOKENS"] = "100000 per minute"
    role = "admin" if case.path.startswith("/api/v1/users") else "regulator"
    response = case.call(app=demo_registry, headers=auth(role))
    case.validate_response(response, checks=CHECKS)

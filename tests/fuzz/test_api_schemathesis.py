"""The JSON API fuzzed from its own OpenAPI document (schemathesis, through the WSGI app, no network).

Every operation gets a bounded number of generated requests (FUZZ_EXAMPLES, default 25) with an
admin token, on a seeded world so that ids and tokens sometimes hit real records. Each answer must
not be a 5xx, must use a status code, content type and body that the document declares.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import build

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def seeded(app):
    sec = build(app)
    # Guessing is rate-limited per address; the fuzzer is one address guessing on purpose.
    app.config["INVITATION_ATTEMPTS_LIMIT"] = "100000 per minute"
    app.config["SECRET_LINK_ATTEMPTS_LIMIT"] = "100000 per minute"
    return sec


def _operation_labels() -> list[str]:
    """The operations of the document, read once at collection from an app without a database."""
    from booking import create_app
    from tests.conftest import _config

    app = create_app(_config("sqlite://", "/nonexistent"))
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return sorted(result.ok().label for result in loaded.get_all_operations())


@pytest.mark.parametrize("label", _operation_labels())
def test_the_api_answers_every_generated_request_as_documented(app, seeded, label):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = next(r.ok() for r in loaded.get_all_operations() if r.ok().label == label)
    headers = seeded.headers("admin")

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()

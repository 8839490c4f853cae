"""Schemathesis against the service's own OpenAPI spec: generated and mutated requests to every operation
never get a 5xx, and what the spec declares is what the API answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from orderwire.bootstrap import build_runtime
from orderwire.settings import Settings
from orderwire.web.app import create_app
from tests.conftest import TEST_API_KEY


@pytest.fixture(scope="module")
def service_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        database_url=f"sqlite:///{folder}/o.db",
        api_key=TEST_API_KEY,  # type: ignore[arg-type]
        whatsapp_app_secret="fuzz-secret",  # type: ignore[arg-type]
    )
    rt = build_runtime(settings)
    yield create_app(runtime=rt, with_worker=False)  # requests only: no pump, no sends
    rt.engine.dispose()


def test_no_request_makes_the_api_fail(service_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, "the spec lists the API's operations"
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    # Valid requests and deliberately invalid ones (wrong types, missing fields, out-of-range values).
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    for operation in operations:  # schemathesis' pytest plugin does not support this pytest yet
        for mode in modes:

            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                case.call_and_validate(headers={"Authorization": f"Bearer {TEST_API_KEY}"}, checks=checks)

            try:
                check()
            except Unsatisfiable:  # an operation with nothing to get wrong (no parameters, no body)
                assert mode is schemathesis.GenerationMode.NEGATIVE

"""Property test generated from the OpenAPI schema (schemathesis): for every operation, generated
requests — valid and invalid — never get a 5xx, and every response conforms to the schema."""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from api_world import Token, bearer
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 12  # per operation and mode; a short run (the machine is shared)


def test_no_5xx_and_every_response_conforms_to_the_schema(
    base_url: str, http: httpx.Client, token: Token
) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    tokens = [bearer(token("md-farah")), bearer(token("rv-ivan", "user/AuditEvent.rs")), {}]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    negative_runs = 0
    for operation in operations:
        for headers in tokens:
            _property(operation, schemathesis.GenerationMode.POSITIVE, base_url, headers)()
            try:
                _property(operation, schemathesis.GenerationMode.NEGATIVE, base_url, headers)()
                negative_runs += 1
            except Unsatisfiable:  # no parameters and no body: there is no invalid request to make
                pass
    assert negative_runs >= 3 * 5, "invalid requests were generated for every operation that takes input"


def _property(
    operation: Any, mode: schemathesis.GenerationMode, base_url: str, headers: dict[str, str]
) -> Any:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=300)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return check

"""Schemathesis against the served OpenAPI document: every operation, valid and invalid input.

Each answer must not be a server error and must match the document: a documented status,
a documented content type and a body that fits the schema. Examples are bounded so the
whole run stays quick in CI.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import Live

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 10  # per operation and mode: 20 operations, two modes


def _operations(live: Live) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{live.base_url}/api/v1/openapi.json")
    return [op.ok() for op in schema.get_all_operations()]  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms(live: Live, mode: GenerationMode) -> None:
    before = live.counts()
    for operation in _operations(live):
        if (
            mode is GenerationMode.NEGATIVE
            and operation.method.upper() == "GET"
            and "{" in operation.path
        ):
            # Any text is a valid string path segment: "invalid" ones are slow to find and
            # the hypothesis tests already throw odd text at these paths.
            continue

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode), with_key=st.booleans())
        def call(case: Any, with_key: bool) -> None:
            # Half the Open311 posts carry a real key, so they get past the 403.
            if with_key and isinstance(case.body, dict) and "api_key" in case.body:
                case.body["api_key"] = live.api_key
            response = case.call(base_url=live.base_url, session=live.session)
            case.validate_response(response, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:
            # Nothing to make invalid (e.g. discovery takes no input): nothing to test.
            assert mode is GenerationMode.NEGATIVE
    after = live.counts()
    assert after["mismatched"] == 0
    checked, breaks = live.verify()
    assert not breaks and checked == after["reports"] >= before["reports"]

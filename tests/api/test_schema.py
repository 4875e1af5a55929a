"""The API keeps to its OpenAPI document: schemathesis generates requests from the document
and checks every answer (no server error, a documented status, content type, body and headers).

A supervisor's token with every scope, and a case and an inquiry to find, so generated
requests reach the views rather than stopping at 401 or 404. The examples per operation are
bounded so the whole run stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as st_checks
from schemathesis.generation import GenerationMode

from cases.inquiries import services as inquiries

from ..inquiries.factories import make_inquiry

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]
EXAMPLES = 20


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_document_says(app, client, sup_token, case, mode) -> None:  # noqa: ANN001
    # Limits are tested apart (test_auth.py); here they would only stop the run.
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    app.config["API_AUTH_FAILURE_LIMIT"] = "100000 per minute"
    inquiry, _secret = make_inquiry()
    known = {"reference": case.reference}
    headers = {"Authorization": f"Bearer {sup_token}", "Accept-Language": "en"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 13
    for operation in operations:
        path_parameters = None
        if "{reference}" in operation.path:
            reference = (
                inquiries.format_reference(inquiry.reference)
                if operation.path.startswith("/api/v1/inquiries")
                else known["reference"]
            )
            path_parameters = {"reference": reference}
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(generated=strategy)
        def exchange(generated) -> None:  # noqa: ANN001
            # The token replaces whatever the generator put in the security header.
            generated.headers = {**(generated.headers or {}), **headers}
            response = generated.call(session=client)
            generated.validate_response(response, checks=CHECKS, headers=headers)

        exchange()

"""The OpenAPI document a front end generates its client from: readable operation ids,
security as each route checks it, problem+json errors with their codes, typed models, named
enums, valid examples, and docs pages that work offline.

That every answer the test suite sees is documented is checked on every request by the test
client (tests/support/openapi.py); `scripts/openapi_check.sh` generates a TypeScript client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from app.ats.schemas import GreenhousePartnerStatus
from app.candidate_sessions.models import InviteEmailStatus, SessionStatus
from app.candidate_sessions.schemas import PublicSessionStatus
from app.core.errors import PROBLEM_CONTENT_TYPE, ConflictError
from app.core.schemas import ApiModel
from app.events.models import ActorType
from app.jobs.models import JobState
from app.main import create_app
from app.runs.models import TestCaseStatus
from app.runs.schemas import PublicRunStatus
from app.simulations.models import SimulationStatus, TaskType
from app.workspaces.models import TestRunStatus, WorkspaceStatus
from tests.support.api import assert_problem, bearer
from tests.support.app import ADMIN_KEY, make_settings
from tests.support.identity import IdentityProvider
from tests.support.openapi import Document, documented_codes, operation_for

Operation = tuple[str, str, Document]  # method, path template, operation

REF_PREFIX = "#/components/schemas/"


@pytest.fixture(scope="module")
def document() -> Document:
    """The document of an app with admin routes, built without starting it (no database)."""
    app = create_app(make_settings("postgresql://nobody@127.0.0.1:9/none", "http://127.0.0.1:9"))
    return app.openapi()


def _operations(document: Document) -> Iterator[Operation]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


def _schema(document: Document, ref: str) -> Document:
    schema: Document = document["components"]["schemas"][ref.removeprefix(REF_PREFIX)]
    return schema


# ---- operation ids -------------------------------------------------------------------------

# The ones a front end already calls: renaming an endpoint function must not move these.
PINNED_OPERATION_IDS = {
    ("GET", "/api/auth/me"): "getMe",
    ("POST", "/api/simulations"): "createSimulation",
    ("GET", "/api/simulations"): "listSimulations",
    ("GET", "/api/simulations/{simulation_id}"): "getSimulation",
    ("POST", "/api/simulations/{simulation_id}/invite"): "inviteCandidate",
    ("POST", "/api/simulations/{simulation_id}/candidates/{cs_id}/invite/resend"): "resendInvite",
    ("GET", "/api/simulations/{simulation_id}/candidates"): "listCandidates",
    ("GET", "/api/simulations/{simulation_id}/results.csv"): "exportResultsCsv",
    ("GET", "/api/candidate/invites"): "listMyInvites",
    ("GET", "/api/candidate/session/{token}"): "openInvite",
    ("POST", "/api/candidate/session/{token}/claim"): "claimInvite",
    ("GET", "/api/candidate/session/{cs_id}/current_task"): "getCurrentTask",
    ("POST", "/api/tasks/{task_id}/codespace/init"): "initCodespace",
    ("GET", "/api/tasks/{task_id}/codespace/status"): "getCodespaceStatus",
    ("POST", "/api/tasks/{task_id}/run"): "requestRun",
    ("GET", "/api/tasks/{task_id}/run/{run_id}"): "getRun",
    ("GET", "/api/tasks/{task_id}/run/{run_id}/events"): "streamRunEvents",
    ("POST", "/api/tasks/{task_id}/submit"): "submitTask",
    ("GET", "/api/submissions"): "listSubmissions",
    ("GET", "/api/submissions/{submission_id}"): "getSubmission",
}


def test_operation_ids_are_unique_camel_case_names(document: Document) -> None:
    ids = {
        (method, path): operation["operationId"]
        for method, path, operation in _operations(document)
    }
    assert ids.items() >= PINNED_OPERATION_IDS.items()
    assert len(set(ids.values())) == len(ids)
    for operation_id in ids.values():
        assert re.fullmatch(r"[a-z][a-zA-Z0-9]*", operation_id), operation_id
        # FastAPI's default ids end in the method after the path: get_run_api_tasks__..._get.
        assert not re.search(r"(Get|Post|Put|Patch|Delete)$", operation_id), operation_id


def test_summaries_are_the_endpoint_docstrings(document: Document) -> None:
    invite = operation_for(document, "POST", "/api/simulations/1/invite")
    assert invite is not None
    assert invite["summary"] == (
        "Invite a candidate (201), or return the open invite for that email (200)."
    )
    for method, path, operation in _operations(document):
        assert operation["summary"].endswith("."), (method, path, operation["summary"])


# ---- security ------------------------------------------------------------------------------


def test_security_schemes_are_bearer_admin_key_github_signature_and_greenhouse_key(
    document: Document,
) -> None:
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An Auth0 access token for the Tenon API audience.",
        },
        "adminKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Admin-Key",
            "description": "The operator key (TENON_ADMIN_API_KEY).",
        },
        "githubSignature": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Hub-Signature-256",
            "description": (
                "`sha256=` and the hex HMAC-SHA256 of the raw body under the webhook secret."
            ),
        },
        "greenhouseKey": {
            "type": "http",
            "scheme": "basic",
            "description": (
                "HTTP Basic: a Greenhouse partner key as the user name, the password empty."
            ),
        },
    }


# What each route answers when its credential is missing.
MISSING_CREDENTIAL_CODE = {
    "bearerAuth": "AUTH_TOKEN_MISSING",
    "adminKey": "ADMIN_KEY_INVALID",
    "githubSignature": "WEBHOOK_SIGNATURE_MISSING",
    "greenhouseKey": "GREENHOUSE_KEY_MISSING",
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: "1", path)


async def test_each_operation_requires_exactly_the_credential_it_documents(
    client: httpx.AsyncClient, document: Document
) -> None:
    refused_by: set[str] = set()
    for method, path, operation in _operations(document):
        schemes = [name for requirement in operation.get("security", []) for name in requirement]
        body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        response = await client.request(method, _concrete(path), **body)
        if schemes:
            (scheme,) = schemes
            assert_problem(response, 401, MISSING_CREDENTIAL_CODE[scheme])
            refused_by.add(scheme)
        else:
            assert response.status_code != 401, (method, path)
    assert refused_by == MISSING_CREDENTIAL_CODE.keys()


# ---- errors --------------------------------------------------------------------------------


def test_every_error_response_is_a_problem_with_its_codes(document: Document) -> None:
    for method, path, operation in _operations(document):
        errors = {status: doc for status, doc in operation["responses"].items() if status >= "4"}
        assert "500" in errors, (method, path)
        for status, response in errors.items():
            content = response["content"]
            assert list(content) == [PROBLEM_CONTENT_TYPE, "application/json"], (method, path)
            schema = content[PROBLEM_CONTENT_TYPE]["schema"]
            assert content["application/json"]["schema"] == schema
            assert schema["allOf"][0] == {"$ref": f"{REF_PREFIX}Problem"}
            assert schema["allOf"][1]["properties"]["status"]["enum"] == [int(status)]
            codes = documented_codes(operation, int(status))
            assert codes, (method, path, status)
            assert all(code in response["description"] for code in codes)


def test_fastapis_validation_error_is_documented_nowhere(document: Document) -> None:
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert "#/components/schemas/ValidationError" not in text


def test_statuses_come_from_the_route(document: Document) -> None:
    webhook = operation_for(document, "POST", "/api/github/webhooks")
    assert webhook is not None
    # Even optional plain-string headers can fail: with text PostgreSQL cannot store.
    assert documented_codes(webhook, 422) == ["VALIDATION_FAILED"]
    assert documented_codes(webhook, 413) == ["PAYLOAD_TOO_LARGE"]
    invite = operation_for(document, "POST", "/api/simulations/1/invite")
    assert invite is not None
    assert documented_codes(invite, 429) == ["RATE_LIMITED"]
    assert invite["responses"]["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert documented_codes(invite, 422) == ["VALIDATION_FAILED"]
    liveness = operation_for(document, "GET", "/health")
    assert liveness is not None
    # The request deadline can end any request; the database cannot fail this one.
    assert sorted(liveness["responses"]) == ["200", "500", "503"]
    assert documented_codes(liveness, 503) == ["REQUEST_TIMEOUT"]
    assert liveness["responses"]["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    jobs = operation_for(document, "GET", "/api/admin/jobs")
    assert jobs is not None
    assert documented_codes(jobs, 503) == ["DATABASE_UNAVAILABLE", "REQUEST_TIMEOUT"]


def _problem_errors(document: Document, body: Document) -> list[str]:
    """Where `body` breaks the Problem schema (required members and their JSON types)."""
    problem = _schema(document, "Problem")
    json_types = {"string": str, "integer": int, "boolean": bool, "array": list}
    errors = [f"missing {name}" for name in problem["required"] if name not in body]
    for name, spec in problem["properties"].items():
        if name in body and not isinstance(body[name], json_types[spec["type"]]):
            errors.append(f"{name} is not {spec['type']}")
    issue = _schema(document, "ValidationIssue")
    for item in body.get("errors", []):
        errors += [f"errors[] lacks {name}" for name in issue["required"] if name not in item]
    return errors


async def test_problems_as_rendered_match_the_problem_schema(
    client: httpx.AsyncClient, document: Document, idp: IdentityProvider
) -> None:
    unauthenticated = await client.get("/api/submissions/1")
    not_a_recruiter = await client.get("/api/simulations", headers=bearer(idp.token()))
    invalid = await client.get("/api/admin/jobs?limit=0", headers={"X-Admin-Key": ADMIN_KEY})
    bodies = [
        assert_problem(unauthenticated, 401, "AUTH_TOKEN_MISSING"),
        assert_problem(not_a_recruiter, 403, "RECRUITER_NOT_REGISTERED"),
        assert_problem(invalid, 422, "VALIDATION_FAILED"),
        *_schema(document, "Problem")["examples"],
    ]
    assert bodies[2]["errors"]
    for body in bodies:
        assert _problem_errors(document, body) == []


async def test_the_test_client_fails_an_undocumented_problem(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.get("/api/undocumented")
    async def undocumented() -> None:
        raise ConflictError("Nobody wrote this down.", code="UNDOCUMENTED")

    with pytest.raises(AssertionError, match="answered 409"):
        await client.get("/api/undocumented")


# ---- response statuses ---------------------------------------------------------------------


def test_the_invite_documents_201_for_a_new_invite_and_200_for_the_open_one(
    document: Document,
) -> None:
    invite = operation_for(document, "POST", "/api/simulations/1/invite")
    assert invite is not None
    for status in ("200", "201"):
        content = invite["responses"][status]["content"]
        assert content == {"application/json": {"schema": {"$ref": f"{REF_PREFIX}InviteResult"}}}
    assert "existing" in invite["responses"]["200"]["description"]
    assert "created" in invite["responses"]["201"]["description"]


# ---- schemas -------------------------------------------------------------------------------

# Free-form on purpose: an event's data depends on its type, a job's payload on the job; a
# signed request's headers (name → value, strings) are the ones its store signed.
FREE_FORM = {
    ("EventOut", "data"),
    ("JobOut", "payload"),
    ("SignedRequestOut", "headers"),
    ("SignedPartOut", "headers"),
    # Greenhouse's test_status metadata: flat labels of its choosing, every value a string.
    ("GreenhouseTestStatus", "metadata"),
    # A webhook event as it was sent: its `data` differs per event type (docs/webhooks.md).
    ("DeliveryDetail", "payload"),
}


def _untyped_objects(schema: Document) -> Iterator[Document]:
    if schema.get("type") == "object" and "properties" not in schema:
        yield schema
    for nested in (*schema.get("anyOf", []), *schema.get("allOf", []), schema.get("items")):
        if nested is not None:
            yield from _untyped_objects(nested)


def test_no_response_model_hides_an_untyped_object(document: Document) -> None:
    untyped = {
        (name, field)
        for name, schema in document["components"]["schemas"].items()
        for field, spec in schema.get("properties", {}).items()
        if any(_untyped_objects(spec))
    }
    assert untyped == FREE_FORM
    for method, path, operation in _operations(document):
        successes = {status: doc for status, doc in operation["responses"].items() if status < "4"}
        for status, response in successes.items():
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            # A list of a named model is fine, and so is a choice of such (page or array).
            for choice in body.get("anyOf", [body] if body else []):
                named = choice.get("items", choice)
                assert "$ref" in named, (method, path, status, body)


def _referenced(document: Document, name: str) -> Iterator[str]:
    """The schema `name` and every schema it refers to, transitively."""
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        text = json.dumps(document["components"]["schemas"][current])
        pending += re.findall(r'"#/components/schemas/([^"]+)"', text)
    yield from seen


def test_the_submission_review_is_typed_all_the_way_down(document: Document) -> None:
    reachable = set(_referenced(document, "SubmissionDetail"))
    assert {"CodeRef", "DiffSummary", "DiffFile", "RunOut", "TestOut", "IntegrityFinding"} <= (
        reachable
    )
    detail = _schema(document, "SubmissionDetail")["properties"]
    assert detail["testResults"]["anyOf"][0] == {"$ref": f"{REF_PREFIX}RunOut"}
    assert detail["integrity"]["items"] == {"$ref": f"{REF_PREFIX}IntegrityFinding"}
    workspace = _schema(document, "WorkspaceOut")["properties"]
    assert workspace["lastRun"]["anyOf"][0] == {"$ref": f"{REF_PREFIX}LastRun"}
    # Only the timeline's event data is free-form in the whole review.
    assert {name for name, _ in FREE_FORM if name in reachable} == {"EventOut"}


NAMED_ENUMS = {
    "SessionStatus": SessionStatus,
    "PublicSessionStatus": PublicSessionStatus,
    "PublicRunStatus": PublicRunStatus,
    "InviteEmailStatus": InviteEmailStatus,
    "TestRunStatus": TestRunStatus,
    "TestCaseStatus": TestCaseStatus,
    "WorkspaceStatus": WorkspaceStatus,
    "SimulationStatus": SimulationStatus,
    "TaskType": TaskType,
    "JobState": JobState,
    "ActorType": ActorType,
    "GreenhousePartnerStatus": GreenhousePartnerStatus,
}


def _inline_enums(schema: Document) -> Iterator[Document]:
    if "enum" in schema:
        yield schema
    for nested in (*schema.get("anyOf", []), schema.get("items")):
        if nested is not None:
            yield from _inline_enums(nested)


def test_statuses_are_named_enum_schemas(document: Document) -> None:
    schemas = document["components"]["schemas"]
    for name, alias in NAMED_ENUMS.items():
        assert schemas[name]["enum"] == list(get_args(alias.__value__)), name
    inline = {
        (name, field)
        for name, schema in schemas.items()
        for field, spec in schema.get("properties", {}).items()
        if any(_inline_enums(spec))
    }
    assert inline == set()
    run = _schema(document, "RunOut")["properties"]
    assert run["status"] == {"$ref": f"{REF_PREFIX}PublicRunStatus"}
    assert run["phase"]["$ref"] == f"{REF_PREFIX}TestRunStatus"


def _api_models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [ApiModel]
    while pending:
        model = pending.pop()
        found[model.__name__] = model
        pending += model.__subclasses__()
    return found


def test_examples_are_valid_and_complete(document: Document) -> None:
    models = _api_models()
    with_examples = {
        name: schema["examples"]
        for name, schema in document["components"]["schemas"].items()
        if "examples" in schema and name != "Problem"
    }
    assert {"InviteResult", "SimulationOut", "SubmissionDetail", "RunOut", "WorkspaceOut"} <= (
        with_examples.keys()
    )
    for name, examples in with_examples.items():
        for example in examples:
            rendered = models[name].model_validate(example).model_dump(mode="json", by_alias=True)
            assert rendered == example, name


# ---- docs pages ----------------------------------------------------------------------------

ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_assets_the_app_serves(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    assert "://" not in html  # no CDN, no web fonts: it works offline
    urls = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html) + re.findall(
        r"url: '([^']+)'", html
    )
    assert "/openapi.json" in urls
    assets = [url for url in urls if url != "/openapi.json"]
    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        assert url.startswith("/docs/assets/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(ASSET_TYPES[Path(url).suffix]), url
        assert len(asset.content) > 1000, url

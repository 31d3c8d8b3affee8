"""The Anthropic provider against a fake Messages API speaking its wire format
(POST /v1/messages)."""

from __future__ import annotations

from typing import Any

import pytest

from app.integrations.ai.provider import (
    AiMalformedOutputError,
    AiRateLimitedError,
    AiRefusedError,
    AiRequestRejectedError,
    AiTimeoutError,
    AiUnavailableError,
)
from tests.integrations.ai.conftest import API_KEY, REQUEST, FakeApi, make_provider


def message(content: list[dict[str, Any]], stop_reason: str = "tool_use") -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 1234,
            "output_tokens": 56,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def tool_use(data: Any, name: str = "scorecard") -> dict[str, Any]:
    return {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": name, "input": data}


def error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_011"}


async def test_a_completion_sends_the_schema_as_a_forced_tool_and_parses_its_input(
    fake_api: FakeApi,
) -> None:
    fake_api.reply(message([tool_use({"level": 3, "note": "Solid tests."})]))
    provider = make_provider("anthropic", fake_api.url)

    response = await provider.complete(REQUEST)

    assert response.data == {"level": 3, "note": "Solid tests."}
    assert (response.model, response.input_tokens, response.output_tokens) == (
        "claude-sonnet-4-6",
        1234,
        56,
    )
    sent = fake_api.last
    assert sent.path == "/v1/messages"
    assert API_KEY in (sent.headers.get("x-api-key"), sent.headers.get("authorization", "")[7:])
    body = sent.json()
    assert body["model"] == "claude-sonnet-4-6"
    assert body["temperature"] == 0
    assert body["max_tokens"] == 800
    assert body["system"] == REQUEST.system
    assert body["messages"] == [{"role": "user", "content": REQUEST.prompt}]
    assert [tool["name"] for tool in body["tools"]] == ["scorecard"]
    assert body["tools"][0]["input_schema"] == REQUEST.json_schema
    assert body["tool_choice"] == {"type": "tool", "name": "scorecard"}


async def test_the_configured_model_is_sent(fake_api: FakeApi) -> None:
    fake_api.reply(message([tool_use({"level": 2, "note": "x"})]))
    provider = make_provider("anthropic", fake_api.url, model="claude-haiku-4-5")

    await provider.complete(REQUEST)

    assert fake_api.last.json()["model"] == "claude-haiku-4-5"
    assert provider.price.input_per_mtok == 1


async def test_a_refusal_is_refused(fake_api: FakeApi) -> None:
    fake_api.reply(message([], stop_reason="refusal"))
    with pytest.raises(AiRefusedError) as caught:
        await make_provider("anthropic", fake_api.url).complete(REQUEST)
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("content", "stop_reason"),
    [
        ([{"type": "text", "text": "Here is my assessment: level 3."}], "end_turn"),
        ([tool_use({"level": 3}, name="something_else")], "tool_use"),
        ([tool_use("level 3, solid")], "tool_use"),
        ([tool_use({"level": 3, "note": "cut"})], "max_tokens"),
    ],
    ids=["no-tool-call", "another-tool", "input-not-an-object", "truncated"],
)
async def test_an_answer_without_a_usable_tool_call_is_malformed(
    fake_api: FakeApi, content: list[dict[str, Any]], stop_reason: str
) -> None:
    fake_api.reply(message(content, stop_reason=stop_reason))
    with pytest.raises(AiMalformedOutputError):
        await make_provider("anthropic", fake_api.url).complete(REQUEST)


@pytest.mark.parametrize("content_type", ["application/json", "text/html"])
async def test_a_body_that_is_not_json_is_malformed(fake_api: FakeApi, content_type: str) -> None:
    fake_api.reply("<html>proxy error page</html>", headers={"content-type": content_type})
    with pytest.raises(AiMalformedOutputError):
        await make_provider("anthropic", fake_api.url).complete(REQUEST)


async def test_429_is_rate_limited_with_retry_after(fake_api: FakeApi) -> None:
    fake_api.reply(
        error("rate_limit_error", "Number of request tokens has exceeded your rate limit."),
        status=429,
        headers={"retry-after": "17"},
    )
    with pytest.raises(AiRateLimitedError) as caught:
        await make_provider("anthropic", fake_api.url).complete(REQUEST)
    assert caught.value.retry_after == 17
    assert caught.value.retryable
    assert len(fake_api.requests) == 1  # no SDK retries: the job queue retries


async def test_a_slow_answer_times_out(fake_api: FakeApi) -> None:
    fake_api.reply(message([tool_use({"level": 1, "note": "late"})]), delay=1.5)
    with pytest.raises(AiTimeoutError) as caught:
        await make_provider("anthropic", fake_api.url, timeout=0.3).complete(REQUEST)
    assert caught.value.code == "AI_TIMEOUT"


@pytest.mark.parametrize("status", [500, 529])
async def test_a_server_error_is_unavailable(fake_api: FakeApi, status: int) -> None:
    fake_api.reply(error("overloaded_error", "Overloaded"), status=status)
    with pytest.raises(AiUnavailableError) as caught:
        await make_provider("anthropic", fake_api.url).complete(REQUEST)
    assert caught.value.retryable
    assert len(fake_api.requests) == 1


async def test_a_closed_port_is_unavailable(fake_api: FakeApi) -> None:
    url = fake_api.url
    fake_api.close()
    with pytest.raises(AiUnavailableError):
        await make_provider("anthropic", url).complete(REQUEST)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_a_rejected_request_names_no_key(fake_api: FakeApi, status: int) -> None:
    fake_api.reply(error("authentication_error", f"invalid x-api-key {API_KEY}"), status=status)
    with pytest.raises(AiRequestRejectedError) as caught:
        await make_provider("anthropic", fake_api.url).complete(REQUEST)
    assert not caught.value.retryable
    assert caught.value.code == "AI_REQUEST_REJECTED"
    assert API_KEY not in str(caught.value)
    assert f"HTTP {status}" in caught.value.message


async def test_a_claude_5_model_gets_a_json_output_format_and_no_sampling(
    fake_api: FakeApi,
) -> None:
    fake_api.reply(
        message(
            [
                {"type": "thinking", "thinking": "", "signature": "EqQBCkgIARABGAIiQL"},
                {"type": "text", "text": '{"level": 4, "note": "Thorough."}'},
            ],
            stop_reason="end_turn",
        )
    )
    provider = make_provider("anthropic", fake_api.url, model="claude-sonnet-5-5")

    response = await provider.complete(REQUEST)

    assert response.data == {"level": 4, "note": "Thorough."}
    assert provider.price.output_per_mtok == 10
    body = fake_api.last.json()
    assert body["output_config"] == {
        "format": {"type": "json_schema", "schema": REQUEST.json_schema}
    }
    assert not {"temperature", "tools", "tool_choice"} & body.keys()
    assert body["system"] == REQUEST.system


@pytest.mark.parametrize("text", ['{"level": 4, "note": "unterminated', '["not", "an object"]'])
async def test_a_claude_5_answer_that_is_not_a_json_object_is_malformed(
    fake_api: FakeApi, text: str
) -> None:
    fake_api.reply(message([{"type": "text", "text": text}], stop_reason="end_turn"))
    provider = make_provider("anthropic", fake_api.url, model="claude-opus-5")
    with pytest.raises(AiMalformedOutputError):
        await provider.complete(REQUEST)

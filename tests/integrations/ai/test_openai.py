"""The OpenAI provider against a fake Chat Completions API speaking its wire format
(POST /v1/chat/completions), as OpenAI or an OpenAI-compatible server would."""

from __future__ import annotations

import json
from decimal import Decimal
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


def completion(
    content: str | None, *, refusal: str | None = None, finish_reason: str = "stop"
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1764800000,
        "model": "gpt-5.4-2026-03-05",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": 2100,
            "completion_tokens": 90,
            "total_tokens": 2190,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }


def error(text: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": text, "type": kind, "param": None, "code": code}}


def provider(base_url: str, **settings: Any) -> Any:
    return make_provider("openai", f"{base_url}/v1", **settings)


async def test_a_completion_sends_a_strict_json_schema_and_parses_the_content(
    fake_api: FakeApi,
) -> None:
    fake_api.reply(completion(json.dumps({"level": 4, "note": "Clear commits."})))

    response = await provider(fake_api.url).complete(REQUEST)

    assert response.data == {"level": 4, "note": "Clear commits."}
    assert (response.model, response.input_tokens, response.output_tokens) == (
        "gpt-5.4-2026-03-05",
        2100,
        90,
    )
    sent = fake_api.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    body = sent.json()
    assert body["model"] == "gpt-5.4"
    assert body["temperature"] == 0
    assert body["max_completion_tokens"] == 800
    assert body["messages"] == [
        {"role": "system", "content": REQUEST.system},
        {"role": "user", "content": REQUEST.prompt},
    ]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "scorecard", "schema": REQUEST.json_schema, "strict": True},
    }


async def test_a_compatible_server_with_its_own_model_and_prices(fake_api: FakeApi) -> None:
    fake_api.reply(completion(json.dumps({"level": 2, "note": "ok"})))
    llm = provider(
        fake_api.url,
        model="qwen3-32b",
        input_price_per_mtok="0.1",
        output_price_per_mtok="0.3",
    )

    await llm.complete(REQUEST)

    assert fake_api.last.json()["model"] == "qwen3-32b"
    assert llm.price.cost(1_000_000, 1_000_000) == Decimal("0.4")


async def test_a_refusal_is_refused(fake_api: FakeApi) -> None:
    fake_api.reply(completion(None, refusal="I'm sorry, I can't help with that request."))
    with pytest.raises(AiRefusedError) as caught:
        await provider(fake_api.url).complete(REQUEST)
    assert caught.value.code == "AI_REFUSED"


@pytest.mark.parametrize(
    ("content", "finish_reason"),
    [
        ('{"level": 3, "note": "unterminated', "stop"),
        ("[3, 4]", "stop"),
        (None, "stop"),
        ('{"level": 3, "note": "cut', "length"),
    ],
    ids=["invalid-json", "not-an-object", "no-content", "truncated"],
)
async def test_content_that_is_not_a_json_object_is_malformed(
    fake_api: FakeApi, content: str | None, finish_reason: str
) -> None:
    fake_api.reply(completion(content, finish_reason=finish_reason))
    with pytest.raises(AiMalformedOutputError) as caught:
        await provider(fake_api.url).complete(REQUEST)
    assert not caught.value.retryable


async def test_an_answer_without_usage_is_malformed(fake_api: FakeApi) -> None:
    body = completion(json.dumps({"level": 1, "note": "x"}))
    del body["usage"]
    fake_api.reply(body)
    with pytest.raises(AiMalformedOutputError, match="token usage"):
        await provider(fake_api.url).complete(REQUEST)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "20"}, 20.0), ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5)],
)
async def test_429_is_rate_limited_with_retry_after(
    fake_api: FakeApi, headers: dict[str, str], seconds: float
) -> None:
    fake_api.reply(
        error("Rate limit reached for gpt-5.4 on tokens per min.", "tokens", "rate_limit_exceeded"),
        status=429,
        headers=headers,
    )
    with pytest.raises(AiRateLimitedError) as caught:
        await provider(fake_api.url).complete(REQUEST)
    assert caught.value.retry_after == seconds
    assert len(fake_api.requests) == 1


async def test_a_slow_answer_times_out(fake_api: FakeApi) -> None:
    fake_api.reply(completion("{}"), delay=1.5)
    with pytest.raises(AiTimeoutError):
        await provider(fake_api.url, timeout=0.3).complete(REQUEST)


async def test_a_server_error_is_unavailable(fake_api: FakeApi) -> None:
    fake_api.reply(error("The server had an error.", "server_error", None), status=500)
    with pytest.raises(AiUnavailableError):
        await provider(fake_api.url).complete(REQUEST)
    assert len(fake_api.requests) == 1


async def test_a_bad_key_is_rejected_without_naming_it(fake_api: FakeApi) -> None:
    fake_api.reply(
        error(
            f"Incorrect API key provided: {API_KEY}.", "invalid_request_error", "invalid_api_key"
        ),
        status=401,
    )
    with pytest.raises(AiRequestRejectedError) as caught:
        await provider(fake_api.url).complete(REQUEST)
    assert API_KEY not in str(caught.value)
    assert "HTTP 401" in caught.value.message


async def test_an_exhausted_quota_is_rejected_not_retried(fake_api: FakeApi) -> None:
    fake_api.reply(
        error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        status=429,
    )
    with pytest.raises(AiRequestRejectedError) as caught:
        await provider(fake_api.url).complete(REQUEST)
    assert not caught.value.retryable

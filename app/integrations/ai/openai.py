"""OpenAI, or any server speaking its Chat Completions API (TENON_AI_BASE_URL), through the
official async SDK: the output schema is a strict `json_schema` response format."""

from __future__ import annotations

import json
from typing import Any

import openai

from app.integrations.ai.errors import status_error
from app.integrations.ai.provider import (
    AiMalformedOutputError,
    AiRefusedError,
    AiRequest,
    AiResponse,
    AiTimeoutError,
    AiUnavailableError,
    Price,
)

_NAME = "OpenAI"


class OpenAiProvider:
    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        price: Price,
        base_url: str | None,
        timeout_seconds: float,
    ) -> None:
        self.model = model
        self.price = price
        # No SDK retries: the job queue retries, with its own backoff and attempt count.
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    async def complete(self, request: AiRequest) -> AiResponse:
        try:
            completion = await self._client.chat.completions.create(
                model=self.model,
                temperature=0,
                max_completion_tokens=request.max_output_tokens,
                messages=[
                    {"role": "system", "content": request.system},
                    {"role": "user", "content": request.prompt},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": request.schema_name,
                        "schema": request.json_schema,
                        "strict": True,
                    },
                },
            )
        except openai.APITimeoutError as exc:
            raise AiTimeoutError(f"{_NAME} did not answer in time") from exc
        except openai.APIConnectionError as exc:
            raise AiUnavailableError(f"{_NAME} could not be reached") from exc
        except openai.APIStatusError as exc:
            code = exc.code if isinstance(exc.code, str) else None
            raise status_error(_NAME, exc.status_code, exc.response.headers, code) from exc
        except (openai.APIResponseValidationError, json.JSONDecodeError) as exc:
            raise AiMalformedOutputError(f"{_NAME} answered with an unreadable body") from exc
        if not isinstance(completion, openai.types.chat.ChatCompletion):
            # A proxy's page instead of the API's JSON: the SDK hands back the text.
            raise AiMalformedOutputError(f"{_NAME} answered with something other than JSON")
        if not completion.choices:
            raise AiMalformedOutputError(f"{_NAME} answered without a choice")
        choice = completion.choices[0]
        if choice.message.refusal or choice.finish_reason == "content_filter":
            raise AiRefusedError(f"{_NAME} declined to answer")
        if choice.finish_reason == "length":
            raise AiMalformedOutputError(f"{_NAME}'s answer was cut off at the output limit")
        if completion.usage is None:
            # Without token counts the call's cost could be neither recorded nor budgeted.
            raise AiMalformedOutputError(f"{_NAME} answered without token usage")
        return AiResponse(
            data=_json_object(choice.message.content),
            model=completion.model,
            input_tokens=completion.usage.prompt_tokens,
            output_tokens=completion.usage.completion_tokens,
        )


def _json_object(content: str | None) -> dict[str, Any]:
    try:
        data = json.loads(content or "")
    except json.JSONDecodeError as exc:
        raise AiMalformedOutputError(f"{_NAME}'s answer is not JSON") from exc
    if not isinstance(data, dict):
        raise AiMalformedOutputError(f"{_NAME}'s answer is not a JSON object")
    return data

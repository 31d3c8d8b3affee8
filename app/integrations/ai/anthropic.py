"""Claude through Anthropic's official async SDK, with structured output.

Claude 4 models: the output schema is the input schema of one tool the model is made to
call, at temperature 0, and the tool call's input is the data. Claude 5 models refuse both
a forced tool and sampling parameters (a 400), so they get the schema as a JSON output
format (`output_config.format`) and the data is their text answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

import anthropic

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

_NAME = "Anthropic"
# claude-sonnet-5, claude-opus-5-5, claude-fable-5-1, ...: generation 5 and later.
_JSON_OUTPUT_MODEL = re.compile(r"^claude-[a-z]+-([5-9]|[1-9]\d+)(-|$)")


class AnthropicProvider:
    name = "anthropic"

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
        self._json_output = bool(_JSON_OUTPUT_MODEL.match(model))
        # No SDK retries: the job queue retries, with its own backoff and attempt count.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    async def complete(self, request: AiRequest) -> AiResponse:
        try:
            message = await self._create(request)
        except anthropic.APITimeoutError as exc:
            raise AiTimeoutError(f"{_NAME} did not answer in time") from exc
        except anthropic.APIConnectionError as exc:
            raise AiUnavailableError(f"{_NAME} could not be reached") from exc
        except anthropic.APIStatusError as exc:
            raise status_error(_NAME, exc.status_code, exc.response.headers) from exc
        except (anthropic.APIResponseValidationError, json.JSONDecodeError) as exc:
            raise AiMalformedOutputError(f"{_NAME} answered with an unreadable body") from exc
        if not isinstance(message, anthropic.types.Message):
            # A proxy's page instead of the API's JSON: the SDK hands back the text.
            raise AiMalformedOutputError(f"{_NAME} answered with something other than JSON")
        if message.stop_reason == "refusal":
            raise AiRefusedError(f"{_NAME} declined to answer")
        if message.stop_reason == "max_tokens":
            raise AiMalformedOutputError(f"{_NAME}'s answer was cut off at the output limit")
        data = _text_json(message) if self._json_output else _tool_input(message, request)
        return AiResponse(
            data=data,
            model=message.model,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
        )

    async def _create(self, request: AiRequest) -> anthropic.types.Message:
        if self._json_output:
            return await self._client.messages.create(
                model=self.model,
                max_tokens=request.max_output_tokens,
                system=request.system,
                messages=[{"role": "user", "content": request.prompt}],
                output_config={"format": {"type": "json_schema", "schema": request.json_schema}},
            )
        return await self._client.messages.create(
            model=self.model,
            max_tokens=request.max_output_tokens,
            system=request.system,
            messages=[{"role": "user", "content": request.prompt}],
            tools=[
                {
                    "name": request.schema_name,
                    "description": "Record the answer in this structure.",
                    "input_schema": request.json_schema,
                }
            ],
            tool_choice={"type": "tool", "name": request.schema_name},
            # The SDK no longer types sampling parameters (Claude 5 refuses them); Claude 4
            # accepts temperature 0, the most repeatable answer.
            extra_body={"temperature": 0},
        )


def _tool_input(message: anthropic.types.Message, request: AiRequest) -> dict[str, Any]:
    tool = request.schema_name
    for block in message.content:
        if block.type == "tool_use" and block.name == tool:
            if not isinstance(block.input, dict):
                raise AiMalformedOutputError(f"{_NAME}'s {tool} call is not a JSON object")
            return block.input
    raise AiMalformedOutputError(f"{_NAME} answered without calling {tool}")


def _text_json(message: anthropic.types.Message) -> dict[str, Any]:
    # Thinking blocks may come first: the answer is the text.
    text = "".join(block.text for block in message.content if block.type == "text")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AiMalformedOutputError(f"{_NAME}'s answer is not JSON") from exc
    if not isinstance(data, dict):
        raise AiMalformedOutputError(f"{_NAME}'s answer is not a JSON object")
    return data

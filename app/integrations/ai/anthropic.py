"""Claude through Anthropic's official async SDK: the output schema is the input schema of
one tool that the model is made to call, so the tool call's input is the structured data."""

from __future__ import annotations

import json
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
        # No SDK retries: the job queue retries, with its own backoff and attempt count.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    async def complete(self, request: AiRequest) -> AiResponse:
        try:
            message = await self._client.messages.create(
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
                # The SDK no longer types sampling parameters (Claude 5 models refuse them);
                # the Claude 4 models Tenon prices accept temperature 0, the most repeatable.
                extra_body={"temperature": 0},
            )
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
        return AiResponse(
            data=_tool_input(message, request.schema_name),
            model=message.model,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
        )


def _tool_input(message: anthropic.types.Message, tool: str) -> dict[str, Any]:
    for block in message.content:
        if block.type == "tool_use" and block.name == tool:
            if not isinstance(block.input, dict):
                raise AiMalformedOutputError(f"{_NAME}'s {tool} call is not a JSON object")
            return block.input
    raise AiMalformedOutputError(f"{_NAME} answered without calling {tool}")

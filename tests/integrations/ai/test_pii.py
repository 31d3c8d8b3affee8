"""Placeholders for personal data: what is redacted, what comes back, and that a prompt
built with them reaches neither provider with a personal value in it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from app.integrations.ai.pii import Placeholders
from tests.integrations.ai.conftest import REQUEST, FakeApi, make_provider

KNOWN = {
    "CANDIDATE_NAME": "Ada Lovelace",
    "CANDIDATE_EMAIL": "ada@example.com",
    "GITHUB_LOGIN": "adalove",
    "COMPANY_NAME": "Acme Analytics",
}
TEXT = (
    "Ada Lovelace (ADA@Example.com, github.com/AdaLove) joined acme analytics. "
    "Her mentor, grace@hopper.dev, reviewed adalove's PR; cc ops+alerts@acme.io."
)
PERSONAL = [*KNOWN.values(), "grace@hopper.dev", "ops+alerts@acme.io"]


def test_known_values_and_found_emails_are_replaced_whatever_their_case() -> None:
    redacted = Placeholders(KNOWN).redact(TEXT)

    assert redacted == (
        "[CANDIDATE_NAME] ([CANDIDATE_EMAIL], github.com/[GITHUB_LOGIN]) joined "
        "[COMPANY_NAME]. Her mentor, [EMAIL_1], reviewed [GITHUB_LOGIN]'s PR; cc [EMAIL_2]."
    )


def test_restore_puts_every_value_back_in_nested_json() -> None:
    placeholders = Placeholders(KNOWN)
    redacted = placeholders.redact(TEXT)

    restored = placeholders.restore(
        {"notes": [redacted, {"by": "[CANDIDATE_NAME]", "level": 3}], "ok": True}
    )

    assert restored["notes"][1] == {"by": "Ada Lovelace", "level": 3}
    assert restored["ok"] is True
    assert restored["notes"][0].lower() == TEXT.lower()


def test_the_longest_value_goes_first() -> None:
    # The name is inside the email address: the address becomes one placeholder.
    placeholders = Placeholders({"CANDIDATE_NAME": "ada", "CANDIDATE_EMAIL": "ada@example.com"})

    assert placeholders.redact("ada wrote to ada@example.com") == (
        "[CANDIDATE_NAME] wrote to [CANDIDATE_EMAIL]"
    )


def test_a_value_is_never_replaced_inside_a_placeholder_or_a_word() -> None:
    # "Name" (the company) occurs in "[CANDIDATE_NAME]" and "renamed".
    placeholders = Placeholders({"CANDIDATE_NAME": "Bo", "COMPANY_NAME": "Name"})

    assert placeholders.redact("Bo renamed the repo for name; Bob agreed.") == (
        "[CANDIDATE_NAME] renamed the repo for [COMPANY_NAME]; Bob agreed."
    )


def test_the_same_email_keeps_its_placeholder() -> None:
    placeholders = Placeholders({})

    first = placeholders.redact("from x@y.io")
    second = placeholders.redact("to X@Y.io and z@y.io")

    assert (first, second) == ("from [EMAIL_1]", "to [EMAIL_1] and [EMAIL_2]")


def test_empty_values_are_skipped_and_labels_checked() -> None:
    assert Placeholders({"CANDIDATE_NAME": None, "GITHUB_LOGIN": "  "}).redact("a b") == "a b"
    with pytest.raises(ValueError, match="UPPER_SNAKE_CASE"):
        Placeholders({"candidate": "x"})


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_no_personal_value_is_in_the_bytes_sent(fake_api: FakeApi, provider: str) -> None:
    placeholders = Placeholders(KNOWN)
    request = replace(
        REQUEST,
        system=placeholders.redact(f"You review candidates for {KNOWN['COMPANY_NAME']}."),
        prompt=placeholders.redact(TEXT),
    )
    answer = {"level": 3, "note": "[CANDIDATE_NAME] asked [EMAIL_1] for review."}
    if provider == "anthropic":
        fake_api.reply(
            {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-6",
                "content": [
                    {"type": "tool_use", "id": "toolu_01", "name": "scorecard", "input": answer}
                ],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 5},
            }
        )
        base_url = fake_api.url
    else:
        fake_api.reply(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1764800000,
                "model": "gpt-5.4",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": json.dumps(answer),
                            "refusal": None,
                        },
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )
        base_url = f"{fake_api.url}/v1"

    response = await make_provider(provider, base_url).complete(request)

    sent = fake_api.last.body.lower()
    assert b"[candidate_name]" in sent
    for value in PERSONAL:
        assert value.lower().encode() not in sent
    assert placeholders.restore(response.data)["note"] == (
        "Ada Lovelace asked grace@hopper.dev for review."
    )

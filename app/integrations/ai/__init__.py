"""The AI provider layer: Anthropic and OpenAI (or any OpenAI-compatible server) through
their official SDKs, structured output, placeholders for personal data, and cost."""

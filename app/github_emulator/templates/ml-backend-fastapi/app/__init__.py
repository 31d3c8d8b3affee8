"""Review Sentiment API: a small text classifier served over HTTP."""

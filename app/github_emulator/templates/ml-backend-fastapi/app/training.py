"""The labelled product reviews the model is trained on at start-up."""

from __future__ import annotations

REVIEWS: tuple[tuple[str, str], ...] = (
    ("great quality and fast delivery", "positive"),
    ("works perfectly, very happy", "positive"),
    ("excellent value, would buy again", "positive"),
    ("love it, great battery life", "positive"),
    ("fast shipping and friendly support", "positive"),
    ("comfortable, sturdy and well made", "positive"),
    ("terrible quality, broke after a day", "negative"),
    ("slow delivery and rude support", "negative"),
    ("waste of money, would not buy again", "negative"),
    ("battery died quickly, very disappointed", "negative"),
    ("arrived broken and the refund was refused", "negative"),
    ("cheap, flimsy and poorly made", "negative"),
)

from __future__ import annotations

import math

import pytest

from app.model import NaiveBayes, tokenize

TOY = [("good good fun", "pos"), ("bad sad", "neg"), ("good day", "pos")]


def test_tokenize_lowercases_and_keeps_words_only() -> None:
    assert tokenize("Great, FAST delivery!! don't") == ["great", "fast", "delivery", "don't"]


def test_log_scores_follow_laplace_smoothing_by_hand() -> None:
    model = NaiveBayes.train(TOY, version="t")
    scores = model.log_scores("good")
    # vocabulary {good, fun, bad, sad, day} = 5; pos has 5 words (good x3), neg 2.
    assert scores["pos"] == pytest.approx(math.log(2 / 3) + math.log((3 + 1) / (5 + 5)))
    assert scores["neg"] == pytest.approx(math.log(1 / 3) + math.log((0 + 1) / (2 + 5)))


def test_probabilities_are_a_distribution() -> None:
    model = NaiveBayes.train(TOY, version="t")
    for text in ("good", "bad sad sad", "good bad", "unknown words only"):
        probabilities = model.predict_proba(text)
        assert sum(probabilities.values()) == pytest.approx(1.0)
        assert all(0 < p < 1 for p in probabilities.values())


def test_a_word_never_seen_with_a_label_does_not_rule_it_out() -> None:
    model = NaiveBayes.train(TOY, version="t")
    assert model.predict_proba("fun")["neg"] > 0


def test_unknown_words_leave_the_prior() -> None:
    model = NaiveBayes.train(TOY, version="t")
    assert model.predict_proba("zebra")["pos"] == pytest.approx(2 / 3)

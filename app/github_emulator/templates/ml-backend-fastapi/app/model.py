"""A multinomial naive Bayes text classifier, in the standard library only.

Small enough to read in one sitting: tokenise, count words per label, and score a text by
log P(label) + Σ log P(word | label) with add-one (Laplace) smoothing, so a word never seen
with a label lowers its score instead of ruling it out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

TOKEN = re.compile(r"[a-z']+")


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


@dataclass
class NaiveBayes:
    version: str
    word_counts: dict[str, Counter[str]] = field(default_factory=dict)
    doc_counts: Counter[str] = field(default_factory=Counter)
    vocabulary: set[str] = field(default_factory=set)

    @classmethod
    def train(cls, examples: Iterable[tuple[str, str]], *, version: str) -> NaiveBayes:
        model = cls(version=version)
        for text, label in examples:
            model.doc_counts[label] += 1
            words = tokenize(text)
            model.word_counts.setdefault(label, Counter()).update(words)
            model.vocabulary.update(words)
        return model

    @property
    def labels(self) -> list[str]:
        return sorted(self.doc_counts)

    def log_scores(self, text: str) -> dict[str, float]:
        total_docs = sum(self.doc_counts.values())
        vocabulary = len(self.vocabulary)
        # Words the model never saw carry no evidence either way.
        words = [word for word in tokenize(text) if word in self.vocabulary]
        scores = {}
        for label in self.labels:
            counts = self.word_counts[label]
            total_words = sum(counts.values())
            score = math.log(self.doc_counts[label] / total_docs)
            for word in words:
                score += math.log((counts[word] + 1) / (total_words + vocabulary))
            scores[label] = score
        return scores

    def predict_proba(self, text: str) -> dict[str, float]:
        """Probabilities per label, summing to 1 (a softmax over the log scores)."""
        scores = self.log_scores(text)
        top = max(scores.values())
        exps = {label: math.exp(score - top) for label, score in scores.items()}
        total = sum(exps.values())
        return {label: value / total for label, value in exps.items()}

"""Evaluation: rubrics, reviewers' scorecards with verified evidence, their aggregates, the
fit profile of each candidate session and the optional AI drafts (SPEC §11.2)."""

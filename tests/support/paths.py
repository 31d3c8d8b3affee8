"""The checkout's root, for tests that run commands in it or read its files."""

from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

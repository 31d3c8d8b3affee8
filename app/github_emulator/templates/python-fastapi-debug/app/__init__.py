"""Taskboard: a small task-tracking API."""

"""Fake tasks on the demo shop's tables, for the framework's own tests (TASK_PACKAGES override)."""

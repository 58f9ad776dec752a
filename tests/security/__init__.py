"""Tests that would fail if a safety promise broke: fuzzing, faults and concurrency (issue 9)."""

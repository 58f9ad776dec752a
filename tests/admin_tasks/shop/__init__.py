"""Tests of the demo shop product package."""

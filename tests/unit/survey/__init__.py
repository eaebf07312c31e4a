"""Unit tests of the survey service."""

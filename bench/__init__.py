"""Benchmarks run by ``make bench`` against the real local stack."""

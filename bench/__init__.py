"""Reproducible benchmarks on large generated data: `python -m bench --help`."""

"""Benchmarks: programs that print numbers (``make bench``; ``--smoke`` for CI)."""

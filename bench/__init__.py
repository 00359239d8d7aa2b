"""Benchmarks, run with ``make bench`` (``.venv/bin/python -m bench``); not tests.

Each benchmark is a function taking a :class:`bench.common.Context` and returning a
:class:`bench.common.Section`; ``bench/__main__.py`` lists them, runs them in order on one
PostgreSQL server and regenerates ``docs/benchmarks.md`` from their sections.
"""

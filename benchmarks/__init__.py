"""Benchmark harness of the pstmo repository (not part of the installed package).

Run from the repository root: ``python -m benchmarks.bench`` (``make bench``); it imports
``pstmo``, never the other way round. See ``benchmarks/README.md``.
"""

"""Benchmark harness of the pstmo repository (not part of the installed package).

``pstmo bench`` finds this folder in the checkout and runs :mod:`benchmarks.bench`; see
``benchmarks/README.md``.
"""

"""Experiments: running many trainings and the notebooks that report them.

- :mod:`~pstmo.experiments.runner`    ablation cells x seeds on a Dask cluster, cached by a
  fingerprint of configuration, data and training code, resumable (the one way notebooks train)
- :mod:`~pstmo.experiments.notebook`  the set-up of every notebook (:func:`setup`, :class:`Notebook`)
- :mod:`~pstmo.experiments.sweep`     ``pstmo sweep``: a notebook over a parameter grid (papermill)
- :mod:`~pstmo.experiments.reproduce` ``pstmo reproduce``: every notebook, outputs stored with
  their provenance
- :mod:`~pstmo.experiments.widgets`   the interactive explorer (notebook 11)
"""

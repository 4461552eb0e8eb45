"""Reporting: what a table, a claim, a verdict and a figure are made of. Its parts:

- :mod:`~pstmo.report.papers`   the numbers printed in the two papers (data), :func:`paper_table`,
  :func:`beside` (our numbers next to the paper's)
- :mod:`~pstmo.report.claims`   the papers' claims as data (two rows of a table and a direction)
- :mod:`~pstmo.report.tables`   how our numbers are labelled and written (JSON + CSV + Markdown)
  and shown in a notebook
- :mod:`~pstmo.report.findings` statistics over seeds and verdicts on claims, with the sentences
  that state them
- :mod:`~pstmo.report.viz`      figures: skeletons, animations, learning curves, ablation plots

A new table: its printed numbers go in ``papers.TABLES``, its claims in ``claims``; the notebook
that reproduces it writes ours with ``tables.write_table`` (see DESIGN.md, "Where things go").
Params/FLOPs counting and matching the papers' printed figures is :mod:`pstmo.complexity`.
The notebook set-up, the ablation runner and the notebook runner are :mod:`pstmo.experiments`.
"""

"""Model evaluation: suites as files, per-slice metrics with intervals, verdicts and red teams.

- ``suites``: the ``evaluations/<project>.yaml`` file model, its policy cases and versions.
- ``metrics``: accuracy, macro-F1, per-class recall, ECE and error rate per slice, with
  seeded bootstrap intervals and a paired bootstrap against production (numpy, vectorized).
- ``thresholds``: per-slice verdicts (passed, failed, insufficient evidence) from a suite.
- ``runs``: one evaluation of a candidate (and production) on every slice of a suite.
- ``slicescan``: automatic search for slices where the candidate is worse than overall.
- ``redteam``: seeded probes from routine items and the findings they produce.
- ``inspect_import``: inspect_ai eval logs read as evaluation-run records.
- ``report`` and ``plots``: the Markdown report, table rows and pictures.

Importing this package imports none of its modules and does no I/O.
"""

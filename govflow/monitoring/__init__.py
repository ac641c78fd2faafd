"""Production monitoring: is a batch of a model's outputs still like what the model knew?

Plain functions over pandas and numpy, no I/O, no ledger and no Prefect; the monitor flow
composes them. One module per responsibility:

- ``config``: the monitor config (``monitoring/<project>.yaml``) and the test vocabulary;
- ``drift``: per-column drift tests chosen as Evidently chooses them, and the batch verdict;
- ``psi``: population stability of predicted labels and confidences;
- ``text``: text length, out-of-vocabulary rate and a reference-against-current classifier;
- ``performance``: expected accuracy from calibrated confidences, realized accuracy;
- ``activation``: Amazon A2I-style conditions that send outputs to people;
- ``batch``: all of the above for one production batch;
- ``suite``: the production records' expectation suite, bound to a label set and versions;
- ``report`` and ``plots``: Markdown, table rows and pictures of a batch's results.

Importing this package imports none of them; scipy and scikit-learn load when first used.
"""

__all__: list[str] = []

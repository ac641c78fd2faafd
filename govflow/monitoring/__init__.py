"""Production monitoring: is a batch of a model's outputs still like what the model knew?

Plain functions over pandas and numpy and no Prefect; the score, monitor, intervene and
audit flows compose them. Only ``intervention`` reads and writes the ledger (through
``govflow.ledger``). One module per responsibility:

- ``config``: the monitor config (``monitoring/<project>.yaml``) and the test vocabulary;
- ``drift``: per-column drift tests chosen as Evidently chooses them, and the batch verdict;
- ``psi``: population stability of predicted labels and confidences;
- ``text``: text length, out-of-vocabulary rate and a reference-against-current classifier;
- ``performance``: expected accuracy from calibrated confidences, realized accuracy;
- ``activation``: Amazon A2I-style conditions that send outputs to people;
- ``batch``: all of the above for one production batch;
- ``suite``: the production records' expectation suite, bound to a label set and versions;
- ``report`` and ``plots``: Markdown, table rows and pictures of a batch's results;
- ``production``: a batch between model, monitor, people and ledger (scoring, reference,
  alerts, production-output gates, feedback rows, the slice to re-annotate);
- ``intervention``: the production slice an intervention adds to the evaluation suite;
- ``audit``: stratified audit samples, label-audit gates, the label error rate.

Importing this package imports none of them; scipy and scikit-learn load when first used.
"""

__all__: list[str] = []

"""Human steps: review gates and annotation collection, and how flows wait for them.

- ``gate``: ask people a ``ReviewRequest`` inside a flow and return checked decisions;
- ``form`` and ``checks``: the per-gate form and the checks of a submission;
- ``collect``: wait for an annotation round's labels;
- ``wait``: the one place that pauses or suspends a run until people answer;
- ``sweep``: deadlines for suspended waits; ``inbox``: open gates for people and tools;
- ``notify`` (webhook) and ``parallel`` (one child run per batch).

The question and answer models live in ``govflow.domain.review``; the ledger keeps both.
"""

"""Data validation: expectation suites kept as JSON and checked against DataFrames.

``suites`` loads and checks a suite file into a plain ``SuiteSpec``; ``checkpoint`` runs it
over a frame with Great Expectations and returns a ``ValidationOutcome`` (passed rows,
quarantined rows with reasons, the batch verdict). Neither result holds a GE object, so flows
and tasks can pass them between processes without importing Great Expectations.
"""

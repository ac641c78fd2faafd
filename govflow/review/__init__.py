"""Human review gates: ask people about a batch of items and get typed decisions back.

The library half (this package minus ``gate``) is plain Python: kinds and their policies,
the per-gate form, submission checks, the description shown to reviewers. ``gate`` is the
only module that talks to Prefect (pause or suspend, resume, run inputs).
"""

"""Annotation statistics: inter-annotator agreement and label consensus.

Pure numpy over a long table of labels (``labels.LabelMatrix``): ``agreement`` holds the
agreement metrics (Krippendorff's alpha, Fleiss' and Cohen's kappa, per-item and
per-annotator scores) and ``aggregation`` the consensus models (majority vote, Dawid-Skene).
Importing this package imports none of its modules and does no I/O.
"""

"""Synthetic data under governance: plan, generate, screen, score, spot-check and mix.

- ``plan``: the synthesis plan file ``synthesis/<project>.yaml`` (targets, generator, checks,
  thresholds, caps), checked on load;
- ``generators``: one ``Generator`` interface, three adapters (template, python, openai-chat);
- ``nearcopy`` and ``checks``: copies of organic data, evaluation contamination, PII;
- ``fidelity``: per-class length and vocabulary scores and batch diversity;
- ``sampling``: the spot-check sample (zero-acceptance sampling);
- ``mixing``: the one function that builds a mixed frame under the plan's caps;
- ``report``: counts, scores and a picture per class.
"""

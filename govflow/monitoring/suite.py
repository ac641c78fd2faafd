"""The production records' expectation suite, bound to a label set and known model versions.

``expectations/default.production.json`` names two suite parameters in Great Expectations'
own form, ``{"$PARAMETER": "label_set"}`` and ``{"$PARAMETER": "model_versions"}``, so it
loads and lints as a normal suite. ``bind_production_suite`` puts the guideline's labels and
the model versions the ledger knows in their place; the bound copy has its own content
hash, so runs against different versions never share a validation cache entry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from govflow.errors import InputError
from govflow.hashing import content_hash
from govflow.validation.suites import SuiteSpec

__all__ = ["PRODUCTION_PARAMETERS", "bind_production_suite", "suite_parameters"]

PRODUCTION_PARAMETERS = ("label_set", "model_versions")


def suite_parameters(suite: SuiteSpec) -> set[str]:
    """Return the names of the ``$PARAMETER`` placeholders in ``suite``."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"$PARAMETER"}:
                found.add(str(node["$PARAMETER"]))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(suite.suite)
    return found


def bind_production_suite(
    suite: SuiteSpec, *, label_set: Sequence[str], model_versions: Sequence[str]
) -> SuiteSpec:
    """Return ``suite`` with its label set and model versions filled in."""
    values = {"label_set": list(label_set), "model_versions": list(model_versions)}
    for name, given in values.items():
        if not given:
            raise InputError(
                f"suite {suite.name}: no {name.replace('_', ' ')} to bind; every row would be "
                "quarantined"
            )
    unbound = suite_parameters(suite) - set(values)
    if unbound:
        raise InputError(
            f"suite {suite.name} names parameters govflow does not bind: "
            f"{', '.join(sorted(unbound))}"
        )
    text = json.dumps(suite.suite, sort_keys=True)
    for name, given in values.items():
        text = text.replace(json.dumps({"$PARAMETER": name}, sort_keys=True), json.dumps(given))
    bound = json.loads(text)
    return suite.model_copy(update={"suite": bound, "content_hash": content_hash(bound)})

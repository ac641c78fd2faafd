"""The Python generator: a plain ``module:function`` makes the rows.

The function is called once per class as ``fn(label=..., n=..., seeds=[texts], seed=...)``
and must return a list whose items are texts or mappings with a ``text``. Raising, or
returning something other than a list, fails the generator as a whole
(``GenerationFailed``); an item that is not a non-empty text is a rejected row with the
reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from govflow.errors import GenerationFailed
from govflow.models.python_fn import load_entrypoint
from govflow.synthetic.plan import GeneratorSpec
from govflow.synthetic.rows import Generated, Provenance, RejectedRow, SeedItem, SyntheticRow

__all__ = ["PYTHON_GENERATOR_VERSION", "PythonGenerator"]

PYTHON_GENERATOR_VERSION = "1"


class PythonGenerator:
    version = PYTHON_GENERATOR_VERSION

    def __init__(self, spec: GeneratorSpec, *, config_hash: str) -> None:
        assert spec.entrypoint is not None
        self.name = f"python:{spec.entrypoint}"
        self._fn = load_entrypoint(spec.entrypoint)
        self._config_hash = config_hash

    def generate(self, label: str, n: int, seeds: Sequence[SeedItem], seed: int) -> Generated:
        ordered = sorted(seeds, key=lambda s: s.item_hash)
        try:
            answer = self._fn(label=label, n=n, seeds=[s.text for s in ordered], seed=seed)
        except Exception as exc:  # a third party's code: any failure fails the generator
            raise GenerationFailed(self.name, f"raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(answer, list):
            raise GenerationFailed(
                self.name, f"returned {type(answer).__name__}, not a list of texts"
            )
        provenance = Provenance(
            generator=self.name,
            generator_version=self.version,
            config_hash=self._config_hash,
            seed=seed,
            prompt_hash=None,
            seed_items=tuple(s.item_hash for s in ordered),
        )
        rows, rejected = [], []
        for item in answer:
            text = item.get("text") if isinstance(item, Mapping) else item
            if isinstance(text, str) and text.strip():
                rows.append(SyntheticRow(text=text.strip(), label=label, provenance=provenance))
            else:
                rejected.append(
                    RejectedRow(
                        label=label,
                        reason="not a text or a mapping with a non-empty 'text'",
                        returned=repr(item)[:200],
                    )
                )
        return Generated(rows=rows, rejected=rejected, requested=n)

"""Generators behind one interface, built from the plan's ``generator`` section.

Each generator's ``generate(label, n, seeds, seed)`` returns ``Generated``: usable rows with
provenance and the answers it had to reject (with reasons). A generator that fails as a
whole raises ``GenerationFailed``, so nothing partial is registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from govflow.synthetic.plan import GeneratorSpec
from govflow.synthetic.rows import Generated, SeedItem

__all__ = ["Generator", "build_generator"]


class Generator(Protocol):
    name: str
    version: str

    def generate(self, label: str, n: int, seeds: Sequence[SeedItem], seed: int) -> Generated:
        """Make ``n`` rows of class ``label`` from ``seeds``, deterministically for ``seed``."""
        ...


def build_generator(spec: GeneratorSpec, *, config_hash: str) -> Generator:
    """Return the generator the spec names."""
    if spec.kind == "template":
        from govflow.synthetic.generators.template import TemplateGenerator

        return TemplateGenerator(config_hash=config_hash)
    if spec.kind == "python":
        from govflow.synthetic.generators.python_fn import PythonGenerator

        return PythonGenerator(spec, config_hash=config_hash)
    from govflow.synthetic.generators.openai_chat import ChatGenerator

    return ChatGenerator(spec, config_hash=config_hash)

"""Models under governance: the library beneath the train and evaluate flows.

A model maps a batch of texts to one label and confidence per row behind one small
interface (``predictions.ModelAdapter``). ``spec`` says which adapter with which
parameters and derives model version ids; ``training_data`` takes the splits out of a
labeled version; ``sklearn_text`` trains the embedded default; ``artifacts`` stores fitted
models content-addressed with skops; ``openai_chat`` asks an OpenAI-compatible endpoint
(``answers`` reads its replies); ``python_fn`` calls a ``module:function``;
``adapters.load_adapter`` builds any of them from a spec.

Importing this package is cheap: scikit-learn, skops and httpx load only in the modules
that use them.
"""

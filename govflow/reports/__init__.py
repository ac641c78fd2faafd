"""Reports: Markdown, tables and pictures that stages publish as Prefect artifacts and files.

``plots`` holds the one way govflow draws pictures (matplotlib, Agg backend, PNG bytes);
every stage's report module draws through it.
"""

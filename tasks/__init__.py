"""Thin Prefect tasks over govflow library functions: names, retries, cache keys, results."""

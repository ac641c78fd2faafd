"""Acquisition: read records from declared sources (files now; HTTP and SQL build on this)."""

"""Reading data in: declared sources for the ingest flow, and single files for registration."""

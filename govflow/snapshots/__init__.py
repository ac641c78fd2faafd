"""Dataset rows stored as immutable, content-addressed Parquet snapshots.

- ``encode``: records -> row hashes (the ledger's canonical JSON + SHA-256) and an Arrow table;
- ``files``: the snapshot file format (``_hash`` first, then the data columns) and its readers;
- ``store``: a folder or an fsspec URL holding snapshots named by the SHA-256 of their bytes;
- ``query``: item lookups and filters over snapshots with DuckDB.
"""

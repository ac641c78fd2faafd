"""Read the rows of one query from any SQLAlchemy database, a chunk at a time.

The engine lives only for the read (created, then disposed, inside the generator). Every
message names the database by its masked URL, so a password in the URL never leaks.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from govflow.errors import SourceError
from govflow.ledger.datasets import SourceSpec
from govflow.ledger.engine import mask_url
from govflow.sources.config import SqlSource
from govflow.sources.storable import checked_row
from govflow.sources.stream import RawStream, SourceRow

__all__ = ["open_sql"]


def open_sql(source: SqlSource, chunk_size: int) -> RawStream:
    """Stream the query's rows; nothing is connected until the rows are consumed."""
    label = mask_url(source.url)
    stream = RawStream(
        spec=SourceSpec(kind="sql", uri=label, params={"query": source.query}), rows=iter(())
    )
    stream.rows = _rows(source, label, chunk_size, stream)
    return stream


def _rows(source: SqlSource, label: str, chunk_size: int, stream: RawStream) -> Iterator[SourceRow]:
    password = make_url(source.url).password

    def failure(problem: str, exc: BaseException) -> SourceError:
        detail = _first_line(exc)
        if password:
            detail = detail.replace(str(password), "***")
        return SourceError(label, f"{problem}: {detail}")

    try:
        engine = create_engine(source.url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise failure("cannot use this database URL", exc) from exc
    # Escaped colons: the query is run as written, never parsed for :bind parameters.
    statement = text(source.query.replace(":", "\\:"))
    row_no = 0
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise failure("cannot connect", exc) from exc
        with connection:
            try:
                result = connection.execution_options(yield_per=chunk_size).execute(statement)
                names = list(result.keys())
                duplicates = sorted({n for n in names if names.count(n) > 1})
                if duplicates:
                    raise SourceError(
                        label, f"query returns duplicate column names: {', '.join(duplicates)}"
                    )
                for partition in result.partitions(chunk_size):
                    for values in partition:
                        row_no += 1
                        record = dict(zip(names, values, strict=True))
                        row = checked_row(row_no, record, strict=False)
                        stream.fingerprint.add_row(row)
                        yield row
            except SQLAlchemyError as exc:
                raise failure("query failed", exc) from exc
            except RecursionError as exc:
                # The driver decodes json columns with Python's json, which recurses per level.
                raise SourceError(
                    label,
                    f"cannot read the rows after row {row_no}: a JSON value is nested too "
                    "deeply for Python to read",
                ) from exc
    finally:
        engine.dispose()
    if row_no == 0:
        stream.notes.append("the query returned no rows")


def _first_line(exc: BaseException) -> str:
    """Return the first line of the database's own message, without SQLAlchemy's wrapping."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__

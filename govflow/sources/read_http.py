"""Read records from a paginated JSON API with bounded retries and hard page limits.

Retried: 429, 5xx, timeouts and connection failures, with exponential backoff
(``backoff_s * 2**(attempt-1)``) or the server's ``Retry-After``, each wait capped at
``max_backoff_s``. Not retried: any other 4xx and 3xx (redirects are not followed, so a
credential header never travels to another host). Every failure is one ``SourceError``
naming the configured URL; the credential's value is never put in a message or a
``SourceSpec``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from govflow.errors import SourceError
from govflow.ledger.datasets import SourceSpec
from govflow.sources.config import CursorPagination, HttpSource, PagePagination
from govflow.sources.storable import checked_row, render_safely
from govflow.sources.stream import RawStream, SourceRow, json_kind, reason

__all__ = ["open_http", "public_url"]

_MISSING = object()


def open_http(source: HttpSource) -> RawStream:
    """Resolve the credential now (so a missing one fails before any request) and stream."""
    label = public_url(source.url)
    secret = _credential(source, label)
    params: dict[str, Any] = {"records_path": source.records_path, "params": dict(source.params)}
    if source.pagination is not None:
        params["pagination"] = source.pagination.model_dump()
    if source.auth_header is not None:
        params["auth_header"] = source.auth_header
    if source.max_records is not None:
        params["max_records"] = source.max_records
    stream = RawStream(spec=SourceSpec(kind="http", uri=label, params=params), rows=iter(()))
    stream.rows = _records(source, label, secret, stream)
    return stream


def public_url(url: str) -> str:
    """Return ``url`` with any password in it replaced by ``***``."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<unparseable URL>"
    if parsed.password:
        return str(parsed.copy_with(username=parsed.username, password="***"))
    return url


def _credential(source: HttpSource, label: str) -> str | None:
    if source.auth_env is None:
        return None
    value = os.environ.get(source.auth_env)
    if not value:
        raise SourceError(
            label,
            f"environment variable {source.auth_env} is not set "
            f"(it holds the {source.auth_header} header)",
        )
    return value


def _records(
    source: HttpSource, label: str, secret: str | None, stream: RawStream
) -> Iterator[SourceRow]:
    headers = {"Accept": "application/json"}
    if secret is not None and source.auth_header is not None:
        headers[source.auth_header] = secret
    # Credentials in the URL travel as basic auth, so request URLs (in httpx's logs and our
    # messages) never carry them.
    url = httpx.URL(source.url)
    auth = httpx.BasicAuth(url.username, url.password) if url.userinfo else None
    row = 0
    with httpx.Client(
        timeout=source.timeout_s, headers=headers, auth=auth, follow_redirects=False
    ) as client:
        pages = _pages(client, url.copy_with(userinfo=b""), source, _Failures(label, secret))
        for items in pages:
            for item in items:
                if source.max_records is not None and row >= source.max_records:
                    stream.notes.append(f"stopped at max_records={source.max_records}")
                    pages.close()
                    return
                row += 1
                if isinstance(item, dict):
                    checked = checked_row(row, item, strict=True)
                else:
                    problem = reason("not_an_object", None, f"a JSON {json_kind(item)}")
                    checked = SourceRow(row, None, render_safely(item), problem)
                stream.fingerprint.add_row(checked)
                yield checked
    if row == 0:
        stream.notes.append("the API returned no records")


class _Failures:
    """Build this source's errors, scrubbing the credential from anything a server echoed."""

    def __init__(self, label: str, secret: str | None) -> None:
        self.label = label
        self._secret = secret

    def error(self, problem: str, *, hint: str | None = None) -> SourceError:
        if self._secret:
            problem = problem.replace(self._secret, "***")
        return SourceError(self.label, problem, hint=hint)


def _pages(
    client: httpx.Client, url: httpx.URL, source: HttpSource, failures: _Failures
) -> Iterator[list[Any]]:
    pagination = source.pagination
    cursor: Any = None
    seen_cursors: set[Any] = set()
    previous_page: str | None = None
    for page_no in range(1, source.max_pages + 1):
        params: dict[str, Any] = dict(source.params)
        if isinstance(pagination, CursorPagination) and cursor is not None:
            params[pagination.cursor_param] = cursor
        elif isinstance(pagination, PagePagination):
            params[pagination.page_param] = pagination.start + page_no - 1
            params[pagination.size_param] = pagination.size
        request = client.build_request("GET", url, params=params)
        shown = str(request.url)
        body, digest = _get_json(client, request, shown, source, page_no, failures)
        items = _dig(body, source.records_path)
        if not isinstance(items, list):
            where = f"no list at {source.records_path!r}" if source.records_path else "not a list"
            raise failures.error(f"page {page_no} ({shown}) has {where}")
        yield items
        if pagination is None:
            return
        if isinstance(pagination, CursorPagination):
            cursor = _dig(body, pagination.next_cursor_path)
            if cursor is _MISSING or cursor is None or cursor == "":
                return
            if not isinstance(cursor, str | int) or isinstance(cursor, bool):
                raise failures.error(
                    f"page {page_no} has a {json_kind(cursor)} at "
                    f"{pagination.next_cursor_path!r}, expected a cursor string"
                )
            if cursor in seen_cursors:
                raise failures.error(
                    f"page {page_no} returned cursor {cursor!r} again: the pagination loops"
                )
            seen_cursors.add(cursor)
        else:
            if len(items) < pagination.size:
                return
            # An API that ignores the page parameter returns the same page forever.
            if digest == previous_page:
                raise failures.error(
                    f"page {page_no} repeats page {page_no - 1}: is page_param "
                    f"{pagination.page_param!r} right?"
                )
            previous_page = digest
    raise failures.error(
        f"more pages remain after max_pages={source.max_pages}",
        hint="raise max_pages or narrow the request",
    )


def _get_json(
    client: httpx.Client,
    request: httpx.Request,
    shown: str,
    source: HttpSource,
    page_no: int,
    failures: _Failures,
) -> tuple[Any, str]:
    attempts = source.max_retries + 1
    for attempt in range(1, attempts + 1):
        wait = source.backoff_s * 2 ** (attempt - 1)
        try:
            response = client.send(request)
        except httpx.TimeoutException:
            failure = f"timed out after {source.timeout_s:g} s"
        except httpx.TransportError as exc:
            failure = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        else:
            status = f"{response.status_code} {response.reason_phrase}".strip()
            if response.is_success:
                return _parse(response, shown, page_no, failures)
            if response.status_code != 429 and response.status_code < 500:
                raise failures.error(f"GET {shown} failed: {status}", hint=_hint(response, source))
            failure = status
            wait = _retry_after(response, default=wait)
        if attempt < attempts:
            time.sleep(min(wait, source.max_backoff_s))
    raise failures.error(f"GET {shown} failed after {attempts} attempts: {failure}")


def _parse(
    response: httpx.Response, shown: str, page_no: int, failures: _Failures
) -> tuple[Any, str]:
    content = response.content
    try:
        body = response.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        problem = getattr(exc, "msg", None) or str(exc).splitlines()[0]
        raise failures.error(f"page {page_no} ({shown}) is not JSON: {problem}") from exc
    except RecursionError as exc:
        # The page is one JSON document: no record of it can be read on its own.
        raise failures.error(
            f"page {page_no} ({shown}) is not JSON Python can read: it is nested too deeply"
        ) from exc
    return body, hashlib.sha256(content).hexdigest()


def _retry_after(response: httpx.Response, *, default: float) -> float:
    value = response.headers.get("Retry-After")
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _hint(response: httpx.Response, source: HttpSource) -> str | None:
    if response.status_code in {401, 403}:
        if source.auth_env:
            return f"check the credential in ${source.auth_env}"
        return "the API wants credentials: set auth_header and auth_env"
    if response.is_redirect:
        location = response.headers.get("Location")
        return f"redirects are not followed; configure the final URL ({location})"
    return None


def _dig(body: Any, path: str | None) -> Any:
    """Follow a dotted path into nested objects; ``_MISSING`` when a step is absent."""
    if path is None:
        return body
    value = body
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value

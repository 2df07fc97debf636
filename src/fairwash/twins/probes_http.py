"""The probe of a black-box HTTP endpoint: rows sent as JSON in batches, decisions read by a path.

The protocol (standard library only, ``urllib``):

* **request**: ``POST <url>`` with ``Content-Type: application/json`` and the body
  ``{"<request_key>": [{"<column>": value, ...}, ...]}``, one record per row, the model's
  input columns in order, values as JSON numbers (default key ``instances``, as TensorFlow
  Serving and KServe v1 read; ``dataframe_records`` for MLflow; an empty key sends the bare
  list of records);
* **answer**: a JSON document from which ``answer_path`` (:func:`parse_answer_path`)
  selects one value per row, in order: a decision 0/1 or P(ŷ = 1) (the decision is
  ``value >= threshold``, default 0.5; :func:`~fairwash.twins.probes_answers.read_answers`).

Costs and failures.  At most ``batch_size`` rows per request; at most ``max_rps`` requests
per second; each request waits ``timeout`` seconds; a failed one (a 5xx or 429 answer, a
timeout, a refused connection) is retried ``retries`` times after ``backoff * 2**k``
seconds.  Every row the endpoint answers is written to an :class:`~fairwash.twins.probes_cache.AnswerCache`
as soon as its batch is answered, and no row already in it is sent again (in this run or
a rerun).  A failure after the retries, a 4xx answer, or an answer that is not JSON, has
the wrong number of values or a value that is not a decision raises :class:`EndpointError`
(a :class:`~fairwash.data.base.DataError`) naming the endpoint and what was wrong; the
answers received until then stay in the cache.  :class:`QueryLedger` counts what was spent.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.progress import progress_bar
from fairwash.text import shown
from fairwash.twins.probe import ModelProbe
from fairwash.twins.probes_answers import AnswerModel, read_answers
from fairwash.twins.probes_cache import AnswerCache, default_cache_path, row_key

__all__ = ["EndpointError", "EndpointOptions", "HttpEndpoint", "QueryLedger", "http_probe",
           "parse_answer_path", "select_answers"]

#: The most an answer may take per row asked (decisions and probabilities are a few bytes each).
MAX_ANSWER_BYTES_PER_ROW = 4096
_TOKEN = re.compile(r"\.?([A-Za-z_][\w-]*)|\[(\*|-?\d+)\]")


class EndpointError(DataError):
    """The endpoint failed, timed out or answered something that is not decisions."""


@dataclass(frozen=True)
class EndpointOptions:
    """How to query an endpoint (the ``fairwash twins`` options of the same names)."""

    answer_path: str = "$.predictions[*]"
    request_key: str = "instances"
    batch_size: int = 100
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_rps: float | None = None
    cache: str | Path | None = None
    progress: bool | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.retries < 0 or not self.timeout > 0 or self.backoff < 0:
            raise ValueError("batch_size >= 1, retries >= 0, timeout > 0 and backoff >= 0 are needed")
        if self.max_rps is not None and not self.max_rps > 0:
            raise ValueError(f"max_rps must be positive, got {self.max_rps}")
        parse_answer_path(self.answer_path)


@dataclass
class QueryLedger:
    """The queries spent on an endpoint.

    Attributes
    ----------
    requests : int
        HTTP requests sent, retries included.
    rows_sent : int
        Rows in those requests (a retried batch counts again).
    retries : int
        Requests that repeated a failed one.
    rows_answered : int
        Distinct rows the endpoint answered in this run.
    rows_cached : int
        Rows asked again (in this run, or answered by an earlier run) and read from the cache.
    cache, endpoint : str
        The cache file and the URL.
    cache_rows_at_start : int
        Rows the cache held when the run began (answered by earlier runs).
    batch_size : int
        The most rows per request.
    """

    endpoint: str
    cache: str
    requests: int = 0
    rows_sent: int = 0
    retries: int = 0
    rows_answered: int = 0
    rows_cached: int = 0
    cache_rows_at_start: int = 0
    batch_size: int = 0
    #: New (not cached) rows of each model call: it sends them in ceil(k / batch_size) requests.
    new_rows_per_call: list[int] = field(default_factory=list)

    @property
    def rows_asked(self) -> int:
        """Rows the audit asked for (``rows_answered + rows_cached``)."""
        return self.rows_answered + self.rows_cached

    def to_dict(self) -> dict[str, Any]:
        """The counts, the cache and the endpoint (not the per-call list)."""
        out = asdict(self)
        del out["new_rows_per_call"]
        return {**out, "rows_asked": self.rows_asked}


def parse_answer_path(path: str) -> list[tuple[str, Any]]:
    """The steps of an answer path: ``("key", name)``, ``("index", i)`` or ``("each", None)``.

    The grammar is a small subset of JSONPath: an optional ``$``, then dotted names and
    ``[i]`` / ``[*]`` subscripts; ``[*]`` applies the rest of the path to every element.
    ``$.predictions[*]``, ``predictions`` (the list itself), ``$.result.scores``,
    ``$.predictions[*].label``, ``$.probabilities[*][1]`` and ``$[*]`` (the document is
    the list) are all valid.

    Raises
    ------
    ValueError
        On anything else, naming the path.
    """
    rest = path.strip()
    rest = rest[1:] if rest.startswith("$") else rest
    steps: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        undotted = m is not None and bool(m.group(1)) and pos > 0 and not m.group(0).startswith(".")
        if m is None or undotted:
            raise ValueError(f"answer path {path!r}: cannot read {rest[pos:]!r}; use e.g. $.predictions[*]")
        name, sub = m.group(1), m.group(2)
        steps.append(("key", name) if name else ("each", None) if sub == "*" else ("index", int(sub)))
        pos = m.end()
    return steps


def select_answers(doc: Any, path: str) -> list[Any]:
    """The values ``path`` selects in the JSON document ``doc`` (a list, one value per row)."""

    def walk(node: Any, steps: list[tuple[str, Any]], at: str) -> Any:
        if not steps:
            return node
        (op, arg), tail = steps[0], steps[1:]
        if op == "key":
            if not isinstance(node, dict) or arg not in node:
                keys = list(node)[:8] if isinstance(node, dict) else type(node).__name__
                raise DataError(f"no key {arg!r} at {at} (found {shown(keys)})")
            return walk(node[arg], tail, f"{at}.{arg}")
        if not isinstance(node, list):
            raise DataError(f"{at} is a {type(node).__name__}, not a list")
        if op == "index":
            if not -len(node) <= arg < len(node):
                raise DataError(f"{at} has {len(node)} element(s), no [{arg}]")
            return walk(node[arg], tail, f"{at}[{arg}]")
        return [walk(v, tail, f"{at}[{i}]") for i, v in enumerate(node)]

    out = walk(doc, parse_answer_path(path), "$")
    if not isinstance(out, list):
        raise DataError(f"{path} selects a {type(out).__name__}, not a list of answers")
    return out


class HttpEndpoint:
    """The answers of an endpoint to DataFrames of rows, batched, rate-limited, retried and cached.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL to POST to.
    feature_columns : sequence of str
        The columns sent, in order.
    options : EndpointOptions
    """

    def __init__(self, url: str, feature_columns: Sequence[str], options: EndpointOptions) -> None:
        self.url, self.columns, self.options = url, list(feature_columns), options
        header = {"endpoint": url, "answer_path": options.answer_path, "request_key": options.request_key,
                  "columns": self.columns}
        self.cache = AnswerCache(options.cache or default_cache_path(header), header)
        self.ledger = QueryLedger(endpoint=url, cache=str(self.cache.path), batch_size=options.batch_size,
                                  cache_rows_at_start=self.cache.loaded)
        self._last_request = -np.inf

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        """P(ŷ = 1) (or the 0/1 decision) of every row of ``frame``, asking only rows not in the cache."""
        values = frame[self.columns].to_numpy(np.float64)
        keys = [row_key(v) for v in values]
        todo: dict[str, np.ndarray] = {}
        for k, v in zip(keys, values, strict=True):
            if self.cache.get(k) is None and k not in todo:
                todo[k] = v
        self.ledger.rows_cached += len(keys) - len(todo)
        if todo:
            self.ledger.new_rows_per_call.append(len(todo))
        items = list(todo.items())
        size = self.options.batch_size
        batches = [items[i:i + size] for i in range(0, len(items), size)]
        bar = progress_bar(batches, progress=self.options.progress, total=len(batches), unit="batch",
                           desc=f"querying {self.url}", leave=False)
        for batch in bar:
            self._answer(batch)
        return np.array([self.cache.answers[k] for k in keys], dtype=np.float64)

    def _answer(self, batch: list[tuple[str, np.ndarray]]) -> None:
        """Ask the endpoint for one batch and keep the answers (or raise, keeping the earlier ones)."""
        records = [dict(zip(self.columns, (float(x) for x in v), strict=True)) for _, v in batch]
        key = self.options.request_key
        body = json.dumps({key: records} if key else records).encode()
        where = f"endpoint {self.url}"
        try:
            doc = self._post(body, len(batch))
            try:
                values = select_answers(doc, self.options.answer_path)
            except DataError as exc:
                raise EndpointError(f"{where}: its answer does not fit --answer-path "
                                    f"{self.options.answer_path}: {exc}") from None
            answers = read_answers(values, len(batch), where)
        except DataError as exc:
            raise EndpointError(f"{exc}. The {len(self.cache)} row(s) answered so far are kept in "
                                f"{self.cache.path}: a rerun asks only the others") from None
        self.cache.update({k: float(a) for (k, _), a in zip(batch, answers, strict=True)})
        self.ledger.rows_answered += len(batch)

    def _wait_for_rate(self) -> None:
        if self.options.max_rps:
            wait = self._last_request + 1.0 / self.options.max_rps - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_request = time.monotonic()

    def _post(self, body: bytes, n_rows: int) -> Any:
        """POST ``body``; the parsed JSON answer, after retries with exponential back-off.

        The answer is read up to :data:`MAX_ANSWER_BYTES_PER_ROW` bytes a row (at least 1 MiB): a
        hostile or broken endpoint cannot fill the memory.
        """
        limit = max(1 << 20, MAX_ANSWER_BYTES_PER_ROW * n_rows)
        opts, where = self.options, f"endpoint {self.url}"
        problem = ""
        for attempt in range(opts.retries + 1):
            if attempt:
                time.sleep(opts.backoff * 2 ** (attempt - 1))
                self.ledger.retries += 1
            self._wait_for_rate()
            self.ledger.requests += 1
            self.ledger.rows_sent += n_rows
            request = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/json", "Accept": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=opts.timeout) as response:
                    raw = response.read(limit + 1)
                if len(raw) > limit:
                    raise EndpointError(f"{where} answered more than {limit:,} bytes for {n_rows} row(s); "
                                        "refused (a decision per row is a few bytes)")
            except urllib.error.HTTPError as exc:
                text = " ".join(exc.read(2000).decode(errors="replace").split())
                problem = f"HTTP {exc.code} {shown(exc.reason, 60)}"
                problem += f" ('{shown(text, 100)}')" if text else ""
                if exc.code < 500 and exc.code != 429:
                    raise EndpointError(f"{where} refused the request: {problem}") from None
            except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                timed_out = isinstance(reason, TimeoutError) or "timed out" in str(reason)
                problem = (f"no answer within the timeout of {opts.timeout:g} s" if timed_out
                           else f"connection failed ({reason})")
            else:
                try:
                    return json.loads(raw)
                except ValueError:
                    raise EndpointError(f"{where} answered something that is not JSON: "
                                        f"'{shown(raw[:200].decode(errors='replace'), 80)}'") from None
        raise EndpointError(f"{where}: {problem}, {opts.retries + 1} attempt(s) "
                            f"(--retries {opts.retries})")


def http_probe(
    url: str,
    feature_columns: Sequence[str],
    options: EndpointOptions | None = None,
    *,
    threshold: float | None = None,
) -> ModelProbe:
    """The probe of the endpoint ``url`` (see the module's docstring); its ledger is ``probe.queries``."""
    if not re.match(r"^https?://", url):
        raise DataError(f"endpoint {url}: only http:// and https:// URLs are queried")
    if not feature_columns:
        raise DataError(f"endpoint {url}: the columns to send are needed (--feature-columns)")
    endpoint = HttpEndpoint(url, feature_columns, options or EndpointOptions())
    model = AnswerModel(endpoint, feature_columns, f"endpoint {url}", 0.5 if threshold is None else threshold,
                        ledger=endpoint.ledger)
    return ModelProbe.of(model, list(feature_columns), kind="http", source=url)

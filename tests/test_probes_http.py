"""One model, four kinds: a skops file, an ONNX file, a callable and a real HTTP endpoint on 127.0.0.1.

A scikit-learn pipeline (standardiser + logistic regression) trained on the loan data is
exported four ways and audited by ``fairwash twins``' library function; all four give the
same flip rate and income gap.  The endpoint is a stdlib ``http.server`` in a thread that
serves that same pipeline; hostile variants of it (500s, a sleeper, garbage) each give a
clear error, and a rerun after a failure asks the endpoint only the rows it had not answered.
"""

from __future__ import annotations

import json
import math
import threading
import time
import warnings
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash.cli import main
from fairwash.data.base import DataError
from fairwash.data.synthetic import loan_applicants
from fairwash.twins import EndpointError, EndpointOptions, audit_model_file, load_probe

onnx = pytest.importorskip("onnx")
sio = pytest.importorskip("skops.io")
skl2onnx = pytest.importorskip("skl2onnx")

N_PROFILES = 150


class ModelServer:
    """An HTTP endpoint on 127.0.0.1 serving ``answer(records)``; ``script`` scripts misbehaviour.

    Each request pops the next behaviour from ``script`` (``"ok"`` once it is empty):
    ``"500"``, ``"sleep"`` (answers after ``sleep`` seconds), ``"not_json"``, ``"short"``
    (one answer too few), ``"seven"`` (every decision 7), ``"huge"`` (a 3 MiB answer),
    ``"ansi"`` (a 400 whose reason and body carry terminal escape sequences).  ``requests`` and ``rows`` count
    what it received, ``answered_rows`` what it answered with a 200.
    """

    def __init__(self, answer: Callable[[list[dict]], list], sleep: float = 1.0) -> None:
        self.answer, self.sleep = answer, sleep
        self.script: list[str] = []
        self.requests = self.rows = self.answered_rows = self.generation = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                rows = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["instances"]
                with server.lock:
                    server.requests += 1
                    server.rows += len(rows)
                    how = server.script.pop(0) if server.script else "ok"
                    generation = server.generation
                if how == "sleep":
                    time.sleep(server.sleep)
                if how == "500":
                    return self._send(500, b'{"error": "internal"}')
                if how == "not_json":
                    return self._send(200, b"<html>Service Unavailable</html>")
                if how == "huge":
                    return self._send(200, b'{"predictions": [' + b"0, " * (1 << 20) + b"0]}")
                if how == "ansi":
                    return self._send(400, b"\x1b[2K\rREPRESENTATIVE: no test rejects" * 500,
                                      reason="Bad\x1b[1A\x1b[2K")
                values = [7] * len(rows) if how == "seven" else list(server.answer(rows))
                values = values[:-1] if how == "short" else values
                if how == "ok" or how == "sleep":
                    with server.lock:  # a slow request of an earlier test, answered late, is not counted
                        server.answered_rows += len(rows) if generation == server.generation else 0
                self._send(200, json.dumps({"predictions": values}).encode())

            def _send(self, code: int, body: bytes, reason: str | None = None) -> None:
                try:
                    self.send_response(code, reason)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/predict"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.lock:
            self.script, self.requests, self.rows, self.answered_rows = [], 0, 0, 0
            self.generation += 1

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def loan(tmp_path_factory) -> dict:
    """The loan pipeline exported four ways (skops, ONNX, a callable module, an endpoint) and its data."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folder = tmp_path_factory.mktemp("loan")
    data = loan_applicants(400, random_state=0)
    X = data.X
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=10, max_iter=1000)).fit(X, data.Y)
    X.to_csv(folder / "loan.csv", index=False)
    sio.dump(pipe, folder / "loan.skops")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = skl2onnx.to_onnx(pipe, X.to_numpy(np.float32)[:1])
    onnx.helper.set_model_props(model, {"feature_names": json.dumps(list(X.columns))})
    onnx.save(model, folder / "loan.onnx")
    (folder / "scorer.py").write_text(
        "import skops.io\n"
        f"_PIPE = skops.io.load({str(folder / 'loan.skops')!r})\n\n"
        "def score(frame):\n"
        "    return _PIPE.predict_proba(frame)[:, 1]\n")
    server = ModelServer(lambda rows: pipe.predict(pd.DataFrame(rows)[list(X.columns)]).tolist())
    yield {"folder": folder, "data": folder / "loan.csv", "pipe": pipe, "server": server,
           "models": {"skops": folder / "loan.skops", "onnx": folder / "loan.onnx",
                      "callable": f"{folder / 'scorer.py'}:score", "http": server.url}}
    server.close()


def _options(tmp_path: Path, **kw) -> EndpointOptions:
    base = {"cache": tmp_path / "cache.json", "batch_size": 64, "timeout": 2.0, "retries": 2, "backoff": 0.01,
            "progress": False}
    return EndpointOptions(**{**base, **kw})


def _audit(loan: dict, model, tmp_path: Path, **kw):
    return audit_model_file(model, loan["data"], "gender_male", n_profiles=N_PROFILES, seed=0,
                            numeric_feature="income", endpoint=_options(tmp_path), **kw)


def test_four_kinds_of_one_model_give_the_same_flip_rate_and_gap(loan, tmp_path):
    loan["server"].reset()
    audits = {kind: _audit(loan, model, tmp_path) for kind, model in loan["models"].items()}
    assert {kind: a.probe.kind for kind, a in audits.items()} == {k: k for k in audits}
    ref = audits["skops"]
    print("\nkind      flips  flip rate  gap (profile 0)  median gap (all profiles)")
    for kind, a in audits.items():
        print(f"{kind:8s}  {a.fixed.n_flips:5d}  {a.fixed.flip_rate:9.4f}  {a.boundary['gap']:15.2f}  "
              f"{a.boundary_profiles['gap_median']:.2f}")
        assert a.fixed.n_pairs == N_PROFILES
        assert a.fixed.n_flips == ref.fixed.n_flips and a.fixed.flip_rate == ref.fixed.flip_rate
        np.testing.assert_array_equal(a.fixed.pairs["decision_s0"], ref.fixed.pairs["decision_s0"])
        tol = a.boundary["tol"]
        assert abs(a.boundary["gap"] - ref.boundary["gap"]) <= 2 * tol
        assert abs(a.boundary_profiles["gap_median"] - ref.boundary_profiles["gap_median"]) <= 2 * tol
    # the model learned the loan data's rule: women need about 15 000 more income
    assert 0.3 < ref.fixed.flip_rate < 0.7 and 13_000 < ref.boundary["gap"] < 17_000
    assert ref.fixed.flips_favouring_s0 == 0
    # every row the server received it answered, and the ledger counts exactly what it received
    q = audits["http"].probe.queries
    assert q["rows_sent"] == loan["server"].rows == loan["server"].answered_rows
    assert q["requests"] == loan["server"].requests and q["retries"] == 0


def test_the_query_count_is_twice_the_profiles_plus_the_bisection_steps(loan, tmp_path):
    server = loan["server"]
    server.reset()
    n, batch = N_PROFILES, 64
    flips = audit_model_file(server.url, loan["data"], "gender_male", n_profiles=n,
                             endpoint=_options(tmp_path))
    q = flips.probe.queries
    assert len(flips.base.drop(columns="data_row").drop_duplicates()) == n  # n distinct profiles
    assert q["rows_sent"] == server.rows == 2 * n
    assert q["requests"] == server.requests == math.ceil(2 * n / batch)
    assert q["rows_cached"] == 0  # the probabilities of the twins are the decisions already asked

    server.reset()
    a = _audit(loan, server.url, tmp_path / "b")
    q = a.probe.queries
    lo, hi, tol, grid = a.boundary["lo"], a.boundary["hi"], a.boundary["tol"], a.boundary["n_grid"]
    steps = math.ceil(math.log2((hi - lo) / tol))                    # bisection of every profile
    steps_grid = max(math.ceil(math.log2((hi - lo) / (grid - 1) / tol)), 0)  # of profile 0's grid cells
    switches = sum(len(a.boundary[k]["switches"]) for k in ("s0", "s1"))
    asked = 2 * n + 2 * grid + switches * (2 + steps_grid) + 2 * n * (2 + steps)
    print(f"\nrows asked {q['rows_asked']} = 2*{n} + 2*{grid} + {switches}*(2+{steps_grid}) "
          f"+ 2*{n}*(2+{steps}); sent {q['rows_sent']} in {q['requests']} requests of <= {batch}; "
          f"{q['rows_cached']} from the cache")
    assert q["rows_asked"] == asked
    assert q["rows_sent"] == server.rows == q["rows_asked"] - q["rows_cached"]
    # one model call sends its new rows in ceil(new / batch) requests
    new_rows = a.probe.model.ledger.new_rows_per_call
    assert sum(new_rows) == q["rows_sent"]
    assert q["requests"] == server.requests == sum(math.ceil(k / batch) for k in new_rows)
    # a rerun asks nothing: every answer is in the cache
    server.reset()
    again = _audit(loan, server.url, tmp_path / "b")
    assert server.requests == 0 and again.probe.queries["rows_cached"] == asked
    assert again.result.to_dict() == a.result.to_dict()


def test_a_500_then_success_is_retried(loan, tmp_path):
    server = loan["server"]
    server.reset()
    server.script = ["500", "500"]
    a = audit_model_file(server.url, loan["data"], "gender_male", n_profiles=20, endpoint=_options(tmp_path))
    q = a.probe.queries
    assert q["retries"] == 2 and q["requests"] == server.requests == 3
    assert q["rows_sent"] == server.rows == 3 * 40 and q["rows_answered"] == 40
    assert a.fixed.n_pairs == 20


@pytest.mark.parametrize(("script", "match"), [
    (["500"] * 3, r"HTTP 500.*3 attempt"),
    (["sleep"] * 3, r"no answer within the timeout of 0.3 s"),
    (["not_json"], r"not JSON: '<html>"),
    (["short"], r"39 answer\(s\) for 40 row"),
    (["seven"], r"answer 7 .*neither a decision 0/1 nor a probability"),
])
def test_a_broken_server_is_a_clear_error_naming_the_endpoint(loan, tmp_path, script, match):
    server = loan["server"]
    server.reset()
    server.script = list(script)
    opts = _options(tmp_path, timeout=0.3, batch_size=40)
    with pytest.raises(EndpointError, match=match) as err:
        audit_model_file(server.url, loan["data"], "gender_male", n_profiles=20, endpoint=opts)
    assert server.url in str(err.value) and isinstance(err.value, DataError)


def test_a_hostile_server_cannot_fill_the_memory_or_write_to_the_terminal(loan, tmp_path):
    """An oversized answer is refused unread; escape sequences in a reason or body are shown escaped,
    and the body quoted is bounded."""
    server = loan["server"]
    opts = _options(tmp_path, batch_size=40, retries=0)
    server.reset()
    server.script = ["huge"]
    with pytest.raises(EndpointError, match=r"answered more than 1,048,576 bytes for 40 row"):
        audit_model_file(server.url, loan["data"], "gender_male", n_profiles=20, endpoint=opts)
    server.reset()
    server.script = ["ansi"]
    with pytest.raises(EndpointError, match="refused the request: HTTP 400") as err:
        audit_model_file(server.url, loan["data"], "gender_male", n_profiles=20, endpoint=opts)
    text = str(err.value)
    assert "\x1b" not in text and "\r" not in text and "\\x1b[2K" in text
    assert len(text) < 600


def test_the_cli_says_what_went_wrong_exit_2_no_traceback(loan, tmp_path, capsys):
    server = loan["server"]
    server.reset()
    server.script = ["seven"]
    code = main(["twins", "--model", server.url, "--data", str(loan["data"]), "--sensitive-column",
                 "gender_male", "--cache", str(tmp_path / "c.json"), "--retries", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"endpoint {server.url}: answer 7" in err and "kept in" in err


def test_after_a_failure_midway_a_rerun_asks_only_the_missing_rows(loan, tmp_path):
    server = loan["server"]
    server.reset()
    server.script = ["ok", "ok", "500", "500"]  # two batches answered, then the server fails
    opts = _options(tmp_path, batch_size=50, retries=1)
    with pytest.raises(EndpointError, match="100 row\\(s\\) answered so far are kept"):
        audit_model_file(server.url, loan["data"], "gender_male", n_profiles=N_PROFILES, endpoint=opts)
    assert server.answered_rows == 100
    server.reset()
    a = audit_model_file(server.url, loan["data"], "gender_male", n_profiles=N_PROFILES, endpoint=opts)
    assert server.rows == 2 * N_PROFILES - 100 and a.probe.queries["rows_cached"] == 100
    fresh = audit_model_file(loan["models"]["skops"], loan["data"], "gender_male", n_profiles=N_PROFILES)
    assert a.fixed.n_flips == fresh.fixed.n_flips


def test_the_rate_limit_spaces_the_requests(loan, tmp_path):
    loan["server"].reset()
    t0 = time.monotonic()
    a = audit_model_file(loan["server"].url, loan["data"], "gender_male", n_profiles=20,
                         endpoint=_options(tmp_path, batch_size=10, max_rps=20))
    assert a.probe.queries["requests"] == 4 and time.monotonic() - t0 >= 3 / 20


def test_the_cli_prints_the_queries_and_resumes(loan, tmp_path, capsys):
    server = loan["server"]
    server.reset()
    argv = ["twins", "--model", server.url, "--data", str(loan["data"]), "--sensitive-column", "gender_male",
            "--n-profiles", "30", "--cache", str(tmp_path / "c.json"), "--batch-size", "25"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "queries  60 rows sent in 3 requests" in out and "0 of the 60 rows asked" in out
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model_kind"] == "http" and printed["queries"]["rows_sent"] == 0
    assert printed["queries"]["rows_cached"] == 60 and server.requests == 3


def test_an_answer_path_reads_nested_answers(loan, tmp_path):
    server = ModelServer(lambda rows: [{"label": int(r["gender_male"])} for r in rows])
    try:
        probe = load_probe(server.url, feature_columns=["income", "age", "gender_male"],
                           endpoint=_options(tmp_path, answer_path="$.predictions[*].label"))
        frame = pd.DataFrame({"income": [1.0, 2.0], "age": [30.0, 40.0], "gender_male": [0.0, 1.0]})
        assert list(probe.decide(frame)) == [0, 1]
    finally:
        server.close()


def test_the_answer_path_grammar():
    from fairwash.twins.probes_http import select_answers

    doc = {"predictions": [{"label": 1, "p": [0.2, 0.8]}, {"label": 0, "p": [0.9, 0.1]}], "n": 2}
    assert select_answers(doc, "$.predictions[*].label") == [1, 0]
    assert select_answers(doc, "predictions[*].p[1]") == [0.8, 0.1]
    assert select_answers([0, 1], "$[*]") == [0, 1] and select_answers([0, 1], "$") == [0, 1]
    assert select_answers({"out": {"d": [1]}}, "out.d") == [1]
    with pytest.raises(DataError, match="no key 'decisions' at \\$"):
        select_answers(doc, "$.decisions[*]")
    with pytest.raises(DataError, match="selects a int"):
        select_answers(doc, "$.n")
    for bad in ("$..predictions", "$.predictions[x]", "predictions label"):
        with pytest.raises(ValueError, match="answer path"):
            EndpointOptions(answer_path=bad)


def test_the_kind_can_be_named(loan, tmp_path):
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(Path(loan["models"]["skops"]).read_bytes())
    with pytest.raises(DataError, match="--model-kind"):
        load_probe(renamed)
    assert load_probe(renamed, kind="skops").kind == "skops"

"""The benchmark harness works: a tiny end-to-end run, and the pieces it relies on.

Only that it works, never how fast: the real figures come from a full
``python -m benchmarks`` run on a quiet machine (benchmarks/README.md). The
end-to-end run needs h2load (nghttp2-client) and hypercorn (the ``bench``
extra): skipped when missing locally, a failure on CI (``CI=true``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool

from gethy.app import Request, default_app

REPO = Path(__file__).resolve().parent.parent
SERVERS = ["gethy", "bare-h2", "hypercorn"]
WORKLOADS = ["small-get:10", "post-100k:10", "get-1m:10"]


def require_module(name: str) -> None:
    """Skip when a Python package is missing, but fail on CI (as `require_tool`)."""
    try:
        __import__(name)
    except ImportError:
        message = f"{name} is not installed (pip install -e '.[bench]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_end_to_end_tiny_run(tmp_path: Path) -> None:
    require_tool("h2load")
    require_module("hypercorn")
    argv = [
        sys.executable,
        "-m",
        "benchmarks",
        "--rounds=1",
        "--requests=200",
        f"--workloads={','.join(WORKLOADS)}",
        "--memory-clients=10",
        "--memory-body-size=64KiB",
        "--micro-requests=100",
        "--micro-repeats=2",
        f"--output={tmp_path}",
        "--quiet",
    ]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    result = json.loads((tmp_path / "results.json").read_text())
    assert (tmp_path / "results.png").stat().st_size > 0
    assert "req/s median" in done.stdout  # the table was printed
    rows = {(row["workload"], row["server"]): row for row in result["summary"]}
    assert set(rows) == {(w, s) for w in WORKLOADS for s in SERVERS}
    for key, row in rows.items():
        assert row["failed_rounds"] == 0, (key, row["errors"])
        assert row["requests_per_s"]["median"] > 0, key
        assert row["mb_per_s"]["median"] > 0, key
    assert all(m["ok"] and m["failed"] == 0 for m in result["measurements"])
    assert {m["server"] for m in result["memory"]} == set(SERVERS)
    assert all(m["ok"] and m["peak_kib"] >= m["baseline_kib"] > 0 for m in result["memory"])
    assert {c["case"] for c in result["micro"]["cases"]} == {"small-get", "post-100k"}
    assert all(c["ratio_min"] > 0 for c in result["inprocess"]["cases"])
    assert {t["target"].split(":")[0] for t in result["targets"]} >= {"small-get"}


@pytest.mark.parametrize(
    "path, body",
    [
        ("/", b""),
        ("/echo?x=1", b"hello"),
        ("/echo", "ünïcode ✓".encode()),
        ("/echo", b"\xff\xfe binary"),
        ("/bytes/0", b""),
        ("/bytes/100000", b""),
        ("/bytes/nope", b""),
    ],
)
def test_answers_match_gethys_default_app(path: str, body: bytes) -> None:
    """The bare server and hypercorn answer byte for byte like ``python -m gethy serve``."""
    from benchmarks.answers import answer

    headers = ((":method", "POST"), (":path", path), (":scheme", "http"), ("x-q", 'a "q" \\'))
    status, response_headers, data = answer("POST", path, headers, body)
    response = default_app(Request(1, headers, body))
    if isinstance(response.body, bytes):
        expected = response.body
        # gethy's send() appends content-length when the application did not give one.
        expected_headers = [*response.headers, ("content-length", str(len(expected)))]
    else:

        async def collect() -> bytes:
            return b"".join([chunk async for chunk in response.body])  # type: ignore[union-attr]

        expected = asyncio.run(collect())
        expected_headers = list(response.headers)
    assert status == response.status
    assert data == expected
    assert response_headers == expected_headers


def test_parse_report_counts_failures_as_failed() -> None:
    from benchmarks.h2load import parse_report

    good = (
        "finished in 2.50s, 10495.00 req/s, 1.73MB/s\n"
        "requests: 20990 total, 20990 started, 20990 done, 20990 succeeded, 0 failed, "
        "0 errored, 0 timeout\n"
        "status codes: 20990 2xx, 0 3xx, 0 4xx, 0 5xx\n"
    )
    result = parse_report(good)
    assert result.ok and result.requests_per_s == 10495.0
    assert result.mb_per_s == pytest.approx(1.73 * 2**20 / 1e6)  # h2load's MB is 2**20 bytes
    bad = good.replace("20990 succeeded, 0 failed", "20000 succeeded, 990 failed")
    assert not parse_report(bad).ok
    assert "990 failed" in (parse_report(bad).error or "")
    assert not parse_report("connect: Connection refused\n").ok


def test_micro_benchmark_checks_equal_work() -> None:
    """Both sides of the micro-benchmark answer every request with the same bytes."""
    from benchmarks.micro import MicroCase, run_case

    result = run_case(MicroCase("small-get", "GET", "/echo", 0, 50), repeats=1)
    assert result["gethy_frames"] == result["bare_frames"] >= 2 * 50  # HEADERS + DATA each
    assert result["ratio_min"] > 0

"""The attack suite runs, and gethy's server holds every bound it already holds.

One quick run of ``python -m benchmarks.attacks`` over a subset of the attacks
(about 20 s on 2 cores; the whole quick suite takes ~30 s, the full one
minutes: benchmarks/README.md, "Attacks"), then one test per attack and
target. Where today's server misses a target the test is a *strict* xfail
naming the problem: when a fix lands it turns into XPASS(strict), a failure,
and whoever fixed the server removes the mark. A miss that happens in some
runs only is a non-strict xfail (`SOMETIMES_MISSED`), with the reason. Never loosen a target to make
a row pass; the targets live in `benchmarks.attacks.targets`.

The suite needs no external tool (no h2load, no nghttp: raw sockets and h2),
so nothing here is skipped, on CI or off it. Left out of the subset: rows
whose verdict sits near its limit on a busy 2-core machine, which would make
a strict test flaky (the SETTINGS and empty DATA floods' latency, 220-280 ms
of 250; MadeYouReset's, 170-200 ms; the rapid reset's memory, +4 of 5 MiB),
and rows that only repeat a covered case. The rapid reset without END_STREAM
stays although its latency (110-150 ms) is not far from the limit either: on
a machine loaded enough to double it, that test fails first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.attacks.catalog import by_name
from benchmarks.attacks.targets import TARGETS, applicable

REPO = Path(__file__).resolve().parent.parent

SUBSET = [
    "rapid-reset-open",
    "continuation-flood",
    "hpack-bomb",
    "ping-flood",
    "window-update-flood",
    "streams-101",
    "slow-reader",
    "slow-preface",
    "abandoned-uploads",
    "junk-bytes",
    "http1-request",
    "tls-junk",
]

#: (attack, target) -> what today's server does wrong. Remove an entry when its fix lands.
KNOWN_MISSES: dict[tuple[str, str], str] = {}

#: Misses that happen in some runs only: a non-strict xfail, since a strict one would flake.
SOMETIMES_MISSED: dict[tuple[str, str], str] = {}


def cases() -> list[Any]:
    params = []
    for attack in by_name(SUBSET):
        for target in applicable(attack):
            marks = []
            key = (attack.name, target)
            if key in KNOWN_MISSES:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[key]))
            elif key in SOMETIMES_MISSED:
                marks.append(pytest.mark.xfail(strict=False, reason=SOMETIMES_MISSED[key]))
            params.append(
                pytest.param(attack.name, target, marks=marks, id=f"{attack.name}-{target}")
            )
    return params


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One quick run of the subset; its JSON document, with the printed report."""
    out = tmp_path_factory.mktemp("attacks") / "attacks.json"
    argv = [sys.executable, "-m", "benchmarks.attacks", "--quick", "--quiet"]
    argv += ["--attacks", ",".join(SUBSET), "--json", str(out)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"the attack suite failed:\n{done.stdout}\n{done.stderr}"
    document = json.loads(out.read_text())
    document["printed"] = done.stdout
    return document


def rows(suite: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["attack"]: row for row in suite["rows"]}


def test_every_attack_ran_and_was_measured(suite: dict[str, Any]) -> None:
    measured = rows(suite)
    assert list(measured) == SUBSET
    for name, row in measured.items():
        assert row["error"] is None, f"{name} could not be measured: {row['error']}"
        assert row["healthy_gets"] > 0, f"{name}: the healthy client made no GET during it"
        assert row["peak_kib"] >= row["rss_idle_kib"] > 0, f"{name}: no memory readings"
        assert row["received"], f"{name}: says nothing about what the attacker received"
    assert "the attacker received" in suite["printed"]  # the table was printed
    assert "Targets:" in suite["printed"]


@pytest.mark.parametrize("attack, target", cases())
def test_target(suite: dict[str, Any], attack: str, target: str) -> None:
    row = rows(suite)[attack]
    verdicts = {v["target"]: v for v in row["verdicts"]}
    assert target in verdicts, f"{attack} was not judged on {target}: {sorted(verdicts)}"
    verdict = verdicts[target]
    assert verdict["met"], (
        f"{attack} MISSED {target} ({TARGETS[target]}): measured {verdict['value']};"
        f" the attacker received: {row['received']};"
        f" the server ended it: {[line['reason'] for line in row['server_ended']]}"
    )


# ------------------------------------------------------- the instruments, without a server


def test_scanner_reads_what_ends_a_connection() -> None:
    import struct

    from benchmarks.attacks.wire import GOAWAY, PING, FrameScanner, encode_frame, rst_stream

    data = encode_frame(PING, 1, 0, b"12345678") * 3 + rst_stream(5, 0x7)
    data += encode_frame(GOAWAY, 0, 0, struct.pack(">II", 7, 0xB) + b"calm down")
    scanner = FrameScanner()
    for i in range(0, len(data), 5):  # frames split anywhere still count once
        scanner.feed(data[i : i + 5])
    assert scanner.count(PING) == 3 and scanner.frames == 5
    assert scanner.reset_summary() == "RST_STREAM REFUSED_STREAM x1"
    assert scanner.goaway is not None and scanner.goaway.name == "ENHANCE_YOUR_CALM"
    assert (scanner.goaway.last_stream_id, scanner.goaway.debug) == (7, b"calm down")


def test_the_hpack_bomb_decodes_past_any_header_list_limit() -> None:
    import hpack

    from benchmarks.attacks.headers import bomb_block

    decoder = hpack.Decoder(max_header_list_size=2**31)
    fields = decoder.decode(bomb_block(100))
    assert len(fields) == 4 + 1 + 100  # the request, the entry, 100 references to it
    assert sum(len(n) + len(v) + 32 for n, v in fields) > 64 * 1024 * 6


def test_server_log_lines_name_who_ended_the_connection() -> None:
    from benchmarks.attacks.serverlog import connection_lines

    log = (
        "2026-11-29 14:05:04,060 INFO gethy.server: 127.0.0.1:36424 h2c: 20 request(s),"
        " 850 B in, 5.4 MB out, 0.52 s; the client stopped reading for 0.5 s\n"
        "2026-11-29 14:05:07,059 INFO gethy.server: 127.0.0.1:36412 h2c: 1 request(s),"
        " 2.4 kB in, 31.6 kB out, 3.62 s; connection lost: ConnectionResetError\n"
    )
    stopped, reset = connection_lines(log, [36424, 36412])
    assert (stopped.port, stopped.seconds, stopped.by_server) == (36424, 0.52, True)
    assert (reset.port, reset.by_server) == (36412, False)
    assert connection_lines(log, [1]) == []


def test_a_flood_the_server_let_run_is_judged_at_its_full_size() -> None:
    from benchmarks.attacks.targets import judge

    (attack,) = by_name(["ping-flood"])
    row = {
        "sent": 20_000,
        "stopped": False,
        "cpu_s": 0.2,
        "connections": 1,
        "rss_idle_kib": 30_000,
        "rss_later_kib": 30_500,
        "worst_latency_s": 0.05,
        "healthy_failed": 0,
        "tracebacks": 0,
        "get_after": "200",
        "details": {},
    }
    bounded = judge(attack, row)[0]
    assert bounded.target == "bounded" and not bounded.met  # 0.2 s x 10 = 2 s > 1 s
    assert "200,000" in bounded.value
    row["stopped"] = True  # GOAWAY ENHANCE_YOUR_CALM: it cost what it cost
    assert all(v.met for v in judge(attack, row))

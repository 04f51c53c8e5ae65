"""Notebook 10's code outside the notebook: the kept copies, the measuring harness, the profile.

* `gethy.notebook07` and `gethy.notebook10` must be the solved notebooks' own
  code (the capstone imports 07's adapter; the figures and the check tests use
  10's classes), so they are compared with the cells, node for node.
* `gethy.sidebyside` must print the same kind of figures with or without
  h2load and hypercorn: without them it falls back to the committed figures.
* `gethy.h2load` reads the latency line of h2load's report.
"""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path

import nbformat
import pytest

import gethy.notebook07
import gethy.notebook10
from gethy import sidebyside
from gethy.h2load import h2load_path, parse_report

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KEPT_NAMES = {"NOTES", "files"}  # module-level values the application needs
SCRATCH = {"hundred_gets", "event_streams", "show"}  # the notebook's measuring helpers


def _definitions(source: str) -> dict[str, str]:
    """Top-level classes, functions and kept values of `source`: name -> ast dump."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = ast.dump(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in KEPT_NAMES:
                    found[target.id] = ast.dump(node)
    return found


def _notebook_definitions(name: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells:
        if cell.cell_type != "code" or cell.source.lstrip().startswith("await ch"):
            continue
        source = re.sub(r"^[ ]*### (BEGIN|END) SOLUTION\n?", "", cell.source, flags=re.M)
        if "### BEGIN HIDDEN TESTS" in source or "await " in source.split("\n", 1)[0]:
            continue
        try:
            found.update(_definitions(source))
        except SyntaxError:  # a cell with top-level await: no definitions to keep
            continue
    return found


@pytest.mark.parametrize(
    ("module", "notebook"),
    [(gethy.notebook07, "07-asyncio-server.ipynb"), (gethy.notebook10, "10-capstone.ipynb")],
)
def test_the_kept_copy_is_the_solved_notebooks_code(module: object, notebook: str) -> None:
    kept = _definitions(Path(module.__file__).read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    cells = _notebook_definitions(notebook)
    assert kept, "nothing kept"
    for name, dump in kept.items():
        assert name in cells, f"{name} is not defined in {notebook}"
        assert dump == cells[name], f"{name} differs from {notebook}'s cell"


def test_without_h2load_the_committed_figures_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sidebyside, "h2load_path", lambda: None)
    figures = asyncio.run(sidebyside.measure_side_by_side(lambda: asyncio.Protocol()))
    assert not figures.measured_here
    assert figures.servers() == ["yours", "gethy", "hypercorn"]
    for server in figures.servers():
        assert [p.streams for p in figures.of(server)] == list(sidebyside.CONCURRENCIES)
        assert all(p.requests_per_s > 0 and p.latency_mean_ms > 0 for p in figures.of(server))
    variants = asyncio.run(sidebyside.measure_variants({}, "/progress?steps=10"))
    assert not variants.measured_here
    assert variants.servers() == ["flush per chunk", "coalesced"]


def test_without_hypercorn_its_committed_figures_join_the_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The two servers of this process are started and loaded; hypercorn's row is committed."""
    loaded: list[tuple[str, str]] = []

    async def fake_measure(url: str, server: str, streams: int, requests: int | None = None):
        reader, writer = await asyncio.open_connection("127.0.0.1", int(url.split(":")[2][:-1]))
        writer.close()  # the server listens on loopback: that is all we ask here
        loaded.append((server, url.split(":")[1]))
        return sidebyside.Point(server, streams, 1.0, 1.0)

    monkeypatch.setattr(sidebyside, "h2load_path", lambda: "/usr/bin/h2load")
    monkeypatch.setattr(sidebyside, "hypercorn_installed", lambda: False)
    monkeypatch.setattr(sidebyside, "measure", fake_measure)
    factory = lambda: gethy.notebook10.StreamingConnection(gethy.notebook10.capstone_app)  # noqa: E731
    figures = asyncio.run(sidebyside.measure_side_by_side(factory))
    assert not figures.measured_here
    assert figures.servers() == ["yours", "gethy", "hypercorn"]
    assert {host for _, host in loaded} == {"//127.0.0.1"}
    assert [p.requests_per_s for p in figures.of("yours")] == [1.0, 1.0, 1.0]
    assert [p.requests_per_s for p in figures.of("hypercorn")] != [1.0, 1.0, 1.0]


def test_h2loads_latency_line_is_read() -> None:
    report = (
        "finished in 142.42ms, 7021.73 req/s, 1.52MB/s\n"
        "requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, "
        "0 errored, 0 timeout\n"
        "status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx\n"
        "                     min         max         mean         sd        +/- sd\n"
        "time for request:      950us      3.05ms      1.40ms       254us    89.10%\n"
    )
    result = parse_report(report)
    assert result.ok
    assert result.latency_mean_s == pytest.approx(1.40e-3)
    assert result.latency_max_s == pytest.approx(3.05e-3)


@pytest.mark.skipif(h2load_path() is None, reason="h2load is not installed (nghttp2-client)")
def test_h2load_loads_the_capstone_server_on_this_loop() -> None:
    async def run() -> sidebyside.Point:
        factory = lambda: gethy.notebook10.CoalescingConnection(gethy.notebook10.capstone_app)  # noqa: E731
        async with sidebyside.learner_server(factory) as url:
            return await sidebyside.measure(url + "progress?steps=3", "yours", 10, requests=50)

    point = asyncio.run(run())
    assert point.requests_per_s > 0
    assert point.latency_mean_ms > 0

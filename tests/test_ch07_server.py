"""The learner's server from notebook 07, as solved, answers real clients over h2c and TLS.

The notebook shows this with outputs; this test makes it a requirement of the
solved code itself. It takes the code of notebook 07's solution cells (by
nbgrader grade_id) and of the given cells they build on (the imports and the
definitions: cells with no ``await`` and no output), runs it, serves
`MyServerConnection` on 127.0.0.1 with ``loop.create_server`` and asks httpx
over HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) and over TLS with ALPN
``h2`` (§3.2). No notebook kernel: the check is on the code, in one process.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

from gethy.tls import self_signed_certificate, server_context

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "07-asyncio-server.ipynb"
SOLUTIONS = ["ex7_1_bytes", "ex7_2_application", "ex7_3_backpressure", "ex7_4_connection_lost"]
TIMEOUT = 5.0


def learners_code() -> dict[str, Any]:
    """Run the solved notebook's definitions and solution cells; return their namespace."""
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    namespace: dict[str, Any] = {"__name__": "notebook07"}
    found = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            found.append(meta["grade_id"])
        elif meta.get("grade") or cell.outputs or "await" in cell.source:
            continue  # checks and demonstrations: not definitions
        exec(compile(cell.source, f"<07 {meta.get('grade_id')}>", "exec"), namespace)
    assert found == SOLUTIONS, f"notebook 07's solution cells changed: {found}"
    return namespace


@pytest.fixture(scope="module")
def code() -> dict[str, Any]:
    return learners_code()


async def serve_and_get(
    code: dict[str, Any], paths: list[str], *, tls: ssl.SSLContext | None, verify: Any
) -> tuple[list[httpx.Response], list[Any]]:
    """Serve `MyServerConnection(app)` on loopback; GET `paths` at once on one connection."""
    Response = code["Response"]

    async def app(request: Any) -> Any:
        if request.path == "/slow":
            await asyncio.sleep(0.01)
        return Response(200, [("content-type", "text/plain")], f"you asked {request.path}".encode())

    loop = asyncio.get_running_loop()
    problems: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: problems.append(context))
    connections: list[Any] = []

    def factory() -> Any:
        connections.append(code["MyServerConnection"](app))
        return connections[-1]

    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(
            http1=tls is not None, http2=True, verify=verify, timeout=TIMEOUT
        ) as client:
            responses = await asyncio.gather(*(client.get(url + path) for path in paths))
        await asyncio.wait_for(asyncio.gather(*(c.closed.wait() for c in connections)), TIMEOUT)
    finally:
        server.close()
        await server.wait_closed()
    assert not problems, f"asyncio reported errors of the adapter: {problems}"
    return responses, connections


def check(responses: list[httpx.Response], paths: list[str], connections: list[Any]) -> None:
    assert [r.http_version for r in responses] == ["HTTP/2"] * len(paths)
    assert [r.status_code for r in responses] == [200] * len(paths)
    assert [r.text for r in responses] == [f"you asked {path}" for path in paths]
    assert len(connections) == 1, "one connection carries every stream"
    assert connections[0].transport is None and connections[0].tasks == {}


def test_learners_server_answers_httpx_over_h2c(code):
    paths = ["/slow", "/", "/two"]
    responses, connections = asyncio.run(serve_and_get(code, paths, tls=None, verify=True))
    check(responses, paths, connections)


def test_learners_server_answers_httpx_over_tls_with_alpn_h2(code, tmp_path):
    cert = self_signed_certificate(tmp_path)
    context = server_context(cert.certfile, cert.keyfile)
    trust = ssl.create_default_context(cafile=str(cert.certfile))
    paths = ["/slow", "/"]
    responses, connections = asyncio.run(serve_and_get(code, paths, tls=context, verify=trust))
    check(responses, paths, connections)


def test_learners_server_survives_the_seed_articles_crash(code):
    from gethy.crash_client import upload_beside_a_cancelled_request

    async def main() -> str:
        loop = asyncio.get_running_loop()
        problems: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: problems.append(context))
        server = await loop.create_server(
            lambda: code["MyServerConnection"](code["echo"]), "127.0.0.1", 0
        )
        try:
            port = server.sockets[0].getsockname()[1]
            outcome = await upload_beside_a_cancelled_request("127.0.0.1", port)
        finally:
            server.close()
            await server.wait_closed()
        assert not problems, problems
        return str(outcome)

    assert asyncio.run(main()) == (
        "the upload (stream 1) got 200 b'got first half, second half'; connection open"
    )


@pytest.mark.parametrize("tool", ["curl", "nghttp"])
def test_fetch_with_prints_the_same_line_with_or_without_the_tool(code, tool, monkeypatch):
    from gethy import serving

    async def both() -> tuple[str, str]:
        async with serving.serving(lambda: code["MyServerConnection"](code["hello"])) as server:
            with_tool = await serving.fetch_with(tool, server.url)
            monkeypatch.setattr(serving.shutil, "which", lambda name: None)
            without = await serving.fetch_with(tool, server.url)
        return with_tool, without

    with_tool, without = asyncio.run(both())
    assert with_tool == without == f"{tool}: HTTP/2 200, body b'hello over HTTP/2\\n'"

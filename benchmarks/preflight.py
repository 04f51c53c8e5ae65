"""Before measuring: do all servers answer the same thing?

A comparison of requests/s means something only if every server does the same
work per request. So the runner first sends each kind of request to each
server with a small blocking h2 client (h2c, prior knowledge, RFC 9113 §3.3)
and compares status, content-type, content-length and body. The JSON echo is
compared as parsed JSON with ``:authority`` left out (each server listens on
its own port, and header order may differ); everything else byte for byte.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field

import h2.events
from h2.config import H2Configuration
from h2.connection import H2Connection

from benchmarks.workloads import Kind


@dataclass
class Reply:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def fetch(
    host: str, port: int, method: str, path: str, body: bytes = b"", *, timeout: float = 10.0
) -> Reply:
    """One request on a fresh connection; raises on reset, GOAWAY, close or timeout."""
    conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    headers = [
        (":method", method),
        (":path", path),
        (":scheme", "http"),
        (":authority", f"{host}:{port}"),
        ("user-agent", "gethy-benchmarks-preflight"),
    ]
    if body:
        headers.append(("content-length", str(len(body))))
    conn.send_headers(stream_id, headers, end_stream=not body)
    sent = 0
    reply = Reply()
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as sock:
        while True:
            sent = _send_body(conn, stream_id, body, sent)
            sock.sendall(conn.data_to_send())
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete answer to {method} {path} within {timeout} s")
            data = sock.recv(1 << 16)
            if not data:
                raise ConnectionError(f"connection closed before the answer to {method} {path}")
            events = conn.receive_data(data)
            if _read_reply(conn, stream_id, events, reply, f"{method} {path}"):
                return reply


def _send_body(conn: H2Connection, stream_id: int, body: bytes, sent: int) -> int:
    """Queue more of the request body, as the server's windows allow (RFC 9113 §6.9).

    Returns how many body bytes are now sent; the last frame carries END_STREAM.
    """
    while sent < len(body):
        size = min(
            conn.local_flow_control_window(stream_id),
            conn.max_outbound_frame_size,
            len(body) - sent,
        )
        if size <= 0:
            break
        conn.send_data(stream_id, body[sent : sent + size], end_stream=sent + size == len(body))
        sent += size
    return sent


def _read_reply(
    conn: H2Connection, stream_id: int, events: list[h2.events.Event], reply: Reply, request: str
) -> bool:
    """Fill `reply` from h2's events; True once the response is complete.

    Response data is acknowledged as it comes, so that the server's windows
    never run dry; a reset or GOAWAY raises ConnectionError.
    """
    for event in events:
        if isinstance(event, h2.events.ResponseReceived):
            reply.headers = dict(event.headers)  # type: ignore[arg-type]
            reply.status = int(reply.headers[":status"])
        elif isinstance(event, h2.events.DataReceived):
            reply.body += event.data
            conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            return True
        elif isinstance(event, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
            raise ConnectionError(f"{request}: {event}")
    return False


def comparable(kind: Kind, reply: Reply) -> object:
    """What must be equal across servers: status, header names, type, length, body."""
    body: object = reply.body
    if reply.headers.get("content-type") == "application/json":
        document = json.loads(reply.body)
        if isinstance(document, dict) and isinstance(document.get("headers"), dict):
            document["headers"].pop(":authority", None)
            document["headers"].pop("host", None)
        body = document
    return (
        reply.status,
        sorted(reply.headers),  # the same response header names, in any order
        reply.headers.get("content-type"),
        reply.headers.get("content-length"),
        body,
    )


def check_same_answers(servers: dict[str, tuple[str, int]], kinds: list[Kind]) -> dict[str, object]:
    """Ask every server every kind of request; raise ValueError if any answer differs.

    Returns, per kind, the status and body size every server answered with.
    """
    summary: dict[str, object] = {}
    for kind in kinds:
        body = b"x" * kind.body_size
        answers = {
            name: fetch(host, port, kind.method, kind.path, body)
            for name, (host, port) in servers.items()
        }
        for name, reply in answers.items():
            length = reply.headers.get("content-length")
            if reply.status != 200 or length != str(len(reply.body)):
                raise ValueError(
                    f"{name}: {kind.method} {kind.path} answered {reply.status} with "
                    f"content-length {length} and {len(reply.body)} body bytes"
                )
        reference_name, reference = next(iter(answers.items()))
        expected = comparable(kind, reference)
        for name, reply in answers.items():
            if comparable(kind, reply) != expected:
                raise ValueError(
                    f"{name} and {reference_name} answer {kind.method} {kind.path} differently:\n"
                    f"  {name}: {reply.headers} {reply.body[:200]!r}\n"
                    f"  {reference_name}: {reference.headers} {reference.body[:200]!r}"
                )
        summary[kind.name] = {"status": reference.status, "body_bytes": len(reference.body)}
    return summary

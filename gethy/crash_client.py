"""The client that crashes the seed article's asyncio server: a request cancelled at once.

Built in notebook 07 (asyncio server), where the crash is reproduced over a
real loopback socket, then made impossible.

The seed server answers a request the moment h2 reports its end. But h2
parses *all* the frames of one read before it returns any event, so when a
request and its RST_STREAM (RFC 9113 §6.4) arrive in the same read, the
stream is already closed by the time the server tries to answer: h2 raises
``StreamClosedError`` inside ``data_received``, asyncio closes the connection,
and every other stream on it dies with it.

`upload_beside_a_cancelled_request` plays such a client: an upload (POST on
stream 1) is in progress when a GET on stream 3 is sent and cancelled in the
same write (a browser tab navigating away does this), and the upload's last
body bytes follow. A server that keeps the reset to its stream answers the
upload; the seed server does not.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gethy.fake_transport import ScriptedClient

__all__ = ["Outcome", "upload_beside_a_cancelled_request"]


@dataclass(frozen=True)
class Outcome:
    """What the client saw: the upload's response (if any) and whether the server hung up."""

    upload_status: int | None
    upload_body: bytes
    server_closed: bool

    def __str__(self) -> str:
        if self.upload_status is None:
            answer = "no response to the upload (stream 1)"
        else:
            answer = f"the upload (stream 1) got {self.upload_status} {self.upload_body!r}"
        closed = "the server closed the connection" if self.server_closed else "connection open"
        return f"{answer}; {closed}"


async def upload_beside_a_cancelled_request(
    host: str, port: int, *, timeout: float = 2.0
) -> Outcome:
    """Upload on stream 1; meanwhile GET stream 3 and cancel it in the same write."""
    reader, writer = await asyncio.open_connection(host, port)
    client = ScriptedClient()
    try:
        upload = client.request("POST", "/upload", b"first half, ", end=False)
        writer.write(client.send())
        # The server's preface back: our first write was read on its own.
        client.receive(await asyncio.wait_for(reader.read(65536), timeout))
        cancelled = client.request("GET", "/")
        client.reset(cancelled)  # RST_STREAM in the same write as the request
        client.h2.send_data(upload, b"second half", end_stream=True)
        writer.write(client.send())
        closed = await _read_until_answered(reader, client, upload, timeout)
    finally:
        writer.close()
    response = client.responses[upload]
    return Outcome(response.status, bytes(response.body), closed)


async def _read_until_answered(
    reader: asyncio.StreamReader, client: ScriptedClient, stream_id: int, timeout: float
) -> bool:
    """Read until `stream_id`'s response has ended (False) or the server hung up (True)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not client.responses[stream_id].ended:
        left = deadline - loop.time()
        if left <= 0:
            return False
        try:
            data = await asyncio.wait_for(reader.read(65536), left)
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        if not data:
            return True
        client.receive(data)
    return False

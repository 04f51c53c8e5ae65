"""The one application every benchmarked server runs: gethy's default app, byte for byte.

A benchmark compares servers, not applications, so the bare h2 server and the
hypercorn app answer exactly like ``python -m gethy serve`` does by default
(`gethy.app.default_app`), with the same status, the same response headers in
the same order (``server: gethy`` included, so HPACK has the same work) and
the same body:

* ``/bytes/N``: N bytes of a repeating 0..255 pattern, ``application/octet-stream``;
* any other path: the request as JSON, ``{"headers": {...}, "body": "..."}``,
  indented by 4, with a final newline (binary bodies as ``body_base64``),
  formatted as fast as gethy's app does it (`pretty_json`).

This module is deliberately independent of gethy, so the ceiling does not
inherit gethy's costs; the smoke test checks it against `gethy.app.default_app`
and the runner checks the servers' answers on the wire (`benchmarks.preflight`).
The one difference: request trailers are not echoed (no workload sends any).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]

Headers = list[tuple[str, str]]

MAX_BYTES = 1 << 30  # as gethy.app.MAX_BYTES
_CHUNK = 64 * 1024
_FILLER = bytes(i % 256 for i in range(_CHUNK))


def answer(
    method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes
) -> tuple[int, Headers, bytes]:
    """Status, response headers and body for one request, as gethy's default app answers."""
    path = path.split("?", 1)[0]
    if path.startswith("/bytes/"):
        return _bytes(path[len("/bytes/") :])
    document: dict[str, str | dict[str, str]] = {"headers": dict(headers)}
    try:
        document["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        document["body_base64"] = base64.b64encode(body).decode("ascii")
    data = pretty_json(document).encode("ascii") + b"\n"
    # gethy's send() appends content-length after the application's headers.
    return (
        200,
        [
            ("content-type", "application/json"),
            ("server", "gethy"),
            ("content-length", str(len(data))),
        ],
        data,
    )


def pretty_json(document: dict[str, str | dict[str, str]]) -> str:
    """``json.dumps(document, indent=4)`` for strings and dicts of strings, at C speed.

    With ``indent``, the json module uses its pure-Python encoder, which costs
    as much as h2 itself for a small request. gethy's default app formats the
    document by hand around json's C string escaper, so this does too: the
    application must cost the same in every server, or the comparison is of
    JSON encoders rather than of HTTP/2 servers.
    """
    quote = encode_basestring_ascii
    members = []
    for key, value in document.items():
        if isinstance(value, dict):
            inner = ",\n".join(f"        {quote(k)}: {quote(v)}" for k, v in value.items())
            text = f"{{\n{inner}\n    }}" if value else "{}"
        else:
            text = quote(value)
        members.append(f"    {quote(key)}: {text}")
    return "{\n" + ",\n".join(members) + "\n}"


def _bytes(size_text: str) -> tuple[int, Headers, bytes]:
    if not size_text.isdigit() or int(size_text) > MAX_BYTES:
        message = f"/bytes/N needs a whole number N from 0 to {MAX_BYTES}, got {size_text!r}\n"
        data = message.encode("utf-8")
        return (
            400,
            [
                ("content-type", "text/plain; charset=utf-8"),
                ("server", "gethy"),
                ("content-length", str(len(data))),
            ],
            data,
        )
    size = int(size_text)
    data = _filler(size)
    headers = [
        ("content-type", "application/octet-stream"),
        ("content-length", str(size)),
        ("server", "gethy"),
    ]
    return 200, headers, data


@functools.lru_cache(maxsize=4)
def _filler(size: int) -> bytes:
    """N bytes of the pattern, built once per size: gethy's app shares one buffer too."""
    full, rest = divmod(size, _CHUNK)
    return _FILLER * full + _FILLER[:rest]

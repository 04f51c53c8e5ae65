"""Telling an HTTP/1.x request line from the HTTP/2 connection preface.

Built in notebook 07 (asyncio server).
"""

from __future__ import annotations

import re

_HTTP1_REQUEST_LINE = re.compile(rb"^[A-Z]{3,10} [^ \r\n]+ HTTP/1\.[01]\r?\n")


def looks_like_http1(data: bytes) -> bool:
    """True if `data` starts like an HTTP/1.x request line (``GET / HTTP/1.1``).

    A client that does not know the server speaks HTTP/2 sends this where the
    connection preface should be; a server can answer it in HTTP/1.1.
    """
    return bool(_HTTP1_REQUEST_LINE.match(data))

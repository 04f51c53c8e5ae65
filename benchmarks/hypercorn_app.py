"""hypercorn, the production-grade comparison: an ASGI app answering like gethy's default app.

hypercorn (from PyPI, the ``bench`` extra) is itself built on h2, with an ASGI
layer and a task per request on top. The ASGI glue and hypercorn's `Config`
(tuned to measure its steady state, not its limits: see `gethy.asgi_side`) are
shared with notebook 10; the answers come from `benchmarks.answers`, like the
other benchmarked servers'.

Run it alone with ``python -m benchmarks.hypercorn_app --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from benchmarks.answers import answer
from gethy.asgi_side import asgi_app, make_config

__all__ = ["app", "main", "make_config"]

#: The ASGI application: gather the body, answer with `benchmarks.answers.answer`.
app = asgi_app(answer)


def main(argv: list[str] | None = None) -> None:
    from hypercorn.asyncio import serve

    parser = argparse.ArgumentParser(description="hypercorn serving the benchmark's ASGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C when run by hand: exit quietly
        asyncio.run(serve(app, make_config(args.host, args.port)))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

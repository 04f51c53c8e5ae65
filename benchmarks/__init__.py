"""Benchmarks for gethy: is a learner's HTTP/2 server a slow toy? Measure it.

``python -m benchmarks`` starts three servers on loopback ports, drives each
with h2load (nghttp2-client), alternating them round by round, and prints a
table of requests/s and MB/s (median and range over rounds) with each
server's ratio to gethy; it writes ``results/results.json`` and a bar chart
``results/results.png``. The servers:

* ``gethy``: ``python -m gethy serve``, the default application;
* ``bare-h2``: `benchmarks.bare_h2`, the least any server on h2 must do (the ceiling);
* ``hypercorn``: `benchmarks.hypercorn_app`, a production ASGI server on h2.

It also measures each server's peak memory under 100 simultaneous 1 MiB
uploads (`benchmarks.memory`) and the CPU cost of gethy's sans-IO layer over a
bare ``H2Connection`` (`benchmarks.micro`). See ``benchmarks/README.md``.
"""

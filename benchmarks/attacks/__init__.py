"""An attack suite for gethy's server: known HTTP/2 denial-of-service attacks, measured.

``python -m benchmarks.attacks`` runs each attack against a fresh
``python -m gethy serve`` on 127.0.0.1, bounded in frames, bytes and time,
while a healthy client GETs every 20 ms on its own connection, and prints one
row per attack: the server's CPU time and memory, what the attacker got back,
the healthy client's worst latency, whether the server still answers, and the
tracebacks in its log, each judged against fixed targets. See
``benchmarks/README.md``, section "Attacks". The modules:

* `runner` (the command line), `measure` (one row), `targets`, `report`;
* `catalog` (every attack with its sizes), `model` (the types);
* the attacks: `floods`, `resets`, `headers`, `limits`, `slow`, `junk`;
* their tools: `attacker` (one raw connection), `wire` (frames built and
  read), `describe`; the measured: `victim` (the server process and /proc),
  `serverlog` (its one line per connection),
  `healthy` (the healthy client, its own process).
"""

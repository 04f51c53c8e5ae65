"""The server's guards: small rules that keep one client from costing more than its share.

Built in notebook 08 (errors and attacks).

`HTTP2Protocol` enforces what HTTP/2 itself bounds (SETTINGS limits, flow
control, RFC 9113 §5.2, §6.5.2) and the floods it can count itself (rapid
reset and control frames, `gethy.floods`). What it cannot see is time and the socket,
so the asyncio server (`gethy.server`) adds these, one module each, each a
plain class that takes the clock as a number and is tested without a socket:

* `gethy.guards.idle`: a deadline for the client preface, close idle
  connections, cut a client that stopped reading, and GOAWAY a connection
  whose streams stopped moving (slowloris); bytes alone never postpone them;
* `gethy.guards.output`: answer 503 while too many response bytes wait for a
  client that does not read;
* `gethy.guards.uploads`: a server-wide cap on buffered request bodies;
  beyond it, uploading connections are not read until the total drops;
* `gethy.guards.accept`: out of file descriptors, refuse connections quietly,
  with one warning per few seconds instead of a traceback per failed accept;
* `gethy.guards.memory`: after a connection that moved much data closes,
  give the memory it freed back to the system (glibc's malloc_trim);
* `gethy.guards.linger`: after our last frame, keep reading for a moment so
  that a TCP reset does not destroy the GOAWAY (a lingering close).
"""

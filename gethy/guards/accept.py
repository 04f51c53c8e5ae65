"""Out of file descriptors: refuse new connections quietly, and say so now and then.

Built in notebook 08 (errors and attacks).

Every connection costs the process a file descriptor. Once it holds as many
as its limit allows (RLIMIT_NOFILE, ``ulimit -n``), ``accept()`` fails with
EMFILE (ENFILE for the system-wide limit; ENOBUFS or ENOMEM when the kernel is
short of memory). asyncio then stops watching the listening socket for a
second and tries again, and hands each failure to the event loop's exception
handler, whose default logs it with a traceback. In Python 3.11 its accept
loop also goes on calling ``accept()`` up to ``backlog`` times after the first
failure, so a flood of connections made gethy write 21,000 tracebacks (10 MB
of log) in seconds: the log, not the clients, became the problem.

Nothing is lost by refusing: the clients wait in the kernel's listen queue
until a descriptor is free or they give up; idle connections are closed by
their own deadlines (`gethy.guards.idle`), which frees descriptors. What the
operator needs is one line saying that it happens, and how often. So while a
server listens, `AcceptGuard` sits in front of the loop's exception handler:
it recognises these failures on the server's own listening sockets, counts
them (`RefusalCounter`), and logs one WARNING per `LOG_INTERVAL` seconds with
the count. Everything else goes to the handler that was there before.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["ACCEPT_ERRNOS", "LOG_INTERVAL", "AcceptGuard", "RefusalCounter"]

#: What ``accept()`` fails with when the process or the system runs out of resources.
ACCEPT_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: At most one warning per this many seconds, however many accepts fail.
LOG_INTERVAL = 5.0
#: How asyncio's selector loop words the failure (``BaseSelectorEventLoop._accept_connection``).
_ACCEPT_MESSAGE = "socket.accept() out of system resource"
_RETRY_DELAY = 1.0  # asyncio.constants.ACCEPT_RETRY_DELAY

logger = logging.getLogger("gethy.server")

_Handler = Any  # asyncio's exception handler: (loop, context) -> object


class RefusalCounter:
    """Counts refused accepts; says when to report them, at most once per `interval`."""

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        self.interval = interval
        self.total = 0
        self._unreported = 0
        self._next_report = float("-inf")

    def refused(self, now: float) -> int | None:
        """One accept failed at `now`: the number to report now (this one included), or None."""
        self.total += 1
        self._unreported += 1
        if now < self._next_report:
            return None
        count, self._unreported = self._unreported, 0
        self._next_report = now + self.interval
        return count


class AcceptGuard:
    """A loop exception handler for one server's accept failures; the rest is passed on.

    `install` puts it in front of the loop's current handler, `uninstall`
    puts that one back (if nothing was installed after us meanwhile; if
    something was, we stay in the chain and only pass everything on).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: Iterable[Any],
        *,
        interval: float = LOG_INTERVAL,
    ) -> None:
        self._loop = loop
        self._filenos = frozenset(sock.fileno() for sock in sockets)
        self._previous: _Handler | None = None
        self._active = False
        self.refusals = RefusalCounter(interval)

    def install(self) -> None:
        self._previous = self._loop.get_exception_handler()
        self._loop.set_exception_handler(self)
        self._active = True

    def uninstall(self) -> None:
        self._active = False
        if self.refusals.total:
            # asyncio retries a failed accept a second later and does not cancel that
            # retry when the server closes: it would fail on the closed socket. Stay a
            # little longer, to swallow those late retries (see `is_late_retry`).
            self._loop.call_later(_RETRY_DELAY + 0.5, self._restore)
        else:
            self._restore()

    def _restore(self) -> None:
        if self._loop.get_exception_handler() is self:
            self._loop.set_exception_handler(self._previous)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if self.refusals.total and self.is_late_retry(context):
            logger.debug("a late accept retry on a closed listening socket, ignored")
            return
        if self._active and self.is_ours(context):
            count = self.refusals.refused(loop.time())
            if count is not None:
                self._warn(count, context["exception"])
            return
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)

    def is_ours(self, context: dict[str, Any]) -> bool:
        """True for an accept that failed for lack of resources, on one of our sockets."""
        exc = context.get("exception")
        if not isinstance(exc, OSError) or exc.errno not in ACCEPT_ERRNOS:
            return False
        if context.get("message") != _ACCEPT_MESSAGE:
            return False
        sock = context.get("socket")
        try:
            return sock is not None and sock.fileno() in self._filenos
        except OSError:
            return False

    @staticmethod
    def is_late_retry(context: dict[str, Any]) -> bool:
        """asyncio's accept retry, fired after its listening socket was closed (fd -1)."""
        callback = getattr(context.get("handle"), "_callback", None)
        exc = context.get("exception")
        return (
            getattr(callback, "__name__", "") == "_start_serving"
            and isinstance(exc, ValueError)
            and "file descriptor" in str(exc)
        )

    def _warn(self, count: int, exc: OSError) -> None:
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        logger.warning(
            "cannot accept connections: %s (%s); %d refused since the last warning, %d in all. "
            "Clients wait in the listen queue and asyncio retries every second. "
            "Raise the file descriptor limit (ulimit -n) or lower the load.",
            exc.strerror,
            code,
            count,
            self.refusals.total,
        )

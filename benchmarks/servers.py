"""The servers under test, each run as its own process on a free loopback port.

Every server is a subprocess started with ``sys.executable`` (the same Python
and the same packages as the runner), waited for with a bounded timeout, and
always terminated: `RunningServer` is a context manager, and the runner nests
them in an `ExitStack`, so Ctrl-C or an error still ends every process. Each
server gets its own session, so a Ctrl-C in the terminal reaches the runner
only, which then shuts the servers down in order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: ``argv`` gets ``{host}`` and ``{port}`` filled in."""

    name: str
    description: str
    argv: tuple[str, ...]

    def command(self, host: str, port: int) -> list[str]:
        return [sys.executable, *(a.format(host=host, port=port) for a in self.argv)]


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec(
            "gethy",
            "gethy's asyncio server, default application (python -m gethy serve)",
            (
                "-m",
                "gethy",
                "serve",
                "--host",
                "{host}",
                "--port",
                "{port}",
                "--log-level",
                "warning",
            ),
        ),
        ServerSpec(
            "bare-h2",
            "minimal asyncio server on bare h2 (benchmarks/bare_h2.py): the ceiling",
            ("-m", "benchmarks.bare_h2", "--host", "{host}", "--port", "{port}"),
        ),
        ServerSpec(
            "hypercorn",
            "hypercorn with an ASGI app answering the same way (benchmarks/hypercorn_app.py)",
            ("-m", "benchmarks.hypercorn_app", "--host", "{host}", "--port", "{port}"),
        ),
    )
}


class ServerError(RuntimeError):
    """A server did not start, or died."""


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """One server process: started by `__enter__`, always ended by `__exit__`."""

    def __init__(self, spec: ServerSpec, *, host: str = HOST, start_timeout: float = 20.0) -> None:
        self.spec = spec
        self.host = host
        self.start_timeout = start_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        # The server's output, for error messages; closed in __exit__.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> RunningServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()

    def start(self) -> None:
        """Start the process and wait (bounded) until its port accepts connections."""
        self.port = free_port(self.host)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.process = subprocess.Popen(
            self.spec.command(self.host, self.port),
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops us in order
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerError(f"{self.name} did not listen within {self.start_timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 5 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Everything the server printed so far (stdout and stderr).

        Read with ``pread``, which leaves the file offset alone: the server
        shares that offset, and a seek here would make its next line overwrite
        the start of the log.
        """
        fd = self._log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server printed (for error messages)."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def memory_kib(self) -> dict[str, int]:
        """VmRSS (now) and VmHWM (peak resident set so far) of the process, in KiB."""
        if self.process is None:
            raise ServerError(f"{self.name} is not running")
        result: dict[str, int] = {}
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                result[key] = int(value.split()[0])
        return result

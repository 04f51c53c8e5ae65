"""``python -m gethy serve`` as a user runs it: a real process, its banner, curl, Ctrl-C."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import TIMEOUT, require_tool

from gethy.__main__ import build_parser, main

REPO = Path(__file__).resolve().parent.parent


class ServerProcess:
    """``python -m gethy serve ARGS`` in a subprocess, with its output collected by threads."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "gethy", "serve", "--port", "0", *args]
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._collect, args=(self.process.stdout, self.stdout)),
            threading.Thread(target=self._collect, args=(self.process.stderr, self.stderr)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    @staticmethod
    def _collect(stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))

    def wait_for_line(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stdout):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        pytest.fail(f"no line matching {pattern!r}; stdout={self.stdout} stderr={self.stderr}")

    @property
    def url(self) -> str:
        return self.wait_for_line(r"on (\S+/)$").group(1)

    def stop(self, timeout: float = TIMEOUT) -> int:
        """Ctrl-C, then wait for a clean exit; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(TIMEOUT)
        for reader in self._readers:
            reader.join(TIMEOUT)
        return code

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.stop()


def run_printed(command: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run a command exactly as the banner printed it (plus `extra` options for the test)."""
    words = shlex.split(command)
    words[0] = require_tool(words[0])
    return subprocess.run(
        [words[0], "-sS", "--max-time", "10", *extra, *words[1:]],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
    )


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--tls", "--certfile", "--keyfile", "--idle-timeout"):
        assert option in text
    words_to_find = ("--log-level", "--grace", "prior knowledge", "ALPN", "self-signed", "Ctrl-C")
    for words in (*words_to_find, "--max-server-request-buffer"):
        assert words in text
    assert "curl --http2-prior-knowledge" in text and "/bytes/N" in text


def test_top_level_help_lists_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "serve" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main([])  # a command is required
    assert exit_info.value.code == 2


def test_console_script_points_at_main() -> None:
    scripts = importlib.metadata.entry_points(group="console_scripts")
    (entry,) = [s for s in scripts if s.name == "gethy"]
    assert entry.value == "gethy.__main__:main"
    assert entry.load() is main
    script = shutil.which("gethy", path=str(Path(sys.executable).parent))
    if script is not None:  # installed (pip install -e .): it runs
        result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode == 0 and "serve" in result.stdout


def test_keyfile_without_certfile_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--keyfile", "key.pem"])
    assert exit_info.value.code == 2


def test_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.tls, args.log_level) == ("127.0.0.1", 8000, False, "info")


def test_the_server_request_buffer_takes_a_size() -> None:
    args = build_parser().parse_args(["serve"])
    assert args.max_server_request_buffer == 256 * 1024 * 1024
    args = build_parser().parse_args(["serve", "--max-server-request-buffer", "64MiB"])
    assert args.max_server_request_buffer == 64 * 1024 * 1024
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", "--max-server-request-buffer", "lots"])
    assert exit_info.value.code == 2


def test_serve_then_the_printed_curl_command_works() -> None:
    require_tool("curl")
    with ServerProcess() as server:
        url = server.url
        assert url.startswith("http://127.0.0.1:")
        command = server.wait_for_line(r"try:\s+(curl .*)$").group(1)
        assert command == f"curl --http2-prior-knowledge {url}"
        result = run_printed(command, "-w", "\n%{http_version}")
        assert result.returncode == 0, result.stderr
        body, _, version = result.stdout.rpartition("\n")
        assert version == "2"
        assert json.loads(body)["headers"][":path"] == "/"
        code = server.stop()
    assert code == 0
    assert "gethy stopped." in server.stdout
    log = "\n".join(server.stderr)
    assert "Traceback" not in log
    assert re.search(r"INFO gethy\.server: 127\.0\.0\.1:\d+ h2c: 1 request\(s\)", log), log


def test_http11_to_the_cli_server_gets_the_hint() -> None:
    curl = require_tool("curl")
    with ServerProcess() as server:
        result = subprocess.run(
            [curl, "-sS", "--max-time", "10", server.url],
            capture_output=True,
            text=True,
            timeout=TIMEOUT + 5,
        )
        assert f"curl --http2-prior-knowledge {server.url}" in result.stdout
        assert server.stop() == 0
    assert "Traceback" not in "\n".join(server.stderr)


def test_tls_with_a_self_signed_certificate() -> None:
    require_tool("curl")
    with ServerProcess("--tls") as server:
        url = server.url
        assert url.startswith("https://127.0.0.1:")
        certfile = Path(
            server.wait_for_line(r"certificate for localhost and 127\.0\.0\.1: (\S+)").group(1)
        )
        assert certfile.is_file()
        command = server.wait_for_line(r"try:\s+(curl .*)$").group(1)
        assert command == f"curl -k {url}"
        result = run_printed(command, "-v", "-w", "\n%{http_version}")
        assert result.returncode == 0, result.stderr
        assert result.stdout.endswith("\n2")
        assert "ALPN: server accepted h2" in result.stderr
        trusted = server.wait_for_line(r"or\s+(curl --cacert .*)$").group(1)
        assert run_printed(trusted).returncode == 0
        context = ssl.create_default_context(cafile=str(certfile))
        with httpx.Client(http2=True, verify=context, timeout=TIMEOUT) as client:
            response = client.get(url.replace("127.0.0.1", "localhost"))
            alpn = response.extensions["network_stream"].get_extra_info("ssl_object")
            assert alpn.selected_alpn_protocol() == "h2"
        assert response.http_version == "HTTP/2"
        assert server.stop() == 0
    assert not certfile.parent.exists(), "the temporary certificate was left behind"
    log = "\n".join(server.stderr)
    assert "Traceback" not in log and " h2: 1 request(s)" in log


def test_tls_with_given_certificate(tmp_path: Path) -> None:
    from gethy.tls import self_signed_certificate

    certificate = self_signed_certificate(tmp_path)
    with ServerProcess(
        "--certfile", str(certificate.certfile), "--keyfile", str(certificate.keyfile)
    ) as server:
        context = ssl.create_default_context(cafile=str(certificate.certfile))
        with httpx.Client(http2=True, verify=context, timeout=TIMEOUT) as client:
            response = client.get(server.url.replace("127.0.0.1", "localhost"))
        assert response.http_version == "HTTP/2"
        assert not any("self-signed" in line for line in server.stdout)
        assert server.stop() == 0
    assert certificate.certfile.exists()  # the user's files are never deleted


def test_ctrl_c_lets_a_download_in_flight_finish() -> None:
    curl = require_tool("curl")
    size = 20_000_000
    with ServerProcess("--grace", "8") as server:
        download = subprocess.Popen(
            [
                curl,
                "-sS",
                "--http2-prior-knowledge",
                "--limit-rate",
                "10M",
                "--max-time",
                "10",
                "-o",
                "/dev/null",
                "-w",
                "%{size_download}",
                f"{server.url}bytes/{size}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.5)  # the download is under way (10 MB/s: it needs 2 s)
        started = time.monotonic()
        code = server.stop(timeout=TIMEOUT + 8)
        out, err = download.communicate(timeout=TIMEOUT)
    assert code == 0
    assert download.returncode == 0, err
    assert int(out) == size
    assert 0.5 < time.monotonic() - started < 8
    assert any("shutting down gracefully" in line for line in server.stdout)


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "gethy", "serve", "--port", str(port)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr

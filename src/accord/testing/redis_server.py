"""A private redis-server on a free loopback port, without persistence, for tests
and benchmarks: ``with RedisServer() as server: accord.connect(server.url)``.

Fault tests use ``kill()``, ``pause()`` / ``resume()`` (SIGSTOP/SIGCONT) and
``restart()``. A server may also require a password, or speak only TLS (with
certificates from a test CA, see :func:`tls_files`, which needs ``trustme``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import redis


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the server's certificate and key, and the CA that signed it."""

    cert: Path
    key: Path
    ca: Path


def tls_files(workdir: Path) -> TlsFiles:
    """A certificate for 127.0.0.1 and localhost from a CA made for this test run."""
    import trustme  # only the TLS tests need it

    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(workdir / "server.crt", workdir / "server.key", workdir / "ca.crt")
    issued.cert_chain_pems[0].write_to_path(str(files.cert))
    issued.private_key_pem.write_to_path(str(files.key))
    ca.cert_pem.write_to_path(str(files.ca))
    return files


class RedisServer:
    """One redis-server process; ``workdir`` (default: a temporary directory, removed
    when a ``with`` block ends) holds its log. Raises FileNotFoundError when
    redis-server is not on PATH."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        password: str | None = None,
        tls: TlsFiles | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not on PATH (apt-get install redis-server)")
        self.binary = binary
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="accord-redis-"))
        self.port = free_port()
        self.password = password
        self.tls = tls
        self.args = list(args)  # more redis-server options
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """How a client reaches it: ``rediss://`` trusting the test CA when it speaks TLS."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        if self.tls is None:
            return f"redis://{auth}127.0.0.1:{self.port}/0"
        return f"rediss://{auth}127.0.0.1:{self.port}/0?ssl_ca_certs={quote(str(self.tls.ca))}"

    def start(self) -> None:
        args = [
            self.binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log"),
        ]  # fmt: skip
        if self.tls is None:
            args += ["--port", str(self.port)]
        else:
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no",
                     "--tls-cert-file", str(self.tls.cert), "--tls-key-file", str(self.tls.key),
                     "--tls-ca-cert-file", str(self.tls.ca)]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        args += self.args
        # its own session: a Ctrl-C in the terminal stops the tests or the benchmark,
        # which then stop the server after their clients, not the server under them
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2, socket_timeout=1)
            try:
                if client.ping():
                    return
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.02)
            finally:
                client.close()
        self.kill()
        raise RuntimeError(
            f"redis-server did not start on port {self.port}; see {self.workdir / 'redis.log'}"
        )

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        """Stop the server (killing it after 5 s); ``start()`` may start it again."""
        if self.proc is not None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

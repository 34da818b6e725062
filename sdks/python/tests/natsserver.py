"""Starts a real nats-server (JetStream, temp store, free loopback port) for the tests; stops it by PID."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def server_binary() -> str:
    for candidate in (os.environ.get("NATS_SERVER_BIN"), shutil.which("nats-server"),
                      str(Path.home() / ".cache/session-bot/bin/nats-server")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("nats-server not found: set NATS_SERVER_BIN or put nats-server on PATH (run `. /root/sbenv.sh`)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    def __init__(self, *, max_payload: int | None = None, extra_config: str = "", env: dict[str, str] | None = None):
        self.dir = tempfile.mkdtemp(prefix="sbpy-nats-")
        self.port = free_port()
        conf = Path(self.dir) / "server.conf"
        lines = [f"listen: 127.0.0.1:{self.port}", f'jetstream {{ store_dir: "{self.dir}/js", max_memory_store: 64MB, max_file_store: 256MB }}']
        if max_payload is not None:
            lines.append(f"max_payload: {max_payload}")
        if extra_config:
            lines.append(extra_config)
        conf.write_text("\n".join(lines) + "\n")
        self.log = open(Path(self.dir) / "server.log", "wb")
        self.proc = subprocess.Popen([server_binary(), "-c", str(conf)], stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited: {(Path(self.dir) / 'server.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("nats-server did not start within 15 s")

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

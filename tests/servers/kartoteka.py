"""`kartoteka serve` (or `kartoteka indexer`) as a real process on 127.0.0.1, as an operator starts it.

The process's JSON logs (stderr) go to a file: a pipe nobody reads would fill up and stall the server,
and tests read the logs afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import free_ports

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


def kartoteka_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any KARTOTEKA_* of the developer's, plus `settings`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")} | {
        "KARTOTEKA_DATA_DIR": str(data_dir),
        "KARTOTEKA_SECRET_KEY": "serve-test-secret",
        **settings,
    }


@dataclass
class KartotekaProcess:
    """A running `kartoteka` command; `returncode` is set once it has been stopped."""

    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str | None
    returncode: int | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until /healthz answers 200; fails with the log's tail if the process dies or takes too long."""
        assert self.base_url is not None, "only `serve` answers /healthz"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, f"kartoteka exited early:\n{self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"kartoteka did not become healthy:\n{self.log()[-3000:]}"
            time.sleep(0.1)

    def stop(self) -> int:
        """SIGTERM, as an orchestrator stops it; killed only if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode = self.process.returncode
        return self.returncode


@contextmanager
def running_kartoteka(
    data_dir: Path,
    *arguments: str,
    environment: Mapping[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[KartotekaProcess]:
    """Run `kartoteka serve` on a free port (or another command, e.g. `indexer`) until the block ends.

    `serve` is waited for until healthy; the process is stopped with SIGTERM on the way out.
    """
    command = list(arguments) or ["serve"]
    base_url = None
    if command[0] == "serve":
        (port,) = free_ports(1)
        command += ["--host", "127.0.0.1", "--port", str(port)]
        base_url = f"http://127.0.0.1:{port}"
    log_path = log_path or data_dir.parent / f"kartoteka-{command[0]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "kartoteka", *command],
            env=dict(environment) if environment is not None else kartoteka_environment(data_dir),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    running = KartotekaProcess(process, log_path, base_url)
    try:
        if base_url is not None:
            running.wait_healthy()
        yield running
    finally:
        running.stop()

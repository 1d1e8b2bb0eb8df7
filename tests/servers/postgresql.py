"""A throwaway PostgreSQL cluster for the test session, and a fresh database per test.

``postgres_url`` uses ``KARTOTEKA_TEST_DATABASE_URL`` when it is set (a server someone
else runs); otherwise it creates a cluster with ``initdb`` in a temporary directory,
listening on 127.0.0.1 on a free port with trust authentication and durability switched
off (fsync, synchronous commit, full-page writes: a crash only loses throwaway data), and
removes it at the end of the session. As root, the server binaries run as the
``postgres`` user through ``runuser``, since PostgreSQL refuses to run as root.
"""

import asyncio
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from tests.servers import free_ports, log_tail, server_unavailable

DATABASE_URL_VARIABLE = "KARTOTEKA_TEST_DATABASE_URL"
SUPERUSER = "kartoteka"
DATABASE = "kartoteka"
START_TIMEOUT_S = 60
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


class ClusterError(RuntimeError):
    """The throwaway cluster could not be created or started; the message says why."""


def find_postgres_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``: from PATH (following
    symlinks into the real installation), else the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def version(directory: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", directory)
        return int(match.group(1)) if match else 0

    candidates += [Path(d) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def asyncpg_dsn(url: URL) -> str:
    """The libpq-style DSN asyncpg takes, from a SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _normalized(url_text: str) -> str:
    """Accept plain ``postgresql://`` URLs too; the app needs the asyncpg driver."""
    url = make_url(url_text)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+asyncpg")
    return url.render_as_string(hide_password=False)


CLUSTER_PARENT = Path("/tmp")
CLUSTER_PREFIX = "kartoteka-pg-"
OWNER_FILE = "owner.pid"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class ThrowawayCluster:
    """initdb, start, stop and remove one PostgreSQL cluster under /tmp."""

    def __init__(self, bin_dir: Path, base: Path | None = None) -> None:
        self.bin_dir = bin_dir
        # PostgreSQL refuses to run as root: hand the cluster to the postgres user.
        self.as_root = os.geteuid() == 0
        self.run_as = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        self.data_owner: pwd.struct_passwd | None = None
        if self.as_root:
            try:
                self.data_owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterError("running as root and there is no postgres user to run the server") from None
        self.base = base or self._make_base()
        self.data = self.base / "data"
        self.sockets = self.base / "sockets"
        self.log = self.base / "postgres.log"
        self.port = 0

    def _make_base(self) -> Path:
        # Under /tmp, not $TMPDIR: every directory on the way must be traversable by postgres.
        base = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX, dir=CLUSTER_PARENT))
        base.chmod(0o755)
        # Who to ask whether this cluster is still wanted; see reap_abandoned_clusters().
        (base / OWNER_FILE).write_text(str(os.getpid()))
        (base / "sockets").mkdir(mode=0o755)
        if self.data_owner is not None:
            for path in (base, base / "sockets"):
                os.chown(path, self.data_owner.pw_uid, self.data_owner.pw_gid)
        return base

    def _run(self, tool: str, *args: str, timeout: float) -> None:
        command = [*self.run_as, str(self.bin_dir / tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise ClusterError(f"{tool} failed ({result.returncode}): {output}\nlog tail:\n{log_tail(self.log)}")

    def start(self) -> None:
        self._run(
            "initdb",
            f"--pgdata={self.data}",
            f"--username={SUPERUSER}",
            "--auth=trust",
            "--encoding=UTF8",
            # Not the C locale: lower()/ILIKE must understand Polish letters.
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
            timeout=120,
        )
        for attempt in range(1, START_ATTEMPTS + 1):
            (self.port,) = free_ports(1)
            settings = " ".join(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items())
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} {settings}"
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    f"--pgdata={self.data}",
                    f"--log={self.log}",
                    f"--options={options}",
                    "--wait",
                    f"--timeout={START_TIMEOUT_S}",
                    timeout=START_TIMEOUT_S + 10,
                )
                return
            except ClusterError:
                if attempt == START_ATTEMPTS:
                    raise

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", f"--pgdata={self.data}", "--mode=immediate", "--wait", timeout=60)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    @classmethod
    def reap_abandoned(cls, bin_dir: Path) -> int:
        """Stop and remove clusters whose session died before its teardown (a CI timeout
        kills pytest outright, and pg_ctl's server is not its child); return how many.

        Only clusters whose owning process is gone are touched, so concurrent sessions
        are safe.
        """
        reaped = 0
        for owner_file in CLUSTER_PARENT.glob(f"{CLUSTER_PREFIX}*/{OWNER_FILE}"):
            try:
                owner = int(owner_file.read_text())
            except (OSError, ValueError):
                continue
            if _process_alive(owner):
                continue
            try:
                cls(bin_dir, base=owner_file.parent).stop()
            except (ClusterError, OSError, subprocess.TimeoutExpired):
                continue
            reaped += 1
        return reaped

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"


async def execute_statement(url_text: str, statement: str) -> None:
    """Run one SQL statement on the database a SQLAlchemy URL names, on a connection of its own."""
    connection = await asyncpg.connect(asyncpg_dsn(make_url(url_text)))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


_execute = execute_statement  # the name tests/conftest.py imports


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An asyncpg SQLAlchemy URL of a PostgreSQL database for the whole session.

    ``KARTOTEKA_TEST_DATABASE_URL`` when set, else a throwaway local cluster. Skips (or
    fails when ``CI=true``) if neither is available.
    """
    configured = os.environ.get(DATABASE_URL_VARIABLE)
    if configured:
        yield _normalized(configured)
        return
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        server_unavailable(
            f"PostgreSQL unavailable: initdb/pg_ctl not found (install postgresql or set {DATABASE_URL_VARIABLE})"
        )
    try:
        ThrowawayCluster.reap_abandoned(bin_dir)
        cluster = ThrowawayCluster(bin_dir)
    except (ClusterError, OSError) as exc:
        server_unavailable(f"PostgreSQL unavailable: {exc}")
    try:
        try:
            cluster.start()
            maintenance = cluster.url.rsplit("/", 1)[0] + "/postgres"
            asyncio.run(execute_statement(maintenance, f'CREATE DATABASE "{DATABASE}"'))
        except (ClusterError, OSError, subprocess.TimeoutExpired, asyncpg.PostgresError) as exc:
            server_unavailable(f"PostgreSQL unavailable: {exc}")
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
async def fresh_postgres_database(postgres_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database made for this test alone and dropped after it.

    Same server and credentials as ``postgres_url``; tests run migrations into it freely.
    """
    name = f"kartoteka_test_{uuid.uuid4().hex[:12]}"
    await execute_statement(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a test that forgot to dispose of its engine must not block the drop.
        await execute_statement(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""The operating contract's commands, run as an operator runs them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kartoteka.settings import Settings


def kartoteka(data_dir: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")} | {
        "KARTOTEKA_DATA_DIR": str(data_dir),
        "KARTOTEKA_SECRET_KEY": "cli-test-secret-key",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "kartoteka", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_db_upgrade_creates_the_embedded_database(data_dir):
    result = kartoteka(data_dir, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (data_dir / "kartoteka.sqlite3").exists()


def test_user_and_group_commands(data_dir):
    created = kartoteka(data_dir, "user", "create", "admin", "--admin", "--password-stdin", stdin="a-long-password\n")
    assert created.returncode == 0, created.stderr
    assert "admin" in created.stdout
    again = kartoteka(data_dir, "user", "create", "admin", "--password-stdin", stdin="a-long-password\n")
    assert again.returncode == 2
    assert "taken" in again.stderr
    assert "Traceback" not in again.stderr
    assert kartoteka(data_dir, "group", "create", "Księgowość").returncode == 0
    added = kartoteka(data_dir, "group", "add", "Księgowość", "admin")
    assert (added.returncode, added.stdout.strip()) == (0, "admin added to Księgowość")
    again = kartoteka(data_dir, "group", "add", "księgowość", "admin")
    assert (again.returncode, again.stdout.strip()) == (0, "admin was in księgowość already")
    removed = kartoteka(data_dir, "group", "remove", "Księgowość", "admin")
    assert (removed.returncode, removed.stdout.strip()) == (0, "admin taken out of Księgowość")
    twice = kartoteka(data_dir, "group", "remove", "Księgowość", "admin")
    assert (twice.returncode, twice.stdout.strip()) == (0, "admin was not in Księgowość")
    assert (
        kartoteka(data_dir, "user", "passwd", "admin", "--password-stdin", stdin="another-long-one\n").returncode == 0
    )
    assert kartoteka(data_dir, "user", "create", "bob", "--password-stdin", stdin="a-long-password\n").returncode == 0
    assert kartoteka(data_dir, "user", "disable", "bob").returncode == 0
    assert kartoteka(data_dir, "user", "list").stdout.splitlines() == ["admin (administrator)", "bob (disabled)"]
    told = kartoteka(data_dir, "user", "passwd", "bob", "--password-stdin", stdin="another-long-one\n")
    assert told.returncode == 0 and "bob is disabled" in told.stderr
    assert kartoteka(data_dir, "user", "enable", "bob").returncode == 0
    assert kartoteka(data_dir, "user", "list").stdout.splitlines() == ["admin (administrator)", "bob"]
    missing = kartoteka(data_dir, "group", "add", "Księgowość", "nobody")
    assert missing.returncode == 2 and "nobody" in missing.stderr


def test_a_short_password_is_refused_with_one_line(data_dir):
    result = kartoteka(data_dir, "user", "create", "bob", "--password-stdin", stdin="short\n")
    assert result.returncode == 2
    assert "at least" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_username_with_diacritics_is_refused_saying_which_letters_are_allowed(data_dir):
    result = kartoteka(data_dir, "user", "create", "zażółć", "--password-stdin", stdin="a-long-password\n")
    assert "no diacritics" in _one_line_failure(result)


def _one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_malformed_database_url_stops_start_up_with_one_line(data_dir):
    line = _one_line_failure(kartoteka(data_dir, "serve", KARTOTEKA_DATABASE_URL="nonsense://"))
    assert "database" in line


def test_an_unreachable_s3_endpoint_stops_start_up_with_one_line(data_dir):
    line = _one_line_failure(
        kartoteka(
            data_dir,
            "serve",
            KARTOTEKA_STORAGE_URL="s3://kartoteka",
            KARTOTEKA_S3_ENDPOINT="127.0.0.1:9",
            KARTOTEKA_S3_ACCESS_KEY="x",
            KARTOTEKA_S3_SECRET_KEY="y",
            KARTOTEKA_S3_SECURE="false",
        )
    )
    assert "blob store" in line


def test_an_unwritable_data_dir_stops_start_up_with_one_line():
    # /proc refuses new directories even to root, so this holds whoever runs the suite.
    line = _one_line_failure(kartoteka(Path("/proc/kartoteka-data"), "serve"))
    assert "not writable" in line


def test_a_data_dir_that_is_a_file_stops_start_up_with_one_line(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    line = _one_line_failure(kartoteka(not_a_dir, "serve"))
    assert "not writable" in line


def test_gc_removes_orphans_and_fsck_finds_damage(data_dir):
    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    orphan = b"nobody points at me"
    digest = hashlib.sha256(orphan).hexdigest()
    path = data_dir / "blobs" / digest[:2] / digest[2:4] / digest
    path.parent.mkdir(parents=True)
    path.write_bytes(orphan)
    # --force: the archive holds no version, so every blob in it is garbage (see the test below).
    young = kartoteka(data_dir, "gc", "--force")
    assert young.returncode == 0, young.stderr
    assert path.exists(), "a blob younger than the grace period is kept"
    collected = kartoteka(data_dir, "gc", "--grace-seconds", "0", "--force")
    assert collected.returncode == 0, collected.stderr
    assert "deleted 1" in collected.stdout
    assert not path.exists()
    checked = kartoteka(data_dir, "fsck")
    assert checked.returncode == 0
    assert "0 missing, 0 corrupt" in checked.stdout


def test_reindex_reports_what_it_indexed(data_dir):
    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    result = kartoteka(data_dir, "reindex")
    assert result.returncode == 0, result.stderr
    assert "reindexed 0 documents" in result.stdout


def test_an_error_with_square_brackets_is_printed_as_it_is(data_dir):
    # The message carries `s3://bucket[/prefix]`: taken for rich markup, it used to crash the CLI.
    line = _one_line_failure(kartoteka(data_dir, "serve", KARTOTEKA_STORAGE_URL="ftp://x"))
    assert "s3://bucket[/prefix]" in line


def test_a_name_with_square_brackets_is_echoed_as_it_is(data_dir):
    result = kartoteka(data_dir, "group", "create", "[bold]Zarząd[/bold]")
    assert result.returncode == 0, result.stderr
    assert "group [bold]Zarząd[/bold] created" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("KARTOTEKA_MAX_UPLOAD_BYTES", "-1", "greater than 0"),
        ("KARTOTEKA_MAX_UPLOAD_BYTES", "abc", "valid integer"),
        ("KARTOTEKA_S3_SECURE", "maybe", "valid boolean"),
        ("KARTOTEKA_LOCK_TTL", "0", "longer than 0 s"),
        ("KARTOTEKA_LOCK_TTL_SECONDS", "soon", "valid timedelta"),
        ("KARTOTEKA_LOG_LEVEL", "LOUD", "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
        ("KARTOTEKA_TIME_ZONE", "Europe/Gotham", "not a time zone such as Europe/Warsaw"),
        ("KARTOTEKA_CORS_ORIGINS", "crm.example.com", "not an origin such as https://crm.example.com"),
        ("KARTOTEKA_CORS_ORIGINS", '["https://crm.example.com"', "not a JSON list of origins"),
        ("KARTOTEKA_CORS_ORIGINS", "https://crm.example.com/app", "not an origin"),
    ],
)
def test_an_invalid_setting_is_named_with_the_reason(data_dir, variable, value, reason):
    line = _one_line_failure(kartoteka(data_dir, "serve", **{variable: value}))
    assert variable in line
    assert reason in line


def test_a_log_level_in_lower_case_is_accepted(data_dir):
    result = kartoteka(data_dir, "db", "upgrade", KARTOTEKA_LOG_LEVEL="warning")
    assert result.returncode == 0, result.stderr


def test_cors_origins_are_a_json_list_or_separated_by_commas(monkeypatch):
    for given in (
        '["https://crm.example.com", "http://localhost:5173"]',
        "https://crm.example.com, http://localhost:5173",
    ):
        monkeypatch.setenv("KARTOTEKA_CORS_ORIGINS", given)
        assert Settings().cors_origins == ["https://crm.example.com", "http://localhost:5173"]


def test_the_lock_lease_is_given_in_seconds_or_as_a_duration_under_either_name(monkeypatch):
    from datetime import timedelta

    from kartoteka.settings import misspelt_settings

    assert Settings().lock_ttl is None
    for given in ("900", " 900 ", "900.0", "PT15M", "00:15:00"):
        monkeypatch.setenv("KARTOTEKA_LOCK_TTL", given)
        assert Settings().lock_ttl == timedelta(minutes=15), given
    monkeypatch.setenv("KARTOTEKA_LOCK_TTL", "")
    assert Settings().lock_ttl is None
    monkeypatch.delenv("KARTOTEKA_LOCK_TTL")
    monkeypatch.setenv("KARTOTEKA_LOCK_TTL_SECONDS", "3600")  # its older name
    assert Settings().lock_ttl == timedelta(hours=1)
    assert misspelt_settings({"KARTOTEKA_LOCK_TTL_SECONDS": "3600", "KARTOTEKA_LOCK_TTL": "60"}) == []
    for wrong in ("-5", "PT0S"):
        monkeypatch.setenv("KARTOTEKA_LOCK_TTL_SECONDS", wrong)
        with pytest.raises(ValueError, match="longer than 0 s"):
            Settings()


def test_the_public_url_is_an_http_address_without_query(monkeypatch):
    monkeypatch.setenv("KARTOTEKA_PUBLIC_URL", "https://dms.example.com/kartoteka/")
    assert Settings().public_url == "https://dms.example.com/kartoteka"
    for wrong in ("dms.example.com", "https://dms.example.com/?x=1", "ftp://dms.example.com"):
        monkeypatch.setenv("KARTOTEKA_PUBLIC_URL", wrong)
        with pytest.raises(ValueError, match="not an address"):
            Settings()


@pytest.mark.parametrize("command", ["serve", "fsck", "user disable nobody"])
@pytest.mark.parametrize("scheme", ["postgresql+asyncpg", "postgresql", "postgres"])
def test_an_unreachable_database_is_one_line_without_the_password(data_dir, command, scheme):
    # Nothing listens on port 1.
    url = f"{scheme}://kartoteka:s3cret-pw@127.0.0.1:1/kartoteka"
    line = _one_line_failure(kartoteka(data_dir, *command.split(), KARTOTEKA_DATABASE_URL=url))
    assert "127.0.0.1:1" in line and "unreachable" in line
    assert "s3cret-pw" not in line


def test_reindex_migrates_a_fresh_database_first(data_dir):
    result = kartoteka(data_dir, "reindex")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["fsck", "gc", "gc --dry-run"])
def test_gc_and_fsck_refuse_a_database_without_kartoteka_data(data_dir, command):
    # A forgotten KARTOTEKA_DATABASE_URL falls back to a new SQLite file: gc would take every blob
    # for unreferenced. Nothing is created either.
    line = _one_line_failure(kartoteka(data_dir, *command.split()))
    assert "holds no Kartoteka data" in line and "KARTOTEKA_DATABASE_URL" in line
    assert not (data_dir / "kartoteka.sqlite3").exists()


def test_gc_and_fsck_refuse_an_embedded_store_without_its_blob_directory(data_dir):
    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    for command in ("gc", "fsck"):
        assert "blob directory" in _one_line_failure(kartoteka(data_dir, command))
    assert not (data_dir / "blobs").exists()


def test_gc_and_fsck_say_a_database_file_cannot_be_used_in_one_line(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "kartoteka.sqlite3").write_bytes(b"not a database, a note someone saved here" * 100)
    for command in ("gc", "fsck"):
        assert "cannot be used" in _one_line_failure(kartoteka(data_dir, command))


def test_gc_refuses_a_database_that_refers_to_none_of_the_stores_blobs_unless_forced(data_dir):
    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    blob = data_dir / "blobs" / "ab" / "cd" / ("abcd" + "0" * 60)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"bytes of a document recorded in another database")
    line = _one_line_failure(kartoteka(data_dir, "gc", "--grace-seconds", "0"))
    assert "KARTOTEKA_DATABASE_URL" in line and "--force" in line
    assert blob.exists()
    forced = kartoteka(data_dir, "gc", "--grace-seconds", "0", "--force")
    assert forced.returncode == 0, forced.stderr
    assert not blob.exists()


def test_gc_dry_run_says_what_it_would_remove(data_dir):
    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    (data_dir / "blobs").mkdir()
    result = kartoteka(data_dir, "gc", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would remove 0 expired staged uploads and 0 leftovers of interrupted writes" in result.stdout
    assert "removed" not in result.stdout


def test_gc_refuses_a_negative_grace_period(data_dir):
    assert "--grace-seconds" in _one_line_failure(kartoteka(data_dir, "gc", "--grace-seconds", "-5"))


async def test_fsck_on_postgresql_and_s3_names_the_damaged_documents(tmp_path, fresh_postgres_database, s3_server):
    from minio import Minio

    from kartoteka.app import build_services
    from tests.dms.conftest import make_actor, new_binder, new_document

    bucket = f"kartoteka-cli-{os.urandom(4).hex()}"
    env = {
        "KARTOTEKA_DATABASE_URL": fresh_postgres_database,
        "KARTOTEKA_STORAGE_URL": f"s3://{bucket}",
        "KARTOTEKA_S3_ENDPOINT": s3_server.endpoint,
        "KARTOTEKA_S3_ACCESS_KEY": s3_server.access_key,
        "KARTOTEKA_S3_SECRET_KEY": s3_server.secret_key,
        "KARTOTEKA_S3_SECURE": "false",
    }
    data_dir = tmp_path / "data"
    assert kartoteka(data_dir, "db", "upgrade", **env).returncode == 0
    settings = Settings(
        data_dir=data_dir,
        database_url=fresh_postgres_database,
        storage_url=f"s3://{bucket}",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_secure=False,
        secret_key="cli-test-secret-key",
    )
    services = build_services(settings)
    try:
        await services.blobs.check()
        manager = await make_actor(services.db, "kierownik", admin=True)
        binder = await new_binder(services, manager, "Umowy")
        await new_document(services, manager, binder, "Umowa najmu", content=b"Umowa najmu lokalu")
    finally:
        await services.db.engine.dispose()
        await services.blobs.close()
    key = hashlib.sha256(b"Umowa najmu lokalu").hexdigest()
    client = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)
    [stored] = [o.object_name for o in client.list_objects(bucket, recursive=True) if o.object_name.endswith(key)]
    client.remove_object(bucket, stored)

    checked = kartoteka(data_dir, "fsck", **env)

    assert checked.returncode == 1, checked.stderr
    assert "Traceback" not in checked.stderr
    assert "1 missing, 0 corrupt" in checked.stdout
    assert f"missing {key}" in checked.stdout and '"Umowa najmu" version 1.0' in checked.stdout
    # A command that checks the store, then works in another event loop, on PostgreSQL (whose
    # connections belong to the loop that made them).
    reindexed = kartoteka(data_dir, "reindex", **env)
    assert reindexed.returncode == 0, reindexed.stderr
    assert "reindexed 1 document" in reindexed.stdout
    mistyped = kartoteka(data_dir, "fsck", **{**env, "KARTOTEKA_STORAGE_URL": f"s3://{bucket}-typo"})
    assert "does not exist" in _one_line_failure(mistyped)
    assert not client.bucket_exists(f"{bucket}-typo")
    # Nor does the server make a bucket for an archive whose files are elsewhere: it would look
    # healthy while every download failed.
    served = kartoteka(data_dir, "serve", "--port", "9", **{**env, "KARTOTEKA_STORAGE_URL": f"s3://{bucket}-typo"})
    assert "check KARTOTEKA_STORAGE_URL" in _one_line_failure(served)
    assert not client.bucket_exists(f"{bucket}-typo")


def test_the_files_kartoteka_creates_are_its_users_alone(data_dir):
    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    assert kartoteka(data_dir, "reindex").returncode == 0
    made = [data_dir, data_dir / "kartoteka.sqlite3", *(data_dir / "index").rglob("*")]
    assert [path for path in made if path.stat().st_mode & 0o077] == []


def test_a_server_refuses_an_emptied_key_file_in_one_line(data_dir):
    data_dir.mkdir()
    (data_dir / "secret_key").write_text("")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KARTOTEKA_")}
    result = subprocess.run(
        [sys.executable, "-m", "kartoteka", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env={**environment, "KARTOTEKA_DATA_DIR": str(data_dir)},
        timeout=120,
        check=False,
    )
    assert "secret_key holds 0 characters" in _one_line_failure(result)
    assert "KARTOTEKA_SECRET_KEY" in _one_line_failure(kartoteka(data_dir, "serve", KARTOTEKA_SECRET_KEY="short"))


def test_an_index_directory_that_is_a_file_is_one_line(data_dir, tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("")
    assert "index directory" in _one_line_failure(kartoteka(data_dir, "indexer", KARTOTEKA_INDEX_DIR=str(a_file)))


def test_fsck_finds_a_binder_tree_whose_stored_ancestors_disagree_with_its_parents(data_dir):
    import sqlite3

    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    (data_dir / "blobs").mkdir()
    with sqlite3.connect(data_dir / "kartoteka.sqlite3") as database:
        database.execute("INSERT INTO binders (id, name, path, created_at) VALUES (1, 'Kadry', '/Kadry', '2026-01-01')")
        database.execute("INSERT INTO binders (id, name, path, created_at) VALUES (2, 'Umowy', '/Umowy', '2026-01-01')")
        database.execute("INSERT INTO binder_closure (ancestor_id, descendant_id, depth) VALUES (1, 1, 0), (2, 2, 0)")
    assert kartoteka(data_dir, "fsck").returncode == 0
    with sqlite3.connect(data_dir / "kartoteka.sqlite3") as database:
        # A stray row: everyone who may read Kadry would read Umowy through it.
        database.execute("INSERT INTO binder_closure (ancestor_id, descendant_id, depth) VALUES (1, 2, 1)")
    checked = kartoteka(data_dir, "fsck")
    assert checked.returncode == 1
    assert "binder 2: stray ancestor 1" in checked.stdout


def test_only_db_upgrade_and_serve_upgrade_an_existing_database(data_dir):
    from dms.migrate import upgrade_sync

    data_dir.mkdir()
    (data_dir / "blobs").mkdir()
    upgrade_sync(f"sqlite+aiosqlite:///{data_dir / 'kartoteka.sqlite3'}", "0002")
    for command in (("fsck",), ("gc", "--dry-run"), ("user", "disable", "nobody")):
        line = _one_line_failure(kartoteka(data_dir, *command))
        assert "older schema (0002)" in line and "kartoteka db upgrade" in line, command
    upgraded = kartoteka(data_dir, "db", "upgrade")
    assert (upgraded.returncode, upgraded.stdout.strip()) == (0, "database upgraded from 0002 to 0003")
    assert kartoteka(data_dir, "db", "upgrade").stdout.strip() == "database is up to date"
    assert kartoteka(data_dir, "fsck").returncode == 0


def test_a_database_of_a_newer_release_is_named_as_such(data_dir):
    import sqlite3

    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    with sqlite3.connect(data_dir / "kartoteka.sqlite3") as database:
        database.execute("UPDATE alembic_version SET version_num = '0099'")
    assert "newer Kartoteka (revision 0099)" in _one_line_failure(kartoteka(data_dir, "db", "upgrade"))


def test_a_second_reindex_while_one_runs_is_refused_in_one_line(data_dir):
    from search.indexer_lock import IndexerLock

    assert kartoteka(data_dir, "db", "upgrade").returncode == 0
    (data_dir / "index").mkdir()
    running = IndexerLock(data_dir / "index", "reindex.lock")
    assert running.try_acquire()
    try:
        line = _one_line_failure(kartoteka(data_dir, "reindex"))
        assert f"another reindex (pid {os.getpid()})" in line
    finally:
        running.release()
    assert kartoteka(data_dir, "reindex").returncode == 0


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        ("storage", "the file store became unavailable: S3 endpoint 127.0.0.1:9 is unreachable"),
        ("database", "the database became unavailable"),
    ],
)
def test_a_backend_lost_part_way_ends_a_command_in_one_line_with_status_2(failure, said, capsys):
    import typer

    from kartoteka.cli import _run_work
    from storage.base import StorageUnavailable

    async def work() -> None:
        if failure == "storage":
            raise StorageUnavailable("S3 endpoint 127.0.0.1:9 is unreachable: [Errno 111] Connection refused")
        raise ConnectionRefusedError("[Errno 111] Connect call failed ('127.0.0.1', 5432)")  # as asyncpg raises it

    with pytest.raises(typer.Exit) as ended:
        _run_work(work())

    assert ended.value.exit_code == 2
    error = capsys.readouterr().err
    assert said in error and "Traceback" not in error


def test_a_misspelt_setting_is_named_with_the_one_meant(data_dir):
    result = kartoteka(
        data_dir, "db", "upgrade", KARTOTEKA_DATABSE_URL="sqlite:///elsewhere.sqlite3", KARTOTEKA_URL="x"
    )
    assert result.returncode == 0, result.stderr
    assert "KARTOTEKA_DATABSE_URL is not a setting (did you mean KARTOTEKA_DATABASE_URL?)" in result.stderr
    assert "KARTOTEKA_URL" not in result.stderr  # a script's own variable, nothing like a setting


def test_user_commands_wait_their_turn_beside_a_busy_writer(data_dir):
    import sqlite3
    import threading
    import time

    assert kartoteka(data_dir, "user", "create", "admin", "--password-stdin", stdin="a-long-password\n").returncode == 0
    stop = threading.Event()

    def busy_server() -> None:
        # Write after write, as a server under load does, each holding the lock a moment.
        connection = sqlite3.connect(data_dir / "kartoteka.sqlite3", isolation_level=None, timeout=30)
        try:
            while not stop.is_set():
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("UPDATE users SET display_name = display_name")
                time.sleep(0.05)
                connection.execute("COMMIT")
                time.sleep(0.005)
        finally:
            connection.close()

    writer = threading.Thread(target=busy_server)
    writer.start()
    try:
        created = kartoteka(data_dir, "user", "create", "ewa", "--password-stdin", stdin="a-long-password\n")
        changed = kartoteka(data_dir, "user", "passwd", "admin", "--password-stdin", stdin="another-long-one\n")
        disabled = kartoteka(data_dir, "user", "disable", "ewa")
        grouped = kartoteka(data_dir, "group", "create", "Kadry")
    finally:
        stop.set()
        writer.join()
    for result in (created, changed, disabled, grouped):
        assert result.returncode == 0, result.stderr
    assert kartoteka(data_dir, "user", "list").stdout.splitlines() == ["admin", "ewa (disabled)"]

"""`kartoteka`: serve, migrate, manage users and groups, and keep storage and index healthy."""

from __future__ import annotations

import asyncio
import getpass
import importlib.metadata
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from dms.actor import SYSTEM
from dms.errors import DomainError
from dms.identity import service as identity
from kartoteka.settings import Settings, describe_invalid, misspelt_settings
from search.indexer_lock import IndexerLock

T = TypeVar("T")

app = typer.Typer(help="Kartoteka: documents, counterparties and search for CRM work.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
group_app = typer.Typer(help="Groups of users, usable as principals in permissions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(group_app, name="group")

# No markup: what is printed carries names, paths and error messages (`s3://bucket[/prefix]`) whose
# square brackets rich would otherwise take for tags, and fail on or silently drop.
err = Console(stderr=True, soft_wrap=True, markup=False)
out = Console(soft_wrap=True, markup=False)
log = logging.getLogger("kartoteka.cli")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Where the embedded default keeps its data.")]


def _settings(data_dir: Path | None = None) -> Settings:
    for name, meant in misspelt_settings(os.environ):
        err.print(
            Text.assemble(("warning:", "bold yellow"), f" {name} is not a setting (did you mean {meant}?): ignored")
        )
    try:
        return Settings(data_dir=data_dir) if data_dir is not None else Settings()
    except ValidationError as exc:
        _fail(f"invalid setting {describe_invalid(exc)}")
    except Exception as exc:
        # pydantic-settings' own SettingsError: a value it could not even decode (a list that is not JSON).
        _fail(f"invalid setting: {str(exc).splitlines()[0]}")


def _fail(message: str) -> NoReturn:
    err.print(Text.assemble(("error:", "bold red"), " ", message))
    raise typer.Exit(2)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _run_work(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's long work (after its start-up checks): the file store or the database going
    away part-way ends it with one line and status 2, never a traceback or the status that means
    "found damage" (fsck's 1)."""
    from dms.db import is_unavailable
    from storage.base import StorageUnavailable

    try:
        return asyncio.run(coroutine)
    except StorageUnavailable as exc:
        _fail(f"the file store became unavailable: {_first_line(exc)}; stopped, run it again when it is back")
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        _fail(f"the database became unavailable: {_first_line(exc)}; stopped, run it again when it is back")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _prepare_data_dir(settings: Settings) -> None:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        _fail(f"the data directory {settings.data_dir} is not writable: {exc.strerror or exc}")


def _migrate(settings: Settings, *, upgrade: bool = False) -> tuple[set[str], set[str]]:
    """Make sure the database has the schema this code works with.

    A new database gets it. An existing one is upgraded only when `upgrade` (`db upgrade`, `serve`
    and `indexer`, the application itself): a check such as `fsck` run on production or on a
    backup must not change it, and after an upgrade an older release cannot open it any more.
    """
    from sqlalchemy.engine import make_url

    from dms.db import DatabaseUrlError, create_engine
    from dms.migrate import known_revisions, schema_revisions, upgrade_sync

    url = settings.resolved_database_url
    shown = make_url(url).render_as_string(hide_password=True) if "://" in url else url

    def attempt(step: Callable[[], T]) -> T:
        try:
            return step()
        except DatabaseUrlError as exc:
            _fail(str(exc))
        except OSError as exc:
            # Refused, unresolvable or timed out: the server, not the schema, is the problem.
            _fail(f"the database {shown} is unreachable: {exc.strerror or exc}")
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else ""
            _fail(f"cannot migrate the database: {type(exc).__name__}: {reason}")

    attempt(lambda: create_engine(url))
    current, heads = attempt(lambda: _run(schema_revisions(url)))
    if current and current != heads:
        if unknown := sorted(current - known_revisions(url)):
            _fail(f"the database {shown} was upgraded by a newer Kartoteka (revision {', '.join(unknown)})")
        if not upgrade:
            _fail(
                f"the database {shown} has an older schema ({', '.join(sorted(current))}): back it up, then "
                "run `kartoteka db upgrade` (`kartoteka serve` upgrades it too)"
            )
    if current != heads:
        attempt(lambda: upgrade_sync(url))
        if current:
            log.warning("database upgraded", extra={"from": sorted(current), "to": sorted(heads)})
    return current, heads


def _require_kartoteka_database(settings: Settings) -> None:
    """Stop unless the configured database already holds Kartoteka's schema.

    For the commands that act on what the database says of the blob store (gc, fsck): pointed at an
    empty database (a forgotten KARTOTEKA_DATABASE_URL falls back to a new SQLite file), gc would
    take every blob for unreferenced and delete it.
    """
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from dms.db import DatabaseUrlError, create_engine

    url = settings.resolved_database_url
    try:
        parsed = make_url(url)
    except Exception as exc:
        _fail(f"malformed database URL: {exc}")
    shown = parsed.render_as_string(hide_password=True)
    refusal = f"the database {shown} holds no Kartoteka data yet: check KARTOTEKA_DATABASE_URL"
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).is_file()):
        _fail(refusal)  # checked before connecting, which would create the file

    async def heads() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
        finally:
            await engine.dispose()

    try:
        found = _run(heads())
    except DatabaseUrlError as exc:
        _fail(str(exc))
    except DBAPIError as exc:  # not a database (a stray file), refused credentials, …
        _fail(f"the database {shown} cannot be used: {str(exc.orig or exc).splitlines()[0]}")
    except OSError as exc:
        _fail(f"the database {shown} is unreachable: {exc.strerror or exc}")
    if not found:
        _fail(refusal)


async def _with_session(settings: Settings, work: Callable[[Any], Awaitable[T]], *, write: bool = True) -> T:
    from dms.db import create_engine
    from dms.uow import Database

    engine = create_engine(settings.resolved_database_url)
    try:
        # A writing command takes SQLite's write lock up front and waits its turn for it, as the
        # server's writers do: a read first and a write after fails at once ("database is
        # locked") when a busy server wrote in between.
        database = Database(engine)
        async with (database.write_sessions if write else database.sessions)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _admin_settings(data_dir: Path | None) -> Settings:
    """An administrator's command's settings, with a database of the current schema."""
    settings = _settings(data_dir)
    _migrate(settings)
    return settings


def _admin_work(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    try:
        return _run_work(_with_session(settings, work))
    except DomainError as exc:
        _fail(exc.message)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Apply migrations and serve the API (and, in the embedded default, the indexer)."""
    import uvicorn
    from sqlalchemy.engine import make_url

    from kartoteka.app import build_search, create_app
    from kartoteka.logs import configure_logging

    settings = _settings(data_dir)
    configure_logging(settings.log_level)
    _prepare_data_dir(settings)
    try:
        settings.resolved_secret_key()
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    _revisions_before, schema = _migrate(settings, upgrade=True)
    services = _services(settings)
    lock = _indexer_lock(settings)
    writer = settings.embedded_indexer and lock.try_acquire()
    if settings.embedded_indexer and not writer:
        log.warning(
            "another indexer writes the search index: this server only reads it",
            extra={"index": str(settings.resolved_index_dir), "indexer_pid": lock.holder()},
        )
    try:
        indexer = build_search(settings, services, writer=writer)
    except Exception as exc:
        _fail(f"cannot open the search index in {settings.resolved_index_dir}: {str(exc).splitlines()[0]}")
    out.print(f"Kartoteka on http://{host}:{port}/graphql (data: {settings.data_dir})", highlight=False)
    # What an operator reading the log after an incident needs to know about this start.
    log.info(
        "serving",
        extra={
            "version": importlib.metadata.version("kartoteka"),
            "address": f"{host}:{port}",
            "database": make_url(settings.resolved_database_url).render_as_string(hide_password=True),
            "schema": sorted(schema),
            "storage": settings.resolved_storage_url,
            "index": str(settings.resolved_index_dir),
            "indexer": "embedded" if writer else "elsewhere",
        },
    )

    def take_over() -> Any:
        # The index as a writer: the reading engines stay with the requests already using them.
        return build_search(settings, services, writer=True) if lock.try_acquire() else None

    reading_only = settings.embedded_indexer and not writer
    app = create_app(settings, services=services, indexer=indexer, take_over=take_over if reading_only else None)
    # No uvicorn access log: it would print download and upload paths, which carry signed tokens.
    # ObservabilityMiddleware writes one line per request with the route template instead.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        # Behind a proxy every client would otherwise share its address, and one client's
        # failed logins would lock everyone out (failures are counted per user and address).
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # A stalled client must not hold a stopping server forever (docker stop allows 10 s).
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


#: How long an idle connection is kept open. Longer than clients' and load balancers' own limits
#: (httpx 5 s, uvicorn's default here too; AWS ALB 60 s), so the client closes it, not the server:
#: a server closing first races a request the client is sending on it at that moment, which the
#: client then sees fail (and does not retry when it is a POST).
KEEP_ALIVE_SECONDS = 75

#: How often a standby indexer tries to take the index over.
STANDBY_POLL_SECONDS = 1.0


def _indexer_lock(settings: Settings, name: str = "indexer.lock") -> IndexerLock:
    """The index's one-indexer lock (see search.indexer_lock); held until the process ends."""
    try:
        settings.resolved_index_dir.mkdir(parents=True, exist_ok=True)
        return IndexerLock(settings.resolved_index_dir, name)
    except OSError as exc:
        _fail(f"cannot use the index directory {settings.resolved_index_dir}: {exc.strerror or exc}")


def _services(settings: Settings, *, existing_storage: bool = False) -> Any:
    """Database and blob store, checked; a bad setting stops with one line. `existing_storage`: a
    missing bucket is an error rather than one to create (for commands that inspect the store)."""
    from kartoteka.app import build_services

    blob_directory = settings.data_dir / "blobs"
    if existing_storage and settings.storage_url is None and not blob_directory.is_dir():
        _fail(f"the blob directory {blob_directory} does not exist: check KARTOTEKA_DATA_DIR")
    try:
        services = build_services(settings)
    except Exception as exc:
        _fail(f"invalid configuration: {str(exc).splitlines()[0]}")
    # A missing bucket is made only for a new archive: with versions in the database it is a
    # misspelt KARTOTEKA_STORAGE_URL, and a new empty bucket would pass every check while every
    # download failed and new files went astray.
    create = not existing_storage and not _refers_to_stored_files(settings)
    try:
        _run(services.blobs.check(create=create))
    except Exception as exc:
        hint = (
            "" if create or existing_storage else " (the database refers to stored files: check KARTOTEKA_STORAGE_URL)"
        )
        _fail(f"cannot use the blob store {settings.resolved_storage_url}: {str(exc).splitlines()[0]}{hint}")
    return services


def _refers_to_stored_files(settings: Settings) -> bool:
    """Whether any version refers to stored bytes. On an engine of its own: the services' engine
    belongs to the event loop of the work that follows (asyncpg connections are bound to the loop
    that made them)."""
    from sqlalchemy import select

    from dms.documents.models import DocumentVersion

    async def first_version(session: Any) -> int | None:
        return await session.scalar(select(DocumentVersion.id).limit(1))

    try:
        return _run(_with_session(settings, first_version, write=False)) is not None
    except Exception as exc:
        _fail(f"cannot read the database: {_first_line(exc)}")


@app.command()
def indexer(data_dir: DataDir = None) -> None:
    """Run the indexer alone (for deployments with several API workers, which then only read)."""
    import signal

    from kartoteka.app import build_search
    from kartoteka.logs import configure_logging

    settings = _settings(data_dir)
    configure_logging(settings.log_level)
    _migrate(settings, upgrade=True)  # a long-running part of the application, like serve
    services = _services(settings)
    lock = _indexer_lock(settings)
    if not lock.try_acquire():
        # A standby: it takes over the moment the running indexer stops, however it stops.
        where = {"index": str(settings.resolved_index_dir), "indexer_pid": lock.holder()}
        log.warning("another indexer writes the search index: waiting to take over", extra=where)
        try:
            while not lock.try_acquire():
                time.sleep(STANDBY_POLL_SECONDS)
        except KeyboardInterrupt:
            return
        log.warning("took over the search index", extra={"index": str(settings.resolved_index_dir)})
    worker = build_search(settings, services, writer=True)
    assert worker is not None

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await worker.run(poll_seconds=settings.indexer_poll_seconds, stop=stop)
        finally:
            worker.extractor.close()

    out.print(f"indexing into {settings.resolved_index_dir}", highlight=False)
    _run_work(work())


@app.command()
def reindex(
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start over instead of resuming an interrupted rebuild.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Rebuild the search index from the database and storage (beside the live one, then swapped).

    Searches keep answering from the live index meanwhile; an interrupted run resumes where it stopped.
    """
    from sqlalchemy import func, select

    from dms.documents.models import Document
    from kartoteka.app import build_search
    from search.directory import KINDS

    settings = _settings(data_dir)
    _migrate(settings)
    services = _services(settings)
    # Two rebuilds would write into one new index beside the live one: the second one waits its turn.
    rebuilding = _indexer_lock(settings, name="reindex.lock")
    if not rebuilding.try_acquire():
        _fail(f"another reindex (pid {rebuilding.holder()}) is rebuilding {settings.resolved_index_dir}")
    worker = build_search(settings, services, writer=True)
    assert worker is not None

    async def work() -> tuple[int, dict[str, int]]:
        async with services.db.sessions() as session:
            total = await session.scalar(
                select(func.count()).select_from(Document).where(Document.trashed_at.is_(None))
            )
        directory = worker.directory
        assert directory is not None
        try:
            with _progress() as progress:
                task = progress.add_task("indexing documents", total=total)
                documents = await worker.rebuild(progress=lambda n: progress.advance(task, n), resume=not fresh)
                others: dict[str, int] = {}
                for kind in KINDS:
                    step = progress.add_task(f"indexing {kind}", total=await directory.total(kind))
                    others[kind] = await directory.rebuild(
                        kind, progress=lambda n, step=step: progress.advance(step, n), resume=not fresh
                    )
                return documents, others
        finally:
            worker.extractor.close()

    done, others = _run_work(work())
    out.print(f"reindexed {done} documents, {others['counterparties']} counterparties, {others['events']} events")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply Alembic migrations up to head."""
    settings = _settings(data_dir)
    _prepare_data_dir(settings)
    before, heads = _migrate(settings, upgrade=True)
    if before and before != heads:
        out.print(f"database upgraded from {', '.join(sorted(before))} to {', '.join(sorted(heads))}")
    elif not before:
        out.print(f"database created at {', '.join(sorted(heads))}")
    else:
        out.print("database is up to date")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        _fail("the passwords differ")
    return first


@user_app.command("create")
def user_create(
    name: str,
    admin: Annotated[bool, typer.Option("--admin", help="Administrator: MANAGE everywhere.")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create a user (asks for the password, or reads it from stdin)."""
    settings = _admin_settings(data_dir)
    password = _read_password(password_stdin)
    _admin_work(settings, lambda s: identity.create_user(s, SYSTEM, name, password=password, is_admin=admin))
    out.print(f"user {name} created{' (administrator)' if admin else ''}")


@user_app.command("passwd")
def user_passwd(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Set a user's password (their tokens are revoked)."""
    settings = _admin_settings(data_dir)
    password = _read_password(password_stdin)
    user = _admin_work(settings, lambda s: identity.set_password(s, SYSTEM, name, password))
    out.print(f"password of {name} changed")
    if not user.is_active:
        err.print(f"{name} is disabled: `kartoteka user enable {name}` lets them log in again")


@user_app.command("disable")
def user_disable(name: str, data_dir: DataDir = None) -> None:
    """Disable a user and revoke all their tokens."""
    _admin_work(_admin_settings(data_dir), lambda s: identity.disable_user(s, SYSTEM, name))
    out.print(f"user {name} disabled")


@user_app.command("enable")
def user_enable(name: str, data_dir: DataDir = None) -> None:
    """Let a disabled user log in again (their old tokens stay revoked)."""
    _admin_work(_admin_settings(data_dir), lambda s: identity.enable_user(s, SYSTEM, name))
    out.print(f"user {name} enabled")


@user_app.command("list")
def user_list(data_dir: DataDir = None) -> None:
    """List the users: who is an administrator, who is disabled."""
    users = _admin_work(_admin_settings(data_dir), lambda s: identity.list_users(s, SYSTEM))
    for user in users:
        notes = [
            note for note, applies in (("administrator", user.is_admin), ("disabled", not user.is_active)) if applies
        ]
        out.print(user.username + (f" ({', '.join(notes)})" if notes else ""), highlight=False)


@group_app.command("create")
def group_create(name: str, data_dir: DataDir = None) -> None:
    """Create a group."""
    _admin_work(_admin_settings(data_dir), lambda s: identity.create_group(s, SYSTEM, name))
    out.print(f"group {name} created")


@group_app.command("add")
def group_add(group: str, user: str, data_dir: DataDir = None) -> None:
    """Add a user to a group."""
    added = _admin_work(_admin_settings(data_dir), lambda s: identity.add_member(s, SYSTEM, group, user))
    out.print(f"{user} added to {group}" if added else f"{user} was in {group} already")


@group_app.command("remove")
def group_remove(group: str, user: str, data_dir: DataDir = None) -> None:
    """Take a user out of a group: the group's rights stop applying to them at once."""
    removed = _admin_work(_admin_settings(data_dir), lambda s: identity.remove_member(s, SYSTEM, group, user))
    out.print(f"{user} taken out of {group}" if removed else f"{user} was not in {group}")


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would be deleted.")] = False,
    grace_seconds: Annotated[
        int, typer.Option("--grace-seconds", help="Spare blobs younger than this (uploads in flight).")
    ] = 3600,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Collect even when no version refers to any blob the store holds (an emptied archive)."
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Delete blobs no version refers to, their cached texts, and expired staged uploads."""
    from dms.indexing.texts import TextCache
    from dms.maintenance import collect_garbage, forget_unreferenced_texts, looks_unrelated

    if grace_seconds < 0:
        _fail("--grace-seconds cannot be negative")
    settings = _settings(data_dir)
    _require_kartoteka_database(settings)
    _migrate(settings)
    services = _services(settings, existing_storage=True)

    async def work() -> Any:
        if not force and await looks_unrelated(services.db, services.blobs):
            return None
        with _progress() as progress:
            task = progress.add_task("collecting unreferenced blobs", total=None)
            report = await collect_garbage(
                services.db,
                services.blobs,
                grace=timedelta(seconds=grace_seconds),
                dry_run=dry_run,
                progress=lambda n: progress.advance(task, n),
            )
        texts = TextCache(settings.resolved_index_dir / "texts")
        report.texts = await forget_unreferenced_texts(
            services.db, texts, grace=timedelta(seconds=grace_seconds), dry_run=dry_run
        )
        return report

    report = _run_work(work())
    if report is None:
        _fail(
            "no version in the database refers to any blob the store holds: is this the store's database"
            " (KARTOTEKA_DATABASE_URL)? If the archive really is empty, collect with --force"
        )
    removed = (
        f"would remove {report.expired_uploads} expired staged uploads and {report.leftovers} leftovers"
        if dry_run
        else f"removed {report.expired_uploads} expired staged uploads and {report.leftovers} leftovers"
    ) + " of interrupted writes"
    verb = "would delete" if dry_run else "deleted"
    out.print(
        f"examined {report.examined} blobs: {verb} {report.deleted}, kept {report.kept} in use"
        f" and {report.too_young} too young to judge; {removed}; {verb} {report.texts} cached texts"
    )


@app.command()
def fsck(data_dir: DataDir = None) -> None:
    """Check the database's integrity, re-hash every version's bytes and report what is damaged."""
    from dms.maintenance import check_blobs, count_versions_blobs, database_problems, versions_of
    from resolvers.ids import encode_id

    settings = _settings(data_dir)
    _require_kartoteka_database(settings)
    _migrate(settings)
    services = _services(settings, existing_storage=True)

    async def work() -> Any:
        # One event loop for every database call: pooled connections belong to the loop that made them.
        problems = await database_problems(services.db)
        total = await count_versions_blobs(services.db)
        with _progress() as progress:
            task = progress.add_task("verifying blobs", total=total)
            report = await check_blobs(services.db, services.blobs, progress=lambda n: progress.advance(task, n))
        damaged = await versions_of(services.db, [*report.missing, *report.corrupt])
        await services.db.engine.dispose()
        return problems, report, damaged

    problems, report, damaged = _run_work(work())
    out.print(f"checked the database: {len(problems)} problem{'' if len(problems) == 1 else 's'}")
    for problem in problems:
        out.print(f"  {problem}")
    out.print(f"checked {report.checked} blobs: {len(report.missing)} missing, {len(report.corrupt)} corrupt")
    for state, keys in (("missing", report.missing), ("corrupt", report.corrupt)):
        for key in keys:
            out.print(f"{state} {key}")
            # Which documents to restore from a backup, or to check in again.
            for version in damaged[key]:
                trashed = " (in the trash)" if version.trashed else ""
                document = encode_id("Document", version.document_id)  # as the API names it
                out.print(f'  document {document} "{version.title}" version {version.number}{trashed}')
    if problems or not report.ok:
        raise typer.Exit(1)


#: Files Kartoteka creates are its own: the database (password hashes, the audit log), the index
#: and its text cache (every document's words), blobs and the key. Nobody else on the machine reads them.
PRIVATE_UMASK = 0o077


def main() -> None:
    os.umask(PRIVATE_UMASK)
    app()

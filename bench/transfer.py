"""Upload and download throughput through Kartoteka vs the raw MinIO SDK, on one SeaweedFS S3 server.

Starts SeaweedFS (``weed mini``) and ``kartoteka serve`` (a subprocess, S3 backend) on 127.0.0.1,
then, with the same generated file (``--size-mb``, 50 by default):

* ours: ``createDocument`` as a GraphQL multipart request (the file streamed from disk by httpx),
  and a GET of the version's ``downloadUrl`` streamed to nowhere — read with urllib3, the HTTP
  stack the MinIO SDK itself uses, so both sides pay the same client cost (the same GET read with
  httpx is shown beside it);
* raw: ``Minio.fput_object`` and ``Minio.get_object`` (streamed) of the same bytes, same server.
* and the download once more from a second server started with
  ``KARTOTEKA_DOWNLOAD_REDIRECT_TO_STORAGE=true``, which checks access and records the download,
  then answers 307 to a presigned S3 URL (the bytes no longer pass through the app).
* and through ``bench/passthrough.py``, the least a Python server can do to pass a download on
  (uvloop, one socket's data written to the other, nothing else): the ceiling for any proxy on
  the machine at hand, shown beside ours. On a machine whose few cores the client, the storage
  and the proxy share, a second receive and send of every byte costs time whoever does it.

Each upload is repeated (``--repeat``, 3 by default) and the best time kept; the file's first bytes
change per round so no round is a duplicate of an earlier one. After each round's two uploads come
``--downloads`` (5 by default) pairs of downloads, ours and raw in alternating order, so that what
else the machine does at the time weighs on both sides; the best of each side gives the ratio, and
the medians are shown beside it (on a small shared machine a single download varies by ±20%).
The server's RSS (``/proc/<pid>/status``; uvicorn, the API and the embedded indexer share that
pid) is read before, after, and at its peak.

Targets (printed, never asserted): upload ≥ 0.7× raw, download ≥ 0.8× raw, server RSS growth
≤ 64 MiB whatever the file's size (try ``--size-mb 1024``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import (
    BenchTimeout,
    MiB,
    Row,
    cpu_seconds,
    deadline,
    free_port,
    merge_results,
    mib,
    print_table,
    proc_memory,
    ratio_text,
    reset_peak_rss,
    target_text,
    temporary_directory,
    tied_to_this_process,
    use_repo_root,
    venv_bin,
)

PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway server
BUCKET = "bench"
RAW_BUCKET = "bench-raw"
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
READ_CHUNK = MiB
UPLOAD_TARGET = 0.7
DOWNLOAD_TARGET = 0.8
RSS_TARGET = 64 * MiB

CREATE_DOCUMENT = """
mutation ($input: CreateDocumentInput!) {
  createDocument(input: $input) {
    document { id currentVersion { size sha256 downloadUrl } }
    userErrors { field code message }
  }
}
"""


# -- the file --------------------------------------------------------------------------------


def write_payload(path: Path, size: int, seed: int = 20260) -> None:
    """`size` pseudo-random bytes (incompressible), written a MiB at a time."""
    rng = random.Random(seed)
    left = size
    with open(path, "wb") as out:
        while left > 0:
            step = min(left, MiB)
            out.write(rng.randbytes(step))
            left -= step


def mark_round(path: Path, round_number: int) -> None:
    """Change the first bytes, so each round stores new content (no deduplication)."""
    with open(path, "r+b") as out:
        out.write(f"round-{round_number:04d}-{time.time_ns()}".encode())


# -- the servers -----------------------------------------------------------------------------


@dataclass
class KartotekaServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "".join(self.log_path.read_text(errors="replace").splitlines(keepends=True)[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"


def kartoteka_env(data_dir: Path, s3: Any, max_upload: int) -> dict[str, str]:
    return {
        **os.environ,
        "KARTOTEKA_DATA_DIR": str(data_dir),
        "KARTOTEKA_STORAGE_URL": f"s3://{BUCKET}",
        "KARTOTEKA_S3_ENDPOINT": s3.endpoint,
        "KARTOTEKA_S3_ACCESS_KEY": s3.access_key,
        "KARTOTEKA_S3_SECRET_KEY": s3.secret_key,
        "KARTOTEKA_S3_SECURE": "false",
        "KARTOTEKA_SECRET_KEY": "bench-secret-key-not-for-production",
        "KARTOTEKA_MAX_UPLOAD_BYTES": str(max_upload),
        "KARTOTEKA_LOG_LEVEL": "WARNING",
    }


def create_admin(env: dict[str, str]) -> None:
    subprocess.run(
        [venv_bin("kartoteka"), "user", "create", "admin", "--admin", "--password-stdin"],
        input=(PASSWORD + "\n").encode(),
        env=env,
        check=True,
        capture_output=True,
        timeout=STARTUP_TIMEOUT_S,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down cleanly), then SIGKILL; the group is the one we started."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    except ProcessLookupError:
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def running_kartoteka(
    env: dict[str, str], directory: Path, *, log_name: str = "kartoteka.log"
) -> Iterator[KartotekaServer]:
    port = free_port()
    log_path = directory / log_name
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            tied_to_this_process(
                [venv_bin("kartoteka"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            ),
            env=env,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = KartotekaServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline_at = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kartoteka serve exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline_at:
                raise RuntimeError(f"kartoteka serve not healthy after {STARTUP_TIMEOUT_S:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


@contextmanager
def running_passthrough(url: str) -> Iterator[tuple[str, int]]:
    """bench/passthrough.py serving ``url`` (a presigned GET): its address and pid."""
    port = free_port()
    process = subprocess.Popen(
        tied_to_this_process([sys.executable, str(Path(__file__).with_name("passthrough.py")), str(port), url]),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"bench/passthrough.py did not start (exit {process.poll()})")
        yield f"http://127.0.0.1:{port}/", process.pid
    finally:
        _stop(process)


# -- the API ---------------------------------------------------------------------------------


def gql(client: httpx.Client, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL failed ({response.status_code}): {body}")
    return body["data"]


def login(client: httpx.Client) -> str:
    data = gql(
        client,
        "mutation($u: String!, $p: String!)"
        " { login(input: {username: $u, password: $p}) { token userErrors { code } } }",
        u="admin",
        p=PASSWORD,
    )
    token = data["login"]["token"]
    if not token:
        raise RuntimeError(f"login refused: {data}")
    return str(token)


def create_binder(client: httpx.Client, token: str) -> str:
    data = gql(
        client,
        'mutation { createBinder(input: {name: "Bench"}) { binder { id } userErrors { code message } } }',
        token,
    )
    return str(data["createBinder"]["binder"]["id"])


def upload(client: httpx.Client, token: str, binder_id: str, path: Path, round_number: int) -> dict[str, Any]:
    operations = {
        "query": CREATE_DOCUMENT,
        "variables": {"input": {"binderId": binder_id, "title": f"bench {round_number}", "file": None}},
    }
    with open(path, "rb") as handle:
        response = client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": (path.name, handle, "application/octet-stream")},
            headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
        )
    body = response.json()
    payload = (body.get("data") or {}).get("createDocument") or {}
    if response.status_code != 200 or body.get("errors") or payload.get("userErrors"):
        raise RuntimeError(f"createDocument failed ({response.status_code}): {body}")
    return dict(payload["document"]["currentVersion"])


def download(pool: urllib3.PoolManager, url: str) -> int:
    received = 0
    response = pool.request("GET", url, preload_content=False, decode_content=False)
    try:
        if response.status != 200:
            raise RuntimeError(f"download failed: {response.status} {response.read(200)!r}")
        for chunk in response.stream(READ_CHUNK):
            received += len(chunk)
    finally:
        response.release_conn()
    return received


def download_httpx(client: httpx.Client, url: str) -> int:
    received = 0
    with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise RuntimeError(f"download failed: {response.status_code} {response.read()[:200]!r}")
        for chunk in response.iter_raw(READ_CHUNK):
            received += len(chunk)
    return received


def raw_get(minio: Any, key: str) -> int:
    received = 0
    response = minio.get_object(RAW_BUCKET, key)
    try:
        for chunk in response.stream(READ_CHUNK):
            received += len(chunk)
    finally:
        response.close()
        response.release_conn()
    return received


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Timings:
    upload: list[float] = field(default_factory=list)
    download: list[float] = field(default_factory=list)
    download_httpx: list[float] = field(default_factory=list)
    raw_put: list[float] = field(default_factory=list)
    raw_get: list[float] = field(default_factory=list)
    download_redirected: list[float] = field(default_factory=list)
    raw_get_beside_redirect: list[float] = field(default_factory=list)
    download_passthrough: list[float] = field(default_factory=list)
    raw_get_beside_passthrough: list[float] = field(default_factory=list)
    upload_peak_growth: list[int] = field(default_factory=list)
    download_peak_growth: list[int] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)


def cpu_per_transfer(
    server_pid: int, rounds: int, url: str, pool: urllib3.PoolManager, minio: Any, key: str
) -> dict[str, float]:
    """CPU seconds per download, ours and raw, of the whole machine and of the Kartoteka server.

    Proxying costs the server a receive and a send of every byte; on a machine whose cores
    are all busy during a transfer, that CPU, not the network, sets the ratio.
    """

    def measure(work: Any) -> tuple[float, float, float]:
        wall, machine, server = time.perf_counter(), cpu_seconds(), cpu_seconds(server_pid)
        for _ in range(rounds):
            work()
        return (
            (time.perf_counter() - wall) / rounds,
            (cpu_seconds() - machine) / rounds,
            (cpu_seconds(server_pid) - server) / rounds,
        )

    ours_wall, ours_machine, ours_server = measure(lambda: download(pool, url))
    raw_wall, raw_machine, _ = measure(lambda: raw_get(minio, key))
    return {
        "ours_wall": ours_wall,
        "ours_machine": ours_machine,
        "ours_server": ours_server,
        "raw_wall": raw_wall,
        "raw_machine": raw_machine,
        "cores": float(os.cpu_count() or 1),
    }


def _seconds_list(values: list[float]) -> str:
    return "/".join(f"{value:.3f}" for value in values) + " s"


def download_pair(
    pair: int,
    size: int,
    *,
    ours: tuple[Callable[[], int], list[float]],
    raw: tuple[Callable[[], int], list[float]],
) -> None:
    """One download of each side, ours first in even pairs and raw first in odd ones, so that
    whatever else the machine does at the time weighs on both alike; each time kept, each size checked."""
    for side, (work, times) in (("ours", ours), ("raw", raw))[:: 1 if pair % 2 == 0 else -1]:
        seconds, received = timed(work)
        times.append(seconds)
        if received != size:
            raise RuntimeError(f"{side} download returned {received} bytes of {size}")


def timed(work: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work(*args)
    return time.perf_counter() - start, result


def run(args: argparse.Namespace) -> dict[str, Any]:
    use_repo_root()
    from minio import Minio

    from tests.servers.seaweedfs import running_seaweedfs

    size = int(args.size_mb * MiB)
    with ExitStack() as stack:
        tmp = stack.enter_context(temporary_directory("kt-bench-xfer-"))
        payload = tmp / "payload.bin"
        print(f"writing a {mib(size)} file…", flush=True)
        write_payload(payload, size)
        print("starting SeaweedFS…", flush=True)
        s3 = stack.enter_context(running_seaweedfs(tmp / "weed"))
        env = kartoteka_env(tmp / "data", s3, max_upload=size + 64 * MiB)
        print("starting kartoteka serve…", flush=True)
        create_admin(env)
        server = stack.enter_context(running_kartoteka(env, tmp))
        client = stack.enter_context(
            httpx.Client(base_url=server.base_url, timeout=httpx.Timeout(args.request_timeout, connect=10.0))
        )
        pool = urllib3.PoolManager(timeout=urllib3.Timeout(connect=10.0, read=args.request_timeout))
        stack.callback(pool.clear)
        token = login(client)
        binder_id = create_binder(client, token)
        minio = Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=s3.secure)
        if not minio.bucket_exists(RAW_BUCKET):
            minio.make_bucket(RAW_BUCKET)

        memory_before = proc_memory(server.pid)
        peak_resettable = reset_peak_rss(server.pid)
        timings = Timings()
        for round_number in range(1, args.repeat + 1):
            mark_round(payload, round_number)
            # ours, then raw: the same bytes to the same server
            base = proc_memory(server.pid)["VmRSS"]
            reset_peak_rss(server.pid)
            seconds, version = timed(upload, client, token, binder_id, payload, round_number)
            timings.upload.append(seconds)
            timings.peaks.append(proc_memory(server.pid)["VmHWM"])
            timings.upload_peak_growth.append(timings.peaks[-1] - base)
            if int(version["size"]) != size:
                raise RuntimeError(f"stored {version['size']} bytes, sent {size}")
            key = f"raw-{round_number}"
            seconds, _ = timed(minio.fput_object, RAW_BUCKET, key, str(payload))
            timings.raw_put.append(seconds)
            for pair in range(args.downloads):
                base = proc_memory(server.pid)["VmRSS"]
                reset_peak_rss(server.pid)
                download_pair(
                    pair,
                    size,
                    ours=(partial(download, pool, version["downloadUrl"]), timings.download),
                    raw=(partial(raw_get, minio, key), timings.raw_get),
                )
                timings.peaks.append(proc_memory(server.pid)["VmHWM"])
                timings.download_peak_growth.append(timings.peaks[-1] - base)
            seconds, received = timed(download_httpx, client, version["downloadUrl"])
            timings.download_httpx.append(seconds)
            if received != size:
                raise RuntimeError(f"downloaded {received} bytes of {size} (httpx)")
            print(
                f"round {round_number}: upload {timings.upload[-1]:.2f} s, raw put {timings.raw_put[-1]:.2f} s;"
                f" downloads ours {_seconds_list(timings.download[-args.downloads :])},"
                f" raw {_seconds_list(timings.raw_get[-args.downloads :])} (httpx {timings.download_httpx[-1]:.3f} s)",
                flush=True,
            )
        memory_after = proc_memory(server.pid)
        cpu = cpu_per_transfer(server.pid, args.cpu_rounds, version["downloadUrl"], pool, minio, f"raw-{args.repeat}")
        # The same downloads from a second server with KARTOTEKA_DOWNLOAD_REDIRECT_TO_STORAGE: it checks
        # access and records the download, then sends the client to a presigned S3 URL (same secret key,
        # so the links stay valid; its embedded indexer is off, the first server's still runs). Paired
        # with raw downloads of the same bytes, as above.
        redirecting_env = {
            **env,
            "KARTOTEKA_DOWNLOAD_REDIRECT_TO_STORAGE": "true",
            "KARTOTEKA_EMBEDDED_INDEXER": "false",
        }
        with running_kartoteka(redirecting_env, tmp, log_name="kartoteka-redirecting.log") as redirecting:
            path = version["downloadUrl"].split("/files/", 1)[1]
            for pair in range(args.repeat * args.downloads):
                download_pair(
                    pair,
                    size,
                    ours=(partial(download, pool, f"{redirecting.base_url}/files/{path}"), timings.download_redirected),
                    raw=(partial(raw_get, minio, f"raw-{args.repeat}"), timings.raw_get_beside_redirect),
                )
        # The same bytes through the bare pass-through: what no proxy on this machine can beat.
        with running_passthrough(minio.presigned_get_object(RAW_BUCKET, f"raw-{args.repeat}")) as (url, pid):
            for pair in range(args.repeat * args.downloads):
                download_pair(
                    pair,
                    size,
                    ours=(partial(download, pool, url), timings.download_passthrough),
                    raw=(partial(raw_get, minio, f"raw-{args.repeat}"), timings.raw_get_beside_passthrough),
                )
            passthrough_cpu = cpu_per_transfer(pid, args.cpu_rounds, url, pool, minio, f"raw-{args.repeat}")
        cpu["passthrough_machine"] = passthrough_cpu["ours_machine"]
        cpu["passthrough_server"] = passthrough_cpu["ours_server"]

    names = (
        "upload",
        "download",
        "download_httpx",
        "download_redirected",
        "raw_put",
        "raw_get",
        "raw_get_beside_redirect",
        "download_passthrough",
        "raw_get_beside_passthrough",
    )
    best = {name: min(getattr(timings, name)) for name in names}
    median = {name: statistics.median(getattr(timings, name)) for name in names}
    rate = {name: size / MiB / seconds for name, seconds in best.items()}
    # With a resettable peak, each phase's growth is over the RSS it started from; without, over the start.
    peak = max([*timings.peaks, memory_after["VmHWM"]])
    growth = (
        max(timings.upload_peak_growth + timings.download_peak_growth)
        if peak_resettable
        else peak - memory_before["VmRSS"]
    )
    return {
        "size_bytes": size,
        "repeat": args.repeat,
        "best_seconds": best,
        "mib_per_s": rate,
        "upload_ratio": rate["upload"] / rate["raw_put"],
        "download_ratio": rate["download"] / rate["raw_get"],
        "download_httpx_ratio": rate["download_httpx"] / rate["raw_get"],
        "download_redirected_ratio": rate["download_redirected"] / rate["raw_get_beside_redirect"],
        "median_seconds": median,
        "download_median_ratio": median["raw_get"] / median["download"],
        "download_redirected_median_ratio": median["raw_get_beside_redirect"] / median["download_redirected"],
        "download_passthrough_ratio": rate["download_passthrough"] / rate["raw_get_beside_passthrough"],
        "download_passthrough_median_ratio": median["raw_get_beside_passthrough"] / median["download_passthrough"],
        "downloads_per_round": args.downloads,
        "all_seconds": {name: getattr(timings, name) for name in names},
        "cpu_per_download": cpu,
        "server_rss": {
            "before": memory_before["VmRSS"],
            "after": memory_after["VmRSS"],
            "peak": peak,
            "peak_growth_upload": max(timings.upload_peak_growth),
            "peak_growth_download": max(timings.download_peak_growth),
            "peak_growth": growth,
            "peak_per_phase": peak_resettable,
        },
        "targets": {"upload_ratio": UPLOAD_TARGET, "download_ratio": DOWNLOAD_TARGET, "rss_growth": RSS_TARGET},
    }


def _download_rows(figures: dict[str, Any], how: str, ours: str, raw: str) -> list[Row]:
    """The best rates of downloads `how`, and the median times, each beside the raw GETs paired with them."""
    best, median = figures["mib_per_s"], figures["median_seconds"]
    return [
        Row(
            f"download {how} MiB/s",
            f"{best[ours]:.1f}",
            f"{best[raw]:.1f}",
            ratio_text(best[ours] / best[raw]),
        ),
        Row(
            f"  median of each side, {how}",
            f"{median[ours]:.3f} s",
            f"{median[raw]:.3f} s",
            ratio_text(median[raw] / median[ours]),
        ),
    ]


def report(figures: dict[str, Any]) -> None:
    rate = figures["mib_per_s"]
    rss = figures["server_rss"]
    cpu = figures["cpu_per_download"]
    rows = [
        Row(
            "upload (createDocument multipart) MiB/s",
            f"{rate['upload']:.1f}",
            f"{rate['raw_put']:.1f}",
            ratio_text(figures["upload_ratio"]),
            target_text(f"≥ {UPLOAD_TARGET:.2f}×", figures["upload_ratio"] >= UPLOAD_TARGET),
        ),
        Row(
            "download (downloadUrl GET, urllib3) MiB/s",
            f"{rate['download']:.1f}",
            f"{rate['raw_get']:.1f}",
            ratio_text(figures["download_ratio"]),
            target_text(f"≥ {DOWNLOAD_TARGET:.2f}×", figures["download_ratio"] >= DOWNLOAD_TARGET),
        ),
        Row(
            "download, median of each side",
            f"{figures['median_seconds']['download']:.3f} s",
            f"{figures['median_seconds']['raw_get']:.3f} s",
            ratio_text(figures["download_median_ratio"]),
        ),
        Row(
            "download read with httpx MiB/s",
            f"{rate['download_httpx']:.1f}",
            f"{rate['raw_get']:.1f}",
            ratio_text(figures["download_httpx_ratio"]),
        ),
        *_download_rows(figures, "redirected to S3 (setting)", "download_redirected", "raw_get_beside_redirect"),
        *_download_rows(figures, "through a bare pass-through", "download_passthrough", "raw_get_beside_passthrough"),
        Row(
            "upload best time",
            f"{figures['best_seconds']['upload']:.2f} s",
            f"{figures['best_seconds']['raw_put']:.2f} s",
        ),
        Row(
            "download best time",
            f"{figures['best_seconds']['download']:.2f} s",
            f"{figures['best_seconds']['raw_get']:.2f} s",
        ),
        Row(
            "CPU per download, whole machine",
            f"{cpu['ours_machine'] * 1000:.0f} ms",
            f"{cpu['raw_machine'] * 1000:.0f} ms",
        ),
        Row("  of which the Kartoteka server", f"{cpu['ours_server'] * 1000:.0f} ms"),
        Row("CPU per download through the pass-through", f"{cpu['passthrough_machine'] * 1000:.0f} ms"),
        Row("  of which the pass-through", f"{cpu['passthrough_server'] * 1000:.0f} ms"),
        Row(
            f"cores busy during a download (of {cpu['cores']:.0f})",
            f"{cpu['ours_machine'] / cpu['ours_wall']:.2f}",
            f"{cpu['raw_machine'] / cpu['raw_wall']:.2f}",
        ),
        Row("server RSS before", mib(rss["before"])),
        Row("server RSS after", mib(rss["after"])),
        Row("server peak RSS (VmHWM) during transfers", mib(rss["peak"])),
        Row("server peak RSS growth, upload", mib(rss["peak_growth_upload"])),
        Row("server peak RSS growth, download", mib(rss["peak_growth_download"])),
        Row(
            "server peak RSS growth",
            mib(rss["peak_growth"]),
            target=target_text(f"≤ {mib(RSS_TARGET)}", rss["peak_growth"] <= RSS_TARGET),
        ),
    ]
    print_table(
        f"transfer: {mib(figures['size_bytes'])} file, best of {figures['repeat']}, SeaweedFS S3 on 127.0.0.1"
        " (raw = MinIO SDK fput_object / get_object)",
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=50, help="size of the file in MiB (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept (default 3)")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds")
    parser.add_argument("--request-timeout", type=float, default=600, help="per-request timeout in seconds")
    parser.add_argument("--downloads", type=int, default=5, help="download pairs (ours, raw) per round (default 5)")
    parser.add_argument("--cpu-rounds", type=int, default=10, help="downloads per CPU measurement (default 10)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results.json")
    parser.add_argument("--quick", action="store_true", help="a small run (2 MiB, once) to check the script works")
    args = parser.parse_args(argv)
    if args.quick:
        args.size_mb, args.repeat, args.downloads, args.cpu_rounds = min(args.size_mb, 2), 1, 1, 2
    try:
        with deadline(args.timeout):
            figures = run(args)
    except BenchTimeout as exc:
        print(f"transfer: {exc}", file=sys.stderr)
        return 1
    report(figures)
    if not args.no_save:
        print(f"figures saved in {merge_results('transfer', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

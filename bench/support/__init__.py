"""Helpers shared by the benchmark scripts (a package, so `make bench` does not run it as a script).

Every script prints one table — measurement, ours, raw, ratio, target — and merges its figures
into ``bench/results.json`` under its own name, keeping the other scripts' entries.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_FILE = BENCH_DIR / "results.json"
MiB = 1024 * 1024


def use_repo_root() -> None:
    """Make the repository root importable (for `tests.servers`), whatever the working directory."""
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    measurement: str
    ours: str
    raw: str = ""
    ratio: str = ""
    target: str = ""


def ratio_text(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.2f}×"


def target_text(target: str, met: bool | None) -> str:
    """The target, with whether this run met it (never asserted: speed depends on the machine)."""
    if met is None:
        return target
    return f"{target} ({'met' if met else 'MISSED'})"


def print_table(title: str, rows: Sequence[Row]) -> None:
    header = Row("measurement", "ours", "raw", "ratio", "target")
    table = [header, *rows]
    widths = [max(len(getattr(row, name)) for row in table) for name in Row.__dataclass_fields__]

    def line(row: Row) -> str:
        cells = [getattr(row, name) for name in Row.__dataclass_fields__]
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print()
    print(title)
    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))
    print(flush=True)


def merge_results(name: str, figures: dict[str, Any]) -> Path:
    """Store `figures` under `name` in bench/results.json, keeping every other script's entry.

    $KARTOTEKA_BENCH_RESULTS names another file: bench/report.py collects each script's figures there.
    """
    results_file = Path(os.environ.get("KARTOTEKA_BENCH_RESULTS") or RESULTS_FILE)
    try:
        existing = json.loads(results_file.read_text(encoding="utf-8"))
        if not isinstance(existing, dict):
            existing = {}
    except (OSError, ValueError):
        existing = {}
    existing[name] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), **figures}
    temporary = results_file.with_name(results_file.name + ".tmp")
    temporary.write_text(json.dumps(existing, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, results_file)
    return results_file


# -- statistics ------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (`fraction` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# -- processes -------------------------------------------------------------------------------


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc/<pid>/status."""
    figures: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0]) * 1024
    return figures


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) a process has used, or, without `pid`, the whole machine (all cores)."""
    ticks = os.sysconf("SC_CLK_TCK")
    if pid is not None:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks
    with open("/proc/stat", encoding="ascii") as stat:
        # cpu  user nice system idle iowait irq softirq steal ...
        values = [int(v) for v in stat.readline().split()[1:9]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
    return busy / ticks


def reset_peak_rss(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (Linux ≥ 4.0); False where not permitted."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tied_to_this_process(command: list[str]) -> list[str]:
    """Have the kernel kill `command` should this script die without cleaning up (util-linux setpriv)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


class BenchTimeout(Exception):
    """The whole run took longer than its --timeout."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise BenchTimeout in the main thread after `seconds`, so cleanup still runs."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise BenchTimeout(f"the benchmark ran longer than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def temporary_directory(prefix: str) -> Iterator[Path]:
    """A short temp path (SeaweedFS socket paths must stay short), removed whatever happens."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def venv_bin(name: str) -> str:
    """A console script installed beside the running interpreter (the project's .venv)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed beside {sys.executable}")
    return found


def mib(value: float) -> str:
    return f"{value / MiB:.1f} MiB"

"""Run every benchmark in bench/ and print one table of ours vs raw; write it to bench/results.json.

Each script runs as its own process (as ``python bench/<name>.py``, its own output shown as it
goes) and stores its figures in a scratch file (``$KARTOTEKA_BENCH_RESULTS``); this collects them,
prints the headline rows of all of them in one table — each a ratio with the absolute figures
beside it — and writes the table plus every script's full figures to bench/results.json.

``--quick`` runs each script's small mode, only to check that everything works: its figures mean
nothing, so they are written only where ``--output`` says.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import BENCH_DIR, RESULTS_FILE, Row, print_table, ratio_text, target_text


def _transfer(figures: dict[str, Any]) -> list[Row]:
    rate, targets = figures["mib_per_s"], figures["targets"]
    return [
        Row(
            "upload MiB/s (vs MinIO SDK put)",
            f"{rate['upload']:.1f}",
            f"{rate['raw_put']:.1f}",
            ratio_text(figures["upload_ratio"]),
            target_text(f"≥ {targets['upload_ratio']:.2f}×", figures["upload_ratio"] >= targets["upload_ratio"]),
        ),
        Row(
            "download MiB/s (vs MinIO SDK get)",
            f"{rate['download']:.1f}",
            f"{rate['raw_get']:.1f}",
            ratio_text(figures["download_ratio"]),
            target_text(f"≥ {targets['download_ratio']:.2f}×", figures["download_ratio"] >= targets["download_ratio"]),
        ),
    ]


def _card(figures: dict[str, Any]) -> list[Row]:
    target = figures["targets"]["ratio"]
    return [
        Row(
            "card query req/s (vs { __typename })",
            f"{figures['card']['req_per_s']:.0f}",
            f"{figures['typename']['req_per_s']:.0f}",
            ratio_text(figures["ratio"]),
            target_text(f"≥ {target:.2f}×", figures["ratio"] >= target),
        )
    ]


def _search(figures: dict[str, Any]) -> list[Row]:
    indexing, search, targets = figures["indexing"], figures["search"], figures["targets"]
    return [
        Row(
            "indexing docs/s (vs raw Whoosh)",
            f"{indexing['ours_docs_per_s']:.0f}",
            f"{indexing['raw_docs_per_s']:.0f}",
            ratio_text(indexing["ratio"]),
            target_text(f"≥ {targets['indexing_ratio']:.2f}×", indexing["ratio"] >= targets["indexing_ratio"]),
        ),
        Row(
            "search p95 ms (vs raw Whoosh)",
            f"{search['service']['p95_ms']:.1f}",
            f"{search['raw']['p95_ms']:.1f}",
            ratio_text(search["service_p95_ratio"]),
            target_text(
                f"≤ {targets['search_p95_ratio']:.2f}×", search["service_p95_ratio"] <= targets["search_p95_ratio"]
            ),
        ),
    ]


def _keyset(figures: dict[str, Any]) -> list[Row]:
    target = figures["targets"]["ratio"]
    return [
        Row(
            f"keyset page {figures['pages']:,} p50 ms (vs page 1), {figures['documents']:,} docs",
            f"{figures['last_page_p50_ms']:.1f}",
            f"{figures['first_page_p50_ms']:.1f}",
            ratio_text(figures["ratio"]),
            target_text(f"≤ {target:.2f}×", figures["ratio"] <= target),
        )
    ]


# How each script's figures become rows of the one table; a script missing here still runs.
HEADLINES: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "transfer": _transfer,
    "card": _card,
    "search": _search,
    "keyset": _keyset,
}


def scripts() -> list[Path]:
    """Every benchmark script: bench/*.py but this one (bench/support is a package, not a script)."""
    return sorted(path for path in BENCH_DIR.glob("*.py") if path.name != Path(__file__).name)


def run_script(path: Path, scratch: Path, quick: bool) -> int:
    command = [sys.executable, str(path), *(["--quick"] if quick else [])]
    print(f"\n=== {' '.join([Path(command[0]).name, *command[1:]])}", flush=True)
    environment = {**os.environ, "KARTOTEKA_BENCH_RESULTS": str(scratch)}
    return subprocess.run(command, env=environment, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each script's small mode (figures not saved)")
    parser.add_argument("--only", nargs="*", default=None, help="run only these scripts (e.g. card keyset)")
    parser.add_argument("--output", type=Path, default=None, help="where to write the results (JSON)")
    args = parser.parse_args(argv)
    output = args.output or (None if args.quick else RESULTS_FILE)
    chosen = [path for path in scripts() if args.only is None or path.stem in args.only]

    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kt-bench-report-") as directory:
        scratch = Path(directory) / "results.json"
        for path in chosen:
            if run_script(path, scratch, args.quick) != 0:
                failed.append(path.stem)
        collected: dict[str, Any] = json.loads(scratch.read_text(encoding="utf-8")) if scratch.exists() else {}

    rows: list[Row] = []
    for path in chosen:
        figures = collected.get(path.stem)
        if path.stem in failed or figures is None:
            rows.append(Row(f"{path.stem}: FAILED (see its output above)", ""))
        elif path.stem in HEADLINES:
            rows.extend(HEADLINES[path.stem](figures))
    title = "all benchmarks (ratio = ours / raw)" + (" — QUICK MODE, figures mean nothing" if args.quick else "")
    print_table(title, rows)
    if output is not None:
        results = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": args.quick,
            "summary": [asdict(row) for row in rows],
            **collected,
        }
        output.write_text(json.dumps(results, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        print(f"results written to {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Markdown tables from the JSON that ``bench/rush.py --json FILE`` writes.

    python bench/report.py results.json >> docs/benchmarks.md
"""
from __future__ import annotations

import json
import statistics
import sys


def _med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _codes(runs, key):
    totals: dict[str, int] = {}
    for run in runs:
        for code, count in run[key]["by_code"].items():
            totals[code] = totals.get(code, 0) + count
    return ", ".join(f"{code}: {count}" for code, count in totals.items())


def _checks_ok(runs, keys=("rush_checks", "hotspot_checks")) -> str:
    bad = 0
    for run in runs:
        for key in keys:
            checks = run[key]
            bad += sum(checks[k] for k in ("slots_where_seats_differ_from_people", "slots_over_capacity",
                                           "staff_with_two_active_in_a_campaign"))
            bad += (not checks.get("reservations_match_201", True)) + (not checks.get("exactly_capacity_booked", True))
    return "all 0" if bad == 0 else f"{bad} FAILED"


def _idle(run: dict, workers: int, cores: int) -> float | None:
    """rush.idle_estimate from a run's figures (kept here so that old JSON files get it too)."""
    rush = run["rush"]
    server_ms = rush.get("server_cpu_ms_per_request")
    if not server_ms:
        return None
    server_ms = server_ms * rush["count"] / max(rush["booked"], 1)
    wrk_ms = rush["wrk_cpu_s"] * 1000 / max(rush["count"], 1)
    return 1000 * min(cores / (server_ms + wrk_ms), min(workers, cores) / server_ms)


def _floor_table(configs: list[dict]) -> None:
    """The app and bench/floor.py side by side, measured in the same runs (median of the runs)."""
    print("\n### The app and the floor (bench/floor.py), the same runs (median)\n")
    print("| database | workers | side | bookings/s | `/healthz`/s | ratio | p95 ms | CPU ms/booking "
          "| CPU ms/`/healthz` | floor checks |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in configs:
        md, runs = c["median"], [r for r in c["runs"] if r.get("floor")]
        if not runs:
            continue
        floor_ok = _checks_ok([r["floor"] for r in runs], keys=("rush_checks",))
        for side, prefix, checks in (("app", "", "–"), ("floor", "floor_", floor_ok)):
            print(f"| {c['database']} | {c['workers']} | {side} | {_fmt(md[prefix + 'bookings_per_s'], 1)} "
                  f"| {_fmt(md[prefix + 'ceiling_per_s'], 0)} | {_fmt(md[prefix + 'ratio'], 3)} "
                  f"| {_fmt(md[prefix + 'rush_p95_ms'], 0)} | {_fmt(md[prefix + 'rush_server_cpu_ms'], 2)} "
                  f"| {_fmt(md[prefix + 'ceiling_server_cpu_ms'], 2)} | {checks} |")


def main(path: str) -> None:
    with open(path) as handle:
        data = json.load(handle)
    m = data["machine"]
    print(f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}; "
          f"started {data['started']}, load average at the start {data['load']}.  ")
    print(f"Command: `{data['command']}`\n")
    configs = data["configurations"]

    print("### Rush: 3,000 staff, 32 clients, each books once (median of the runs)\n")
    print("| database | workers | runs | load (1 min) | bookings/s | p50 ms | p95 ms | p99 ms | ceiling /s "
          "| ratio | server CPU ms/booking | ms/healthz | idle estimate /s | answers | checks |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in configs:
        md, runs = c["median"], c["runs"]
        loads = "–".join(sorted({r["load"].split()[0] for r in runs}, key=float)[::max(len(runs) - 1, 1)])
        print(f"| {c['database']} | {c['workers']} | {len(runs)} | {loads} | {_fmt(md['bookings_per_s'], 1)} "
              f"| {_fmt(md['rush_p50_ms'], 0)} | {_fmt(md['rush_p95_ms'], 0)} | {_fmt(md['rush_p99_ms'], 0)} "
              f"| {_fmt(md['ceiling_per_s'], 0)} | {_fmt(md['ratio'], 3)} | {_fmt(md['rush_server_cpu_ms'], 1)} "
              f"| {_fmt(md['ceiling_server_cpu_ms'], 2)} "
              f"| {_fmt(_med([_idle(r, c['workers'], m['nproc']) for r in runs]), 0)} "
              f"| {_codes(runs, 'rush')} | {_checks_ok(runs)} |")

    if any(r.get("floor") for c in configs for r in c["runs"]):
        _floor_table(configs)

    print("\n### Hot spot: everyone aims at the first five slots (capacity 25)\n")
    print("| database | workers | booked | slot_full | slot_full p50 ms | p95 ms | p99 ms | answers/s "
          "| server CPU ms/answer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in configs:
        runs = c["runs"]
        print(f"| {c['database']} | {c['workers']} | {'/'.join(str(r['hotspot']['booked']) for r in runs)} "
              f"| {'/'.join(str(r['hotspot']['slot_full']) for r in runs)} "
              f"| {_fmt(_med([r['hotspot']['slot_full_latency']['p50_ms'] for r in runs]), 0)} "
              f"| {_fmt(_med([r['hotspot']['slot_full_latency']['p95_ms'] for r in runs]), 0)} "
              f"| {_fmt(_med([r['hotspot']['slot_full_latency']['p99_ms'] for r in runs]), 0)} "
              f"| {_fmt(_med([r['hotspot']['per_s'] for r in runs]), 0)} "
              f"| {_fmt(_med([r['hotspot']['server_cpu_ms_per_request'] for r in runs]), 1)} |")

    print("\n### Read paths with 20,000 reservations; rosters of 500 people; memory\n")
    keys = ["session_list_html c=1", "session_list_api c=1", "slot_grid_html c=1",
            "session_list_html c=32", "session_list_api c=32", "slot_grid_html c=32",
            "roster_html", "roster_csv", "roster_xlsx", "roster_api_csv"]
    print("| database | workers | " + " | ".join(k.replace("_", " ") for k in keys)
          + " | worker RSS after the rush / at the end (MiB) |")
    print("|---|---|" + "---|" * len(keys) + "---|")
    for c in configs:
        reads = c.get("reads") or {}
        cells = []
        for key in keys:
            value = reads.get(key)
            cells.append("–" if not value else f"p95 {_fmt(value['p95_ms'], 0)} (p50 {_fmt(value['p50_ms'], 0)}; "
                                                f"{_fmt(value['server_cpu_ms_per_request'], 1)} ms CPU)")
        rss = f"{max(c.get('rss_after_rush_mib') or [0])} / {max(c.get('rss_end_mib') or [0])}"
        print(f"| {c['database']} | {c['workers']} | " + " | ".join(cells) + f" | {rss} |")


if __name__ == "__main__":
    main(sys.argv[1])

"""`python -m bench [--scales 100k,1m,10m]`: measure every page at each scale, against the pandas peer,
and write docs/benchmarks.md and bench/results.json (see bench/report.py for what the tables say).

    python -m bench                      all three scales (first run builds the data: ~15 min at 10M)
    python -m bench --scales 100k,1m     a quicker run
    python -m bench --skip-browser       no Chromium measurements
    python -m bench --only-hmis          only the HMIS export import, merged into the last run's results
    python -m bench --only-maps          only the board's map (readability, time to draw), merged likewise
    python -m bench --only-survey        only the survey's scoring at 5,000 members, merged likewise
    python -m bench --only-tab           only page switches in one open Chromium tab at --scales, merged likewise
    python -m bench --baseline REV       the one-tab runs at 1M and 10M alternated with commit REV's code, side by side
    python -m bench --only-import        only the CSV import, the demo and an upgrade at --scales (time, peak memory,
                                         stages), merged likewise
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

from bench import baseline, browser, hmis_data, maps, peer, survey, tab
from bench.data import CACHE, ROOT, SCALES, ensure
from bench.report import write


def log(message: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def machine() -> dict:
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), None)
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--short", "--", "atlas", "pages", "queries", "dashboard.py").splitlines(),
        "date": dt.datetime.now().isoformat(timespec="minutes"), "cpus": os.cpu_count(), "cpu": model,
        "memory_mib": memory, "python": platform.python_version(), "platform": platform.platform(),
        **{name: version(name) for name in ("duckdb", "pandas", "pyarrow", "numpy", "streamlit", "plotly", "igraph",
                                           "pyvis")},
    }


def worker(*args: str, timeout: int) -> dict:
    """One measurement in a fresh process; {"timeout_s": ...} or {"error": ...} when it did not finish."""
    try:
        done = subprocess.run([sys.executable, "-m", "bench.worker", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"  {' '.join(args[:3])}: no result within {timeout} s")
        return {"timeout_s": timeout}
    if done.returncode:
        log(f"  {' '.join(args[:3])} failed: {done.stderr.strip().splitlines()[-1:]}")
        return {"error": done.stderr.strip()[-1500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(label: str, args) -> dict:
    scale = ensure(SCALES[label])
    db = str(scale.db)
    out = {"referrals": scale.referrals, "agencies": scale.agencies, "load_before": os.getloadavg(), "pages": {}}
    t = args.timeout
    for page in peer.PAGES:
        log(f"{label}: {page} page (AppTest), cold process + {args.warm} warm runs + profile")
        main = worker("page", db, page, str(args.warm), "profile", timeout=t)
        colds = [main.get("cold_total_s")]
        for _ in range(args.cold - 1):
            if "cold_total_s" not in main or main["cold_total_s"] > t / 3:
                break  # a page this slow is not run cold again
            colds.append(worker("page", db, page, "0", timeout=t).get("cold_total_s"))
        main["cold_totals_s"] = colds
        out["pages"][page] = main

    log(f"{label}: headline figures, Atlas and the pandas peer")
    figures = {}
    for side, source in (("atlas", db), ("pandas", str(scale.parquet))):
        target = CACHE / f"figures_{side}.pickle"
        target.unlink(missing_ok=True)
        out[side] = worker("figures", side, source, str(args.warm), str(target), timeout=2 * t)
        figures[side] = pickle.loads(target.read_bytes()) if target.exists() else None
    if figures["atlas"] and figures["pandas"]:
        out["agreement"] = {page: peer.differences(figures["atlas"][page], figures["pandas"][page])
                            for page in peer.PAGES}

    log(f"{label}: CSV import")
    out["import"] = measure_import(scale, timeout=2 * t)
    out.update(measure_demo_and_upgrade(scale, timeout=2 * t))

    if not args.skip_browser:
        log(f"{label}: page switches in one open tab")
        one_tab(out, label, args)
        log(f"{label}: headless Chromium")
        try:
            out["browser"] = browser.run(scale.db, timeout_s=t)
        except Exception as error:  # reported, the rest of the run stands
            log(f"  browser failed: {error}")
            out["browser"] = {"error": str(error)[-1500:]}
    out["load_after"] = os.getloadavg()
    return out


COMPARED = ("1m", "10m")  # the scales --baseline compares (the issue's: page switches at 1M and 10M)


def one_tab(out: dict, label: str, args) -> None:
    """`out["tab"]` at `label`; with --baseline at a compared scale, `out["compare"]` too, the tab figures being
    the after side of the alternated runs."""
    db = ensure(SCALES[label]).db
    try:
        if args.baseline and label in COMPARED:
            compared = baseline.measure(db, args.baseline, log=log)
            out["compare"] = compared
            out["tab"] = {**compared["after"], "date": compared["date"], "commit": machine()["commit"],
                          "load": compared["load"], "runs": compared["rounds"]}
        else:
            out["tab"] = tab.measure(db, machine()["commit"])
    except Exception as error:  # reported, the rest of the run stands
        log(f"  one-tab run failed: {error}")
        out["tab"] = {"error": str(error)[-1500:]}


def measure_import(scale, timeout: int) -> dict:
    """The scale's contract CSV files imported by the CLI in a fresh process: time, peak memory, stages."""
    return _measured("import", str(scale.csv), str(CACHE / "import_timing.duckdb"), timeout=timeout)


def measure_demo_and_upgrade(scale, timeout: int) -> dict:
    """The demo of the scale's size built by the CLI, and the scale's database upgraded (its model rebuilt over its
    rows), each in a fresh process: time, peak memory, stages (issue 18: "the same for atlas upgrade and the demo")."""
    return {"demo": _measured("demo", str(scale.referrals), str(scale.agencies), str(CACHE / "demo_timing.duckdb"),
                              timeout=timeout),
            "upgrade": _measured("upgrade", str(scale.db), str(CACHE / "upgrade_timing.duckdb"), timeout=timeout)}


def _measured(*args: str, timeout: int) -> dict:
    load = os.getloadavg()
    out = worker(*args, timeout=timeout)
    out["measured"] = {"date": dt.datetime.now().isoformat(timespec="minutes"), "commit": machine()["commit"],
                       "load": load}
    return out


RESULTS = ROOT / "bench" / "results.json"


def merge_per_scale(args, what: str, measure_one) -> None:
    """`measure_one(results, label)` at each of --scales, into the last run's results (bench/results.json,
    saved after each scale), then docs/benchmarks.md rewritten."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"machine": machine(), "scales": {}}
    results.setdefault("merged", []).append({"what": what, "command": " ".join(["python -m bench", *sys.argv[1:]]),
                                             "date": dt.datetime.now().isoformat(timespec="minutes"),
                                             "commit": machine()["commit"]})
    for label in [s.strip().lower() for s in args.scales.split(",") if s.strip()]:
        log(f"{label}: {what}")
        measure_one(results, label)
        RESULTS.write_text(json.dumps(results, indent=1, default=str) + "\n")
    write(results)
    log(f"{what} measured; docs/benchmarks.md rewritten")


def measure_hmis(args) -> dict:
    """The HMIS export of `hmis_data.HmisScale` (built once, cached) imported by the CLI, in a fresh process."""
    scale = hmis_data.HmisScale()
    log(f"HMIS export: {scale.enrollments:,} enrollments, {scale.events:,} events (building it if not cached)")
    export = hmis_data.build(scale)
    load = os.getloadavg()
    out = worker("hmis-import", str(export), str(CACHE / "hmis_timing.duckdb"), timeout=2 * args.timeout)
    out["scale"] = {"enrollments": scale.enrollments, "events": scale.events}
    out["measured"] = {"date": dt.datetime.now().isoformat(timespec="minutes"), "commit": machine()["commit"],
                       "load": load}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="100k,1m,10m", help="comma-separated: 100k, 1m, 10m")
    parser.add_argument("--warm", type=int, default=3, help="warm runs per page (median)")
    parser.add_argument("--cold", type=int, default=2, help="fresh processes per page (median of cold)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one measurement may take")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--only-hmis", action="store_true",
                        help="measure only the HMIS export import and merge it into bench/results.json")
    parser.add_argument("--only-tab", action="store_true",
                        help="measure only page switches in one open tab (at --scales) and merge them into bench/results.json")
    parser.add_argument("--baseline", metavar="REV",
                        help="also serve commit REV for the one-tab runs at 1M and 10M, alternated, side by side")
    parser.add_argument("--only-import", action="store_true",
                        help="measure only the CSV import (at --scales) and merge it into bench/results.json")
    parser.add_argument("--only-maps", action="store_true",
                        help="measure only the board's map (150 and 5,000 agencies) and merge it into bench/results.json")
    parser.add_argument("--only-survey", action="store_true",
                        help="measure only the survey's scoring (a round of 5,000 members naming ten partners each) and "
                             "merge it into bench/results.json")
    args = parser.parse_args()
    if args.only_survey:
        path = ROOT / "bench" / "results.json"
        results = json.loads(path.read_text())
        results["survey"] = survey.run()
        results.setdefault("merged", []).append({"what": "the survey's scoring", "date": dt.datetime.now().isoformat(
            timespec="minutes"), "commit": machine()["commit"]})
        path.write_text(json.dumps(results, indent=1, default=str) + "\n")
        write(results)
        log("survey measured; docs/benchmarks.md rewritten")
        return
    if args.only_tab:
        def tab_only(results: dict, label: str) -> None:
            out: dict = {}
            one_tab(out, label, args)
            results.setdefault("tab", {})[label] = out["tab"]
            if "compare" in out:
                results.setdefault("compare", {})[label] = out["compare"]

        merge_per_scale(args, "page switches in one open tab", tab_only)
        return
    if args.only_import:
        def one_import(results: dict, label: str) -> None:
            scale = results.setdefault("scales", {}).setdefault(label, {})
            scale["import"] = measure_import(ensure(SCALES[label]), timeout=2 * args.timeout)
            scale.update(measure_demo_and_upgrade(ensure(SCALES[label]), timeout=2 * args.timeout))

        merge_per_scale(args, "CSV import", one_import)
        return
    if args.only_maps:
        path = ROOT / "bench" / "results.json"
        results = json.loads(path.read_text())
        results["maps"] = maps.run()
        results.setdefault("merged", []).append({"what": "the board's map", "date": dt.datetime.now().isoformat(
            timespec="minutes"), "commit": machine()["commit"]})
        path.write_text(json.dumps(results, indent=1, default=str) + "\n")
        write(results)
        log("maps measured; docs/benchmarks.md rewritten")
        return
    if args.only_hmis:
        path = ROOT / "bench" / "results.json"
        results = json.loads(path.read_text())
        results["hmis"] = measure_hmis(args)
        results.setdefault("merged", []).append({"what": "the HMIS import", "date": dt.datetime.now().isoformat(
            timespec="minutes"), "commit": machine()["commit"]})
        path.write_text(json.dumps(results, indent=1, default=str) + "\n")
        write(results)
        log(f"HMIS import: {results['hmis'].get('import_s', 0):.1f} s; docs/benchmarks.md rewritten")
        return
    labels = [s.strip().lower() for s in args.scales.split(",") if s.strip()]
    unknown = [s for s in labels if s not in SCALES]
    if unknown:
        parser.error(f"unknown scale {unknown}; choose from {', '.join(SCALES)}")
    started = time.perf_counter()
    results = {"machine": machine(), "command": " ".join(["python -m bench", *sys.argv[1:]]), "scales": {}}
    for label in labels:
        results["scales"][label] = measure(label, args)
        (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    results["tab"] = {label: sc.pop("tab") for label, sc in results["scales"].items() if "tab" in sc}
    results["compare"] = {label: sc.pop("compare") for label, sc in results["scales"].items() if "compare" in sc}
    results["hmis"] = measure_hmis(args)
    results["maps"] = maps.run()
    results["survey"] = survey.run()
    results["total_minutes"] = (time.perf_counter() - started) / 60
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    write(results)
    log(f"done in {results['total_minutes']:.1f} min: docs/benchmarks.md, bench/results.json")


if __name__ == "__main__":
    main()

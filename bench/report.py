"""docs/benchmarks.md from bench/results.json: tables, targets met or missed, and bench/notes.md (the
hand-written reading of the run) appended as it is."""

from __future__ import annotations

import statistics

from bench import baseline, maps, survey, tab
from bench.data import ROOT

PAGES = {"overview": "Overview", "bottlenecks": "Bottlenecks", "need": "Need vs capacity", "network": "Network map",
         "outcomes": "Outcomes"}
LABELS = {"100k": "100k", "1m": "1M", "10m": "10M"}


def s(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def mib(value) -> str:
    return "—" if value is None else f"{value:,.0f} MiB"


def ratio(a, b) -> str:
    return "—" if not a or not b else f"{a / b:.2f}"


def failed(m: dict) -> str | None:
    if "timeout_s" in m:
        return f"> {m['timeout_s']} s"
    if "error" in m:
        return "failed"
    return None


def verdict(value, target, unit="s") -> str:
    if value is None:
        return "not measured"
    if value <= target:
        return "**met**"
    return f"**missed** by {value - target:,.2f} {unit} ({value / target:.1f}×)"


def targets(results: dict) -> list[str]:
    scales = results["scales"]
    big = scales.get("10m")
    lines = ["## Targets (issue 9)", "",
             "| target | measured | verdict |", "|---|---|---|"]
    for label, limit in (("10m", 1.0), ("1m", 0.3)):
        sc = scales.get(label)
        if not sc:
            continue
        for page, name in PAGES.items():
            m = sc["pages"].get(page, {})
            lines.append(f"| {name}: warm server time at {LABELS[label]} ≤ {limit} s | {failed(m) or s(m.get('warm_s'))} "
                         f"| {verdict(m.get('warm_s'), limit) if not failed(m) else '**missed**'} |")
    if big:
        first = big["pages"].get("overview", {})
        cold = statistics.median([c for c in first.get("cold_totals_s", []) if c is not None] or [0]) or None
        lines.append(f"| cold first page after start ≤ 5 s (Overview, fresh process: imports + first run) "
                     f"| {s(cold)} | {verdict(cold, 5)} |")
        b = big.get("browser", {}).get("pages", {}).get("overview", {})
        if b.get("since_start_s") is not None:
            lines.append(f"| the same in Chromium: server start to the Overview's chart drawn | {s(b['since_start_s'])} "
                         f"| {verdict(b['since_start_s'], 5)} |")
        peaks = [p.get("peak_mib") for p in big["pages"].values() if p.get("peak_mib")]
        tour = big.get("browser", {}).get("tour", {}).get("server_peak_mib")
        peak = max(peaks + ([tour] if tour else []), default=None)
        lines.append(f"| server peak memory ≤ 1.5 GB (1,536 MiB; the largest of every page's process and the "
                     f"served app after a tour of all pages) | {mib(peak)} | {verdict(peak, 1536, 'MiB')} |")
        imp = big.get("import", {}).get("import_s")
        lines.append(f"| import of 10,000,000 referral rows from CSV ≤ 90 s | {failed(big.get('import', {})) or s(imp)} "
                     f"| {verdict(imp, 90)} |")
        net = big.get("browser", {}).get("pages", {}).get("network", {})
        lines.append(f"| network map drawn in the browser ≤ 3 s (navigation to map drawn, served app) "
                     f"| {s(net.get('cold_s'))} first visit, {s(net.get('repeat_s'))} repeat "
                     f"| {verdict(net.get('repeat_s'), 3)} (repeat), {verdict(net.get('cold_s'), 3)} (first) |")
        a, p = big.get("atlas", {}), big.get("pandas", {})
        if a.get("pages") and p.get("pages"):
            at = sum(v["warm_s"] for v in a["pages"].values())
            pt = sum(v["warm_s"] for v in p["pages"].values())
            full = sum(big["pages"][k].get("warm_s") or 0 for k in big["pages"])
            lines.append(f"| ≥ 5× faster than the pandas peer at 10M (same figures, all five pages, warm) "
                         f"| pandas {s(pt)} / Atlas {s(at)} = {pt / at:.1f}× | {'**met**' if pt / at >= 5 else '**missed**'} |")
            lines.append(f"| the same, Atlas's whole pages (AppTest, every section and chart) against the peer's figures "
                         f"| pandas {s(pt)} / Atlas {s(full)} = {pt / full:.1f}× | {'**met**' if pt / full >= 5 else '**missed**'} |")
            lines.append(f"| ≥ 3× leaner than the pandas peer at 10M (peak memory of the process computing the figures) "
                         f"| pandas {mib(p['peak_mib'])} / Atlas {mib(a['peak_mib'])} = {p['peak_mib'] / a['peak_mib']:.1f}× "
                         f"| {'**met**' if p['peak_mib'] / a['peak_mib'] >= 3 else '**missed**'} |")
            if peak:
                lines.append(f"| the same against Atlas's server peak (above) | pandas {mib(p['peak_mib'])} / Atlas "
                             f"{mib(peak)} = {p['peak_mib'] / peak:.1f}× | "
                             f"{'**met**' if p['peak_mib'] / peak >= 3 else '**missed**'} |")
    if len(lines) == 4:  # no scale the targets are set at was measured
        lines[2:] = ["The targets are set at 1M and 10M referrals; this run measured neither."]
    return lines + [""]


def page_tables(results: dict) -> list[str]:
    lines = ["## Pages: server time and memory", "",
             "Each page run headless by Streamlit's AppTest (bench/entry.py: the dashboard's shared sidebar filters, "
             "default period the last 12 months, then the page file), in a fresh process. **cold** is the first run "
             "in a fresh process including its imports (median of the fresh processes; the run alone in brackets); "
             "**warm** the median of further runs in the same process with Streamlit's data cache and the page-view "
             "cache cleared (a new filter choice: no cached query result or page; the connection and atlas' own "
             "in-process caches, such as the map's layout, stay warm); **repeat** a run with both caches kept (a "
             "second visitor with the same filters); **queries** the "
             "share of the warm run spent in Atlas.query (DuckDB, and fetching the result into pandas); "
             "**peak** the process's peak resident memory (ru_maxrss).", ""]
    for label, sc in results["scales"].items():
        lines += [f"### {LABELS[label]} referrals, {sc['agencies']:,} agencies", "",
                  "| page | cold (run) | warm | repeat | queries | peak |", "|---|---|---|---|---|---|"]
        for page, name in PAGES.items():
            m = sc["pages"].get(page, {})
            if failed(m):
                lines.append(f"| {name} | {failed(m)} | | | | |")
                continue
            colds = [c for c in m.get("cold_totals_s", []) if c is not None]
            share = m.get("warm_query_s", 0) / m["warm_s"] if m.get("warm_s") else None
            lines.append(f"| {name} | {s(statistics.median(colds) if colds else None)} ({s(m.get('cold_run_s'))}) "
                         f"| {s(m.get('warm_s'))} | {s(m.get('cached_s'))} | "
                         f"{'—' if share is None else f'{share:.0%}'} | {mib(m.get('peak_mib'))} |")
        lines.append("")
    return lines


def query_table(results: dict) -> list[str]:
    scales = results["scales"]
    lines = ["## Named queries per page", "",
             "Time of each named query as the page runs it (summed when a page runs it more than once, e.g. "
             "for the period before): warm (median), and cold at the largest scale (first run in a fresh process).",
             "", "| page | query | " + " | ".join(f"{LABELS[k]} warm" for k in scales) + f" | {LABELS[list(scales)[-1]]} cold |",
             "|---|---|" + "---|" * (len(scales) + 1)]
    last = scales[list(scales)[-1]]
    for page, name in PAGES.items():
        names = []
        for sc in scales.values():
            for q in sc["pages"].get(page, {}).get("warm_queries", {}):
                if q not in names:
                    names.append(q)
        for q in names:
            cells = [s(sc["pages"].get(page, {}).get("warm_queries", {}).get(q), 3) for sc in scales.values()]
            cold = s(last["pages"].get(page, {}).get("cold_queries", {}).get(q), 3)
            lines.append(f"| {name} | `{q}` | " + " | ".join(cells) + f" | {cold} |")
    return lines + [""]


def peer_table(results: dict) -> list[str]:
    lines = ["## Against the plain-pandas peer", "",
             "bench/peer.py loads every table from Parquet into DataFrames at startup (joining the agencies onto the "
             "referrals and deriving the durations once), then per page filters by the period and groups: the same "
             "figures as the named queries in `peer.atlas_figures` (checked equal, below and in "
             "tests/test_bench_peer.py). Both sides run in a process of their own: first call (cold) and the median "
             "of the warm calls; **×** is pandas time ÷ Atlas time (above 1: Atlas is faster). **Atlas page** is the "
             "whole page's warm server time from the table above, every section and chart included.", ""]
    for label, sc in results["scales"].items():
        a, p = sc.get("atlas", {}), sc.get("pandas", {})
        if not (a.get("pages") and p.get("pages")):
            lines += [f"### {LABELS[label]}: the peer comparison did not finish ({failed(a) or failed(p)})", ""]
            continue
        agree = sc.get("agreement", {})
        same = all(not v for v in agree.values()) if agree else None
        lines += [f"### {LABELS[label]} referrals", "",
                  f"Startup: pandas loads and prepares the tables in {s(p['load_s'])} (peak {mib(p['load_peak_mib'])}); "
                  f"Atlas opens the database in {s(a['load_s'])}. Peak memory of the whole process: pandas "
                  f"{mib(p['peak_mib'])}, Atlas {mib(a['peak_mib'])} (**{p['peak_mib'] / a['peak_mib']:.1f}×** leaner). "
                  f"Figures equal: **{'yes' if same else 'NO: ' + str({k: v for k, v in agree.items() if v})}**.", "",
                  "| page | Atlas figures warm | pandas warm | × | Atlas page warm | × (page) |", "|---|---|---|---|---|---|"]
        for page, name in PAGES.items():
            at, pt = a["pages"][page]["warm_s"], p["pages"][page]["warm_s"]
            full = sc["pages"].get(page, {}).get("warm_s")
            lines.append(f"| {name} | {s(at, 3)} | {s(pt, 3)} | {ratio(pt, at)} | {s(full)} | {ratio(pt, full)} |")
        lines.append("")
    return lines


def browser_table(results: dict) -> list[str]:
    lines = ["## In headless Chromium", "",
             "The served app (`python -m atlas serve`, a fresh server per page): **up** is the server's start until "
             "it answers; **first visit** navigation to the page's main chart drawn (the Overview's trend, the "
             "Bottlenecks funnel, the first chart of Need vs capacity and Outcomes, the network map drawn by "
             "vis-network in its frame), the server's first page; **repeat** the same page in a new tab (cached "
             "query results); **peak** the server's VmHWM. **tour**: one server visiting every page in turn.", ""]
    for label, sc in results["scales"].items():
        b = sc.get("browser")
        if not b or "error" in b:
            lines += [f"### {LABELS[label]}: not measured ({(b or {}).get('error', 'skipped')[:200]})", ""]
            continue
        lines += [f"### {LABELS[label]} referrals", "", "| page | up | first visit | repeat | tour visit | server peak |",
                  "|---|---|---|---|---|---|"]
        for page, name in PAGES.items():
            m = b["pages"].get(page, {})
            lines.append(f"| {name} | {s(m.get('server_up_s'))} | {s(m.get('cold_s'))} | {s(m.get('repeat_s'))} "
                         f"| {s(b.get('tour', {}).get('visits_s', {}).get(page))} | {mib(m.get('server_peak_mib'))} |")
        lines += ["", f"Server peak after the tour of all pages: {mib(b.get('tour', {}).get('server_peak_mib'))}. "
                      f"The map's HTML ({b.get('map_html_kib', '—')} KiB) drawn on its own from a file: "
                      f"{s(b.get('map_draw_only_s'))}.", ""]
    return lines


def _load(load) -> str:
    return f"{load[0]:.2f}" if load else "?"


def import_table(results: dict) -> list[str]:
    lines = ["## CSV import (issue 18: state scale)", "",
             "`python -m atlas import` of the demo's contract CSV files into a new database: reading, validation, "
             "pseudonymisation and the model build, a batch at a time (atlas.ingest.streamed). Wall time and the "
             "importer's peak memory (ru_maxrss of the child process); the targets are issue 18's, for 10M referrals.",
             "", "| referrals | rows in all files | import | peak | database | target | verdict |",
             "|---|---|---|---|---|---|---|"]
    for label, sc in results["scales"].items():
        m = sc.get("import", {})
        target = "≤ 90 s, ≤ 4 GB" if label == "10m" else ""
        ok = "" if label != "10m" or failed(m) else (
            "**met**" if (m.get("import_s") or 1e9) <= 90 and (m.get("peak_mib") or 1e9) <= 4096 else "**missed**")
        rows = m.get("rows")
        lines.append(f"| {LABELS[label]} | {f'{rows:,}' if rows else ''} | {failed(m) or s(m.get('import_s'), 1)} "
                     f"| {mib(m.get('peak_mib'))} | {mib(m.get('db_mib'))} | {target} | {ok} |")
    staged = [(label, sc["import"]) for label, sc in results["scales"].items() if sc.get("import", {}).get("stages")]
    if staged:
        label, m = staged[-1]
        when = m.get("measured", {})
        lines += ["", f"Where the time goes at {LABELS[label]} (from the progress lines the import prints; measured "
                      f"{when.get('date', '')} on commit {when.get('commit', '?')}, 1-minute load average "
                      f"{_load(when.get('load'))} before the run):", "", "| stage | seconds |", "|---|---|"]
        lines += [f"| {stage} | {seconds:.1f} |" for stage, seconds in m["stages"].items()]
    return lines + [""] + rebuild_table(results)


def rebuild_table(results: dict) -> list[str]:
    """The demo built and a database upgraded at each scale, against the import's targets at 10M."""
    rows = [(label, sc.get("demo", {}), sc.get("upgrade", {})) for label, sc in results["scales"].items()
            if sc.get("demo") or sc.get("upgrade")]
    if not rows:
        return []
    lines = ["### The demo and `atlas upgrade` at the same scales", "",
             "`python -m atlas demo --referrals N --agencies A` (generating, checking against the contract, writing, "
             "building the model) and `python -m atlas upgrade` of the scale's database with its model marked as "
             "another version's (copying every stored row into a new file and building the model over them), each in a "
             "fresh process; the targets are the import's (issue 18: \"the same for atlas upgrade and the demo at "
             "10M\").", "", "| referrals | demo | peak | upgrade | peak | target | verdict |", "|---|---|---|---|---|---|---|"]

    def met(m: dict, key: str) -> bool:
        return not failed(m) and (m.get(key) or 1e9) <= 90 and (m.get("peak_mib") or 1e9) <= 4096

    for label, demo, upgrade in rows:
        verdict = "" if label != "10m" else (
            f"demo **{'met' if met(demo, 'demo_s') else 'missed'}**, upgrade "
            f"**{'met' if met(upgrade, 'upgrade_s') else 'missed'}**")
        lines.append(f"| {LABELS[label]} | {failed(demo) or s(demo.get('demo_s'), 1)} | {mib(demo.get('peak_mib'))} "
                     f"| {failed(upgrade) or s(upgrade.get('upgrade_s'), 1)} | {mib(upgrade.get('peak_mib'))} "
                     f"| {'≤ 90 s, ≤ 4 GB' if label == '10m' else ''} | {verdict} |")
    label, demo, upgrade = rows[-1]
    for name, m in (("demo", demo), ("upgrade", upgrade)):
        if m.get("stages"):
            lines += ["", f"Where the {name}'s time goes at {LABELS[label]}:", "", "| stage | seconds |", "|---|---|"]
            lines += [f"| {stage} | {seconds:.1f} |" for stage, seconds in m["stages"].items()]
    return lines + [""]


def hmis_table(results: dict) -> list[str]:
    m = results.get("hmis")
    if not m:
        return []
    size = m.get("scale", {})
    when = m.get("measured", {})
    return ["## HMIS export import (issue 14)", "",
            f"`python -m atlas import --format hmis EXPORT.zip` of a continuum's export built by `bench/hmis_data.py` "
            f"({size.get('enrollments', 0):,} enrollments, {size.get('events', 0):,} events, every column of the FY2024 "
            f"specification, quoted, CRLF, zipped: {mib(m.get('zip_mib'))}) into a new database: unzipping, reading, "
            "checking, mapping, validation, pseudonymisation and the model build. Wall time and the importer's peak "
            f"memory (ru_maxrss), measured {when.get('date', '')} on commit {when.get('commit', '?')} (1-minute load "
            f"average {when.get('load', ['?'])[0]} before the run).", "",
            "| target | measured | peak | database | verdict |", "|---|---|---|---|---|",
            f"| imports in under a minute | {failed(m) or s(m.get('import_s'), 1)} | {mib(m.get('peak_mib'))} "
            f"| {mib(m.get('db_mib'))} | {verdict(m.get('import_s'), 60) if not failed(m) else '**missed**'} |", ""]


def profile_table(results: dict) -> list[str]:
    label = list(results["scales"])[-1]
    sc = results["scales"][label]
    lines = ["## Where the time goes", "",
             f"One warm run of each page at {LABELS[label]} under cProfile (run in the script's own thread): own time "
             "per library, a C call counted for the library that made it (DuckDB's `execute` and `df`). cProfile "
             "slows Python code more than C code, so Python libraries' shares are overstated; the **queries** column "
             "of the page tables is the unprofiled DuckDB share. Then the atlas/ and pages/ functions with the most "
             "cumulative time (including what they call).", ""]
    for page, name in PAGES.items():
        prof = sc["pages"].get(page, {}).get("profile")
        if not prof:
            lines += [f"**{name}**: not profiled ({failed(sc['pages'].get(page, {})) or 'no run'}).", ""]
            continue
        total = sum(prof["by_library_s"].values()) or 1
        parts = ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(prof["by_library_s"].items(), key=lambda kv: -kv[1])
                          if v / total >= 0.01)
        hot = "; ".join(f"`{f}` {c:.2f} s" for f, c in prof["atlas_hotspots_cum_s"][:6])
        lines += [f"**{name}** (profiled run {s(prof['run_s'])}): {parts}.", "", f"Hottest: {hot}.", ""]
    return lines


def growth_table(results: dict) -> list[str]:
    scales = results["scales"]
    if len(scales) < 2:
        return []
    keys = list(scales)
    lines = ["## Growth", "", "Warm server time per page at each scale, and how much it grew from one scale to the next.",
             "", "| page | " + " | ".join(LABELS[k] for k in keys) + " | " +
             " | ".join(f"{LABELS[b]}/{LABELS[a]}" for a, b in zip(keys, keys[1:])) + " |",
             "|---|" + "---|" * (2 * len(keys) - 1)]
    for page, name in PAGES.items():
        warm = [scales[k]["pages"].get(page, {}).get("warm_s") for k in keys]
        lines.append(f"| {name} | " + " | ".join(s(w) for w in warm) + " | " +
                     " | ".join(ratio(b, a) + "×" if a and b else "—" for a, b in zip(warm, warm[1:])) + " |")
    return lines + [""]


def write(results: dict) -> None:
    m = results["machine"]
    loads = "; ".join(f"{LABELS[k]}: {v['load_before'][0]:.1f} before, {v['load_after'][0]:.1f} after"
                      for k, v in results["scales"].items())
    merged = results.get("merged") or []
    provenance = ("Every figure below is from that one run, also in `bench/results.json`" if not merged else
                  "The figures below are from that run except these, measured later and merged into "
                  "`bench/results.json`: " + "; ".join(f"{m['what']} ({m['date']}, commit {m['commit']})" for m in merged))
    lines = ["# Benchmarks", "",
             f"Measured by `python -m bench`, what `make bench` runs (this run: `{results['command']}`, "
             f"{results.get('total_minutes', 0):.0f} minutes; never by `make test`). {provenance}; the reading "
             "at the end was written from it. A quick run: `python -m bench --scales 100k,1m` (the same tables, "
             "without the 10M targets).", "",
             f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_mib']:,} MiB, {m['platform']}; Python {m['python']}, "
             f"DuckDB {m['duckdb']}, pandas {m['pandas']}, pyarrow {m['pyarrow']}, numpy {m['numpy']}, Streamlit "
             f"{m['streamlit']}, plotly {m['plotly']}, igraph {m['igraph']}, pyvis {m['pyvis']}; run {m['date']}"
             + (f" on commit {m['commit']}" if m.get("commit") else "")
             + (f" with uncommitted changes to {', '.join(line.split()[-1] for line in m['uncommitted'])}"
                if m.get("uncommitted") else "") + ".", "",
             f"1-minute load average at each scale: {loads}, on {m['cpus']} CPUs (a load above the CPUs' number "
             "means other work shared the machine, and times are those of a busy machine).", "",
             "Data: demo communities built by `python -m atlas demo` (cached in bench/cache/): "
             + ", ".join(f"{LABELS[k]} referrals over {v['agencies']:,} agencies" for k, v in results["scales"].items())
             + ", three years each; every page shows the last 12 months (the default).", ""]
    lines += targets(results) + tab.table(results) + baseline.table(results, m.get("commit", "?")) + page_tables(results) + browser_table(results) + peer_table(results)
    lines += import_table(results) + hmis_table(results) + maps.table(results) + survey.table(results) + growth_table(results) + query_table(results) + profile_table(results)
    notes = ROOT / "bench" / "notes.md"
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":  # rewrite the doc from bench/results.json (after editing bench/notes.md)
    import json

    write(json.loads((ROOT / "bench" / "results.json").read_text()))

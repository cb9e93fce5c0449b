"""One measurement in a process of its own: `python -m bench.worker MODE ARGS...`, JSON on the last line of stdout.

Modes:
  page DB PAGE WARM [profile] [AUDIENCE]
                                the page as the server runs it (AppTest): the first run in this fresh
                                process (cold), WARM more runs with the data and view caches cleared
                                (warm: imports, connection and in-process caches there, no cached
                                query result), one run with the data cache kept (a repeat visit), and
                                optionally one warm run under cProfile; every named query timed;
                                peak resident memory of the process. PAGE is a page's url path (or
                                `need`); AUDIENCE (director, board, funder; default director) is whose
                                session it is, with that audience's default period
  figures atlas|pandas SOURCE WARM OUT   every page's headline figures (bench/peer.py) from Atlas's
                                named queries (SOURCE = database) or from the pandas peer (SOURCE =
                                Parquet folder, loaded first as a naive app does at startup); pickled to OUT
  import CSVDIR DB              `python -m atlas import CSVDIR --db DB`: wall time and the child's peak memory
  hmis-import ZIP DB            `python -m atlas import --format hmis ZIP --db DB`: the same, for an HMIS export
  demo REFERRALS AGENCIES DB    `python -m atlas demo` of that size: the same
  upgrade SOURCE DB             `python -m atlas upgrade` of a copy of SOURCE marked as another model's: the same
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports: a cold process pays for them

import json  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = {"overview": "pages/overview.py", "bottlenecks": "pages/bottlenecks.py",
              "need": "pages/need_capacity.py", "network": "pages/network.py", "outcomes": "pages/outcomes.py"}
AUDIENCES = ("director", "board", "funder")


def page_file(page: str) -> Path:
    """The page's file: the dense scales' keys above, or any page's url path (dashboard.py names each page's
    file after it)."""
    return ROOT / PAGE_FILES.get(page, f"pages/{page}.py")


def peak_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------------------
# Where the time goes: cProfile's own time per function, by library
# ------------------------------------------------------------------------------------------------

CATEGORIES = (("duckdb", ("duckdb",)), ("plotly", ("plotly", "kaleido")),
              ("pandas/numpy", ("pandas", "numpy", "pyarrow")),
              ("graph (igraph, networkx, pyvis, jinja2)", ("igraph", "networkx", "pyvis", "jinja2", "markupsafe")),
              ("streamlit", ("streamlit", "protobuf", "google", "tornado")),
              ("atlas", ("/atlas/", "/pages/")), ("scipy", ("scipy",)))


def category(func: tuple) -> str | None:
    filename, _, name = func
    text = f"{filename} {name}" if filename == "~" else filename
    for label, needles in CATEGORIES:
        if any(n in text for n in needles):
            return label
    return None if filename == "~" else "other Python"


def attribute(stats: pstats.Stats) -> tuple[dict, list]:
    """Seconds of own time per library (a C builtin counts for its calling library), and the atlas/ and
    pages/ functions with the most cumulative time."""
    raw = stats.stats  # func -> (primitive calls, calls, own time, cumulative time, callers)
    by = defaultdict(float)
    for func, (_, _, own, _, callers) in raw.items():
        # DuckDB's Python methods are not C functions cProfile sees (nanobind): their time is the own
        # time of Atlas.query, which does nothing else but call them
        label = "duckdb" if func[0].endswith("atlas/db.py") and func[2] == "query" else category(func)
        if label is None:  # a builtin of no named library: its heaviest caller's library
            caller = max(callers.items(), key=lambda kv: kv[1][2], default=(None, None))[0]
            label = (category(caller) if caller else None) or "other Python"
        by[label] += own
    hot = sorted(((f"{Path(f[0]).parent.name}/{Path(f[0]).name}:{f[2]}", cum) for f, (_, _, _, cum, _) in raw.items()
                  if ("/atlas/" in f[0] or "/pages/" in f[0]) and f[2] not in ("<module>", "build", "query")
                  and "/bench/" not in f[0]), key=lambda x: -x[1])
    return dict(by), hot[:12]


# ------------------------------------------------------------------------------------------------
# Modes
# ------------------------------------------------------------------------------------------------

def page_mode(db: str, page: str, warm: int, profile: bool, audience: str = "director") -> dict:
    os.environ["ATLAS_DB"] = db
    os.environ["BENCH_PAGE"] = str(page_file(page))
    os.environ["ATLAS_LOCAL_ROLE"] = audience  # the local session's role, as `tab` serves each audience
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from atlas.db import Atlas

    calls = []  # (name, seconds) of every named query run
    original = Atlas.query

    def timed(self, name, /, **params):
        started = time.perf_counter()
        try:
            return original(self, name, **params)
        finally:
            calls.append((name, time.perf_counter() - started))

    Atlas.query = timed

    def run() -> tuple[float, dict, str | None]:
        calls.clear()
        at = AppTest.from_file(str(ROOT / "bench" / "entry.py"), default_timeout=900)
        started = time.perf_counter()
        at.run()
        took = time.perf_counter() - started
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception}")
        per_query = defaultdict(float)
        for name, seconds in calls:
            per_query[name] += seconds
        # the period the audience's sidebar chose: what was measured, in the report's words
        filters = at.session_state["atlas_filters"] if "atlas_filters" in at.session_state else None
        return took, dict(per_query), filters.describe_period() if filters else None

    cold, cold_queries, period = run()
    cold_total = time.perf_counter() - STARTED
    out = {"cold_run_s": cold, "cold_total_s": cold_total, "cold_queries": cold_queries,
           "cold_peak_mib": peak_mib(), "audience": audience, "period": period}
    if warm:
        times, queries = [], defaultdict(list)
        from atlas import app

        for _ in range(warm):
            st.cache_data.clear()
            app._view.clear()  # the page's whole view is cached too: a warm run builds it again
            took, per_query, _ = run()
            times.append(took)
            for name, seconds in per_query.items():
                queries[name].append(seconds)
        cached, _, _ = run()
        out.update(warm_s=statistics.median(times), warm_runs=times, cached_s=cached,
                   warm_queries={n: statistics.median(v) for n, v in queries.items()},
                   warm_query_s=statistics.median(sum(v[i] for v in queries.values()) for i in range(warm)))
        if profile:
            import tempfile

            st.cache_data.clear()
            app._view.clear()
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["BENCH_PROFILE"] = str(Path(tmp) / "page.prof")
                took, _, _ = run()
                del os.environ["BENCH_PROFILE"]
                by, hot = attribute(pstats.Stats(str(Path(tmp) / "page.prof")))
            out["profile"] = {"run_s": took, "by_library_s": by, "atlas_hotspots_cum_s": hot}
    out["peak_mib"] = peak_mib()
    return out


def figures_mode(side: str, source: str, warm: int, target: str) -> dict:
    import pickle

    import pandas as pd

    from atlas.filters import Filters, period_bounds
    from bench import peer

    started = time.perf_counter()
    if side == "atlas":
        from atlas.db import Atlas

        data = Atlas(source)
        extent = data.query("data_extent").iloc[0]
        compute = lambda page, f: peer.atlas_figures(data, page, f)  # noqa: E731
    else:
        data = peer.load(Path(source))
        extent = {"first_referral": data.referrals["referred_at"].min(),
                  "last_referral": data.referrals["referred_at"].max()}
        compute = lambda page, f: peer.pandas_figures(data, page, f)  # noqa: E731
    first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
    filters = Filters(*period_bounds("Last 12 months", first, last))
    loaded = time.perf_counter() - started
    out = {"load_s": loaded, "load_peak_mib": peak_mib(), "pages": {}}
    results = {}
    for page in peer.PAGES:
        started = time.perf_counter()
        results[page] = compute(page, filters)
        cold = time.perf_counter() - started
        times = []
        for _ in range(warm):
            started = time.perf_counter()
            compute(page, filters)
            times.append(time.perf_counter() - started)
        out["pages"][page] = {"cold_s": cold, "warm_s": statistics.median(times) if times else cold}
    out["first_page_after_start_s"] = loaded + out["pages"]["overview"]["cold_s"]
    out["peak_mib"] = peak_mib()
    with open(target, "wb") as f:
        pickle.dump(results, f)
    return out


def hmis_import_mode(export: str, db: str) -> dict:
    """An HMIS export's zip imported by the command a coordinator runs, in a child process."""
    out = import_mode(export, db, "--format", "hmis")
    out["zip_mib"] = Path(export).stat().st_size / 2**20
    return out


def import_mode(csv_dir: str, db: str, *options: str) -> dict:
    Path(db).unlink(missing_ok=True)
    out = _timed_atlas(["import", *options, csv_dir, "--db", db], db, "Imported into")
    return {"import_s": out.pop("took_s"), **out}


def demo_mode(referrals: str, agencies: str, db: str) -> dict:
    """`python -m atlas demo` of that size into a new database, as `import_mode` measures an import."""
    Path(db).unlink(missing_ok=True)
    out = _timed_atlas(["demo", "--db", db, "--referrals", referrals, "--agencies", agencies], db, "Built demo database")
    return {"demo_s": out.pop("took_s"), **out}


def upgrade_mode(source: str, db: str) -> dict:
    """`python -m atlas upgrade` of a copy of `source` whose data model is marked as another version's, so that the
    model is rebuilt over all its stored rows (the copy is not timed)."""
    import shutil

    import duckdb

    shutil.copyfile(source, db)
    con = duckdb.connect(db)
    try:
        con.execute("update model_version set fingerprint = 'another version'")
    finally:
        con.close()
    out = _timed_atlas(["upgrade", "--db", db], db, "Rebuilt the data model")
    return {"upgrade_s": out.pop("took_s"), **out}


def _timed_atlas(argv: list[str], db: str, done_line: str) -> dict:
    """`python -m atlas ARGV` in a child process writing `db`: wall time, the child's peak memory, the database's size
    (then removed), the seconds per stage from its progress lines and the rows its `done_line` counts."""
    env = {**os.environ, "ATLAS_HMAC_KEY": os.environ.get("ATLAS_HMAC_KEY") or "bench-key-" + "0" * 40}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "atlas", *argv], cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{argv[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size = Path(db).stat().st_size
    Path(db).unlink(missing_ok=True)
    said = next((line for line in done.stdout.splitlines() if line.startswith(done_line)), "")
    rows = sum(int(n.replace(",", "")) for n in re.findall(r"([\d,]+) [a-z]+", said.split(": ", 1)[-1])) if ": " in said \
        else None
    return {"took_s": took, "peak_mib": peak, "db_mib": size / 2**20, "stages": stages(done.stderr), "rows": rows}


_BAR = re.compile(r"^\[[#.]+\]\s+\d+%\s+([\d.]+) s  (.*)$")


def stages(progress: str) -> dict[str, float]:
    """Seconds per stage of an import, from its progress lines (atlas.progress.TextBar: one line each time the
    import moves on to something else), in order."""
    marks = [(float(m.group(1)), m.group(2).split(" · ")[0]) for m in map(_BAR.match, progress.splitlines()) if m]
    out: dict[str, float] = {}
    for (start, doing), (end, _) in zip(marks, marks[1:]):
        out[doing] = out.get(doing, 0.0) + end - start
    return out


def main(argv: list[str]) -> None:
    mode, *args = argv
    if mode == "page":
        audience = next((a for a in args[3:] if a in AUDIENCES), "director")
        out = page_mode(args[0], args[1], int(args[2]), "profile" in args[3:], audience)
    elif mode == "figures":
        out = figures_mode(args[0], args[1], int(args[2]), args[3])
    elif mode == "import":
        out = import_mode(args[0], args[1])
    elif mode == "hmis-import":
        out = hmis_import_mode(args[0], args[1])
    elif mode == "demo":
        out = demo_mode(args[0], args[1], args[2])
    elif mode == "upgrade":
        out = upgrade_mode(args[0], args[1])
    else:
        raise SystemExit(__doc__)
    print(json.dumps(out), flush=True)
    # The measurement is complete and printed. Leave without the interpreter's shutdown: the app's work-ahead thread
    # (atlas.app.prefetch: slow imports, the default period's published sets) may still be inside DuckDB or the LP
    # solver, and a daemon thread stopped there at shutdown aborts the process ("terminate called …"), which would
    # read as a failed measurement.
    os._exit(0)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:])

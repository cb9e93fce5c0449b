"""The partnership survey's scoring at scale (issue 32): a round of 5,000 members, each naming ten partners.

The round is built in code over a demo of 5,000 agencies (cached in bench/cache/, with the demo's two
closed rounds beside it, the later of which is the bench round's previous round): its 50,000 answer
rows are written as a responses file and imported through `Surveys.import_responses`, the path a
director's paper answers take (the whole file checked, then one transaction). Measured, each in this
process on a fresh connection: the import; the three named queries the spec defines (`survey_summary`,
`survey_ties` under both rules, `survey_agencies`), first run and warm median; the data a Survey page
loads for one round (every survey query it shows and the members' progress); and what the respondents'
form does per request at that size (resolving a link, saving ten partners).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from bench.data import CACHE, ROOT

AGENCIES, REFERRALS, PARTNERS = 5_000, 100_000, 10
ROUND = "bench-5000"
SPEC_QUERIES = (("survey_summary", {}), ("survey_ties", {"rule": "either"}), ("survey_ties", {"rule": "both"}),
                ("survey_agencies", {}))
PAGE_QUERIES = (("survey_summary", {}), ("survey_ties", {"rule": "either"}), ("survey_agencies", {}),
                ("survey_seen_differently", {}), ("survey_agreements", {}), ("survey_change", {}),
                ("survey_trust_change", {}))


def _database():
    path = CACHE / f"survey_{AGENCIES}_{REFERRALS}.duckdb"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "atlas", "demo", "--db", str(path), "--agencies", str(AGENCIES),
                        "--referrals", str(REFERRALS)], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "atlas", "upgrade", "--db", str(path)], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def _responses(surveys, members: list[str], victims: set[str], path) -> int:
    """A responses file of the bench round: every member names ten partners (seeded), about one rating in
    twenty left unanswered."""
    rng = np.random.default_rng(32)
    choosable = np.array([m for m in members if m not in victims])
    stamp = "2027-01-15 10:00:00"
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["round_id", "respondent_agency_id", "partner_agency_id", "frequency", "level", "agreement",
                      "trust_reliable", "trust_mission", "trust_open", "value_influence", "value_involvement",
                      "value_resources", "submitted_at"])
        for member in members:
            picks = rng.choice(choosable, PARTNERS + 1, replace=False)
            for partner in [p for p in picks if p != member][:PARTNERS]:
                ratings = [("" if rng.random() < 0.05 else int(v)) for v in rng.integers(1, 5, 6)]
                out.writerow([ROUND, member, partner, int(rng.integers(1, 6)), int(rng.integers(1, 6)),
                              ("yes", "no", "unsure")[int(rng.integers(0, 3))], *ratings, stamp])
                rows += 1
    return rows


def _timed(run, times: int) -> tuple[float, float]:
    """(first run, warm median) of `run()` in seconds."""
    took = []
    for _ in range(times + 1):
        started = time.perf_counter()
        run()
        took.append(time.perf_counter() - started)
    return took[0], statistics.median(took[1:])


def _round(surveys, database) -> dict:
    """Open the bench round again (5,000 members) and import its answers: the times of each."""
    from atlas.survey import store
    from atlas.survey.surveys import read_imported

    with store.writing(database) as con:
        for name in ("delete_round_answers", "delete_round_contacts", "delete_members", "delete_round"):
            con.execute(store.statement(name), {"round_id": ROUND})
    agencies = read_imported(database, "agencies")
    members = agencies["agency_id"].tolist()
    started = time.perf_counter()
    surveys.open_round(ROUND, "Bench, 5,000 members", dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                       dt.date.today() + dt.timedelta(days=30), members=members)
    opened = time.perf_counter() - started
    path = CACHE / "survey_responses_5000.csv"
    rows = _responses(surveys, members, set(agencies.loc[agencies["victim_service"], "agency_id"]), path)
    started = time.perf_counter()
    report = surveys.import_responses(ROUND, path)
    imported = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"the bench round's file has problems: {report.problems[:3]}")
    return {"members": len(members), "rows": rows, "open_s": opened, "import_s": imported,
            "file_mib": os.path.getsize(path) / 2**20,
            "answers_mib": store.answers_path(database).stat().st_size / 2**20}


def run() -> dict:
    from atlas.db import Atlas
    from atlas.survey import Answer, Surveys

    database = _database()
    surveys = Surveys(database)
    out = {"date": dt.datetime.now().isoformat(timespec="minutes"), "load": os.getloadavg(), **_round(surveys, database)}
    queries = {}
    with Atlas(database) as db:
        for name, params in SPEC_QUERIES:
            first, warm = _timed(lambda name=name, params=params: db.query(name, round_id=ROUND, **params), 5)
            rows = len(db.query(name, round_id=ROUND, **params))
            queries[name + "".join(f" ({v})" for v in params.values())] = {"first_s": first, "warm_s": warm,
                                                                          "rows": rows}

        def page() -> None:
            for name, params in PAGE_QUERIES:
                db.query(name, round_id=ROUND, **params)
            surveys.progress(ROUND)

        out["page_first_s"], out["page_warm_s"] = _timed(page, 3)
    out["queries"] = queries
    token = surveys.token(ROUND, surveys.round(ROUND).members[0])
    out["resolve_first_s"], out["resolve_s"] = _timed(lambda: surveys.resolve(token), 10)
    invitation = surveys.resolve(token)
    answers = [Answer(p, 3, 3, "yes", 3, 3, 3) for p, _ in invitation.partners[:PARTNERS]]
    out["save_first_s"], out["save_s"] = _timed(lambda: surveys.save(ROUND, invitation.agency_id, answers), 10)
    return out


def table(results: dict) -> list[str]:
    m = results.get("survey")
    if not m:
        return []
    lines = ["## The partnership survey at 5,000 members (issue 32)", "",
             f"`python -m bench --only-survey` (`bench/survey.py`), measured {m.get('date', '')} (1-minute load "
             f"average {m['load'][0]:.1f} before, on a machine shared with other work): a round of {m['members']:,} members over a demo of 5,000 "
             f"agencies, each naming {PARTNERS} partners ({m['rows']:,} answer rows, built in code), with the demo's "
             "rounds beside it as earlier rounds. Opening the round, and importing its responses file "
             f"({m['file_mib']:.1f} MiB: the whole file checked, then one transaction; the answers file is then "
             f"{m['answers_mib']:.1f} MiB): {m['open_s']:.2f} s and {m['import_s']:.2f} s.", "",
             "| what | first run | warm (median) | rows |", "|---|---|---|---|"]
    for name, q in m["queries"].items():
        lines.append(f"| `{name}` | {q['first_s']:.3f} s | {q['warm_s']:.3f} s | {q['rows']:,} |")
    lines += [f"| the Survey page's data for one round (every survey query it shows, and progress) | "
              f"{m['page_first_s']:.3f} s | {m['page_warm_s']:.3f} s | |",
              f"| the form: resolving a link (the HMACs of {m['members']:,} members) | {m['resolve_first_s']:.3f} s "
              f"| {m['resolve_s']:.3f} s | |",
              f"| the form: saving ten partners (one committed, checkpointed transaction) | {m['save_first_s']:.3f} s "
              f"| {m['save_s']:.3f} s | |", ""]
    return lines

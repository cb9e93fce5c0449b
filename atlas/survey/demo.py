"""The demo's survey rounds: two closed rounds a year apart, written beside a demo database so that every
part of the Survey page and the map's informal layer has something to show on `make run`.

The answers grow out of the demo's own referral flows and declared ties in each round's year: about
three members in four answer; each names the partners it referred with most (and some it has a tie
with), rating closer and more frequent work where more clients moved; most formal agreements are
remembered, some are not ("no" while one is on paper: agreements nobody remembers) and a few are
believed where none exists; a victim-service agency is a member and answers (nobody can name it). One
pair that both answered is made to see its partnership two levels apart. Everything is drawn from a
generator seeded by the demo's seed and the year, so the same demo gives the same answers.

The demo's rounds replace only themselves (ids `demo-YYYY`): a round a person opened beside the same
database stays as it was.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from atlas.survey import store
from atlas.survey.surveys import Surveys, read_imported

ANSWERING = 0.75  # the share of members who answer
MOST_NAMED = 8  # partners a respondent names at most


def rounds_of(database: Path) -> list[tuple[str, dt.date, dt.date]]:
    """(round id, period start, period end) of the two demo rounds: the last two whole years of the data."""
    last = read_imported(database, "demo_extent").iloc[0, 0]
    year = (pd.Timestamp(last) + pd.Timedelta(days=1)).year - 1
    return [(f"demo-{y}", dt.date(y, 1, 1), dt.date(y, 12, 31)) for y in (year - 1, year)]


def _level(referrals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A collaboration level 1-5 from the referrals between the pair (more clients, closer work), with noise."""
    base = np.clip(np.ceil(np.log2(referrals + 1) / 1.6), 1, 5)
    return np.clip(base + rng.integers(-1, 2, len(referrals)), 1, 5).astype(int)


def _agreement(formal: np.ndarray, rng: np.random.Generator) -> list[str]:
    draw = rng.random(len(formal))
    on_paper = np.where(draw < 0.75, "yes", np.where(draw < 0.9, "no", "unsure"))
    none = np.where(draw < 0.06, "yes", np.where(draw < 0.9, "no", "unsure"))
    return list(np.where(formal, on_paper, none))


def _ratings(level: np.ndarray, rng: np.random.Generator) -> dict[str, list]:
    """The six 1-4 ratings, higher with the level; about one direction in eight leaves some unanswered."""
    out = {}
    for name in ("trust_reliable", "trust_mission", "trust_open", "value_influence", "value_involvement",
                 "value_resources"):
        value = np.clip(np.round(1.6 + level * 0.45 + rng.normal(0, 0.7, len(level))), 1, 4).astype(int)
        skipped = rng.random(len(level)) < 0.05
        out[name] = [None if s else int(v) for v, s in zip(value, skipped)]
    return out


def _stable(seed: int, respondent: str, partners: pd.Series) -> np.ndarray:
    """A draw in [0, 1) per (respondent, partner) that is the same every year, so a member names the same
    partners from one round to the next unless the flows between them changed."""
    return np.array([zlib.crc32(f"{seed}:{respondent}:{p}".encode()) / 2**32 for p in partners])


def answers_for(round_id: str, members: list[str], victims: set[str], pairs: pd.DataFrame,
                rng: np.random.Generator, answered_on: dt.date, seed: int) -> pd.DataFrame:
    """The round's answers (the responses file's columns) drawn from its pairs."""
    member_set = set(members)
    pairs = pairs[pairs["r"].isin(member_set) & pairs["p"].isin(member_set - victims)]
    answering = [m for m in members if m in victims or rng.random() < ANSWERING]
    frames = []
    for respondent in answering:
        mine = pairs[pairs["r"] == respondent].sort_values(["referrals", "p"], ascending=[False, True])
        keep = _stable(seed, respondent, mine["p"]) < np.where(mine["referrals"] > 0, 0.85, 0.45)
        mine = mine[keep].head(MOST_NAMED)
        if mine.empty:
            frames.append(pd.DataFrame({"respondent_agency_id": [respondent], "partner_agency_id": [None]}))
            continue
        level = _level(mine["referrals"].to_numpy(), rng)
        frequency = np.clip(level + rng.integers(-1, 1, len(level)), 1, 5)
        frames.append(pd.DataFrame({"respondent_agency_id": respondent, "partner_agency_id": mine["p"].to_numpy(),
                                    "frequency": frequency, "level": level,
                                    "agreement": _agreement(mine["formal"].to_numpy(), rng),
                                    **_ratings(level, rng)}))
    answers = pd.concat(frames, ignore_index=True).reindex(columns=list(store.COLUMNS))
    _seen_differently(answers)
    answers["round_id"] = round_id
    minutes = rng.integers(8 * 60, 18 * 60, len(answers))
    days = rng.integers(0, 20, len(answers))
    answers["submitted_at"] = [dt.datetime.combine(answered_on + dt.timedelta(days=int(d)), dt.time())
                               + dt.timedelta(minutes=int(m)) for d, m in zip(days, minutes)]
    # one respondent saves once: its rows share the time of its first
    answers["submitted_at"] = answers.groupby("respondent_agency_id")["submitted_at"].transform("min")
    return answers


def _seen_differently(answers: pd.DataFrame) -> None:
    """Make the first pair that named each other see their partnership at least two levels apart."""
    named = answers.dropna(subset=["partner_agency_id"])
    keys = set(zip(named["respondent_agency_id"], named["partner_agency_id"]))
    mutual = sorted((r, p) for r, p in keys if r < p and (p, r) in keys)
    if not mutual:
        return
    r, p = mutual[0]
    answers.loc[(answers["respondent_agency_id"] == r) & (answers["partner_agency_id"] == p), "level"] = 4
    answers.loc[(answers["respondent_agency_id"] == p) & (answers["partner_agency_id"] == r), "level"] = 1


def write(database: Path, seed: int) -> list[tuple[str, int, int]]:
    """Write (again) the demo's two closed rounds beside `database`: (round id, members, rows) of each."""
    database = Path(database)
    surveys = Surveys(database)
    agencies = read_imported(database, "agencies")
    victims = set(agencies.loc[agencies["victim_service"].astype(bool), "agency_id"])
    written = []
    for round_id, start, end in rounds_of(database):
        members = surveys.default_members(start, end)
        pairs = read_imported(database, "demo_pairs", start=start, end=end)
        active_victims = sorted(victims & set(pairs["r"]))
        members = sorted([*members, *active_victims[:1]])
        rng = np.random.default_rng([seed, end.year])
        answers = answers_for(round_id, members, set(active_victims[:1]), pairs, rng, dt.date(end.year + 1, 1, 8), seed)
        frame = agencies.set_index("agency_id").loc[members].reset_index()
        frame.insert(0, "round_id", round_id)
        frame["victim_service"] = frame["victim_service"].astype(bool)
        _store(database, round_id, start, end, frame, answers)
        written.append((round_id, len(members), len(answers)))
    return written


def _store(database: Path, round_id: str, start: dt.date, end: dt.date, members: pd.DataFrame,
           answers: pd.DataFrame) -> None:
    opens, closes = dt.date(end.year + 1, 1, 8), dt.date(end.year + 1, 1, 31)
    with store.writing(database) as con:
        for name in ("delete_round_answers", "delete_round_contacts", "delete_members", "delete_round"):
            con.execute(store.statement(name), {"round_id": round_id})
        con.execute(store.statement("insert_round"), {
            "round_id": round_id, "name": f"Partnership survey {end.year}", "period_start": start,
            "period_end": end, "opens_on": opens, "closes_on": closes, "secret": secrets.token_hex(32),
            "opened_at": dt.datetime.combine(opens, dt.time(9))})
        con.execute(store.statement("close_round"), {"round_id": round_id, "closed_on": closes})
        Surveys._write_members(con, members[["round_id", "agency_id", "name", "victim_service"]])
        store.replace(con, round_id, sorted(set(answers["respondent_agency_id"])), answers.to_dict("records"))

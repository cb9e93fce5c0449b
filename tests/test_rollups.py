"""Rollup tables built at import (queries/rollups/) equal the same aggregation of the raw rows.

referral_facts (every referral with its derived columns and both agencies' attributes, stored in order
of referral), outcome_facts (every exit with its attributes and its referrer of record), referral_months (month-grain counts), referral_extent (the span of the data and its
as-of moment) and flow_months (monthly flows between agencies, which flows_in() combines with the
part-months at the ends of a period: checked against a plain count over many periods).

Each check is a singular test in the dbt manner: nothing may come back. A rollup is recomputed
from the stored contract tables (`referrals`, `agencies`, `outcomes` ...) directly, not from
`referral_facts` or the rollup's own statement, so a mistake in either shows here, and compared with
what is stored both ways round (`_both_ways`); the facts and the extent are checked rule by rule.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from conftest import SMALL_COMMUNITY, TEST_KEY, table, write_files

from atlas import catalog
from atlas.ingest import importer

# referral_months as the raw rows say it should be (compared both ways round by _both_ways).
REFERRAL_MONTHS = """
select
    r.to_agency_id,
    r.service_type,
    cast(date_trunc('month', r.referred_at) as date) as referred_month,
    a.region as to_region,
    a.sector as to_sector,
    count(*) as referrals,
    count(*) filter (where r.declined_at is not null) as declined,
    count(*) filter (where r.declined_at is not null and r.decline_reason = 'no_capacity')
        as declined_no_capacity
from referrals as r
inner join agencies as a on a.agency_id = r.to_agency_id
group by all
"""


# referral_extent as the raw rows say it should be (one row; `is distinct from` treats nulls as equal).
REFERRAL_EXTENT_DIFFERS = """
with

expected as (
    select
        min(referred_at) as first_referred_at,
        max(referred_at) as last_referred_at,
        max(greatest(referred_at, accepted_at, declined_at, started_at, completed_at)) as as_of,
        count(*) as referrals
    from referrals
),

final as (
    select 'differs' as problem, s.*
    from expected as e
    full join referral_extent as s on true
    where e.first_referred_at is distinct from s.first_referred_at
        or e.last_referred_at is distinct from s.last_referred_at
        or e.as_of is distinct from s.as_of
        or e.referrals is distinct from s.referrals
)

select * from final
"""


# referral_facts against the referrals and agencies: the same referrals, column for column, and every
# derived column as the metric definitions (docs/metrics.md) give it. One row per broken rule.
REFERRAL_FACTS_DIFFER = """
with

facts as (
    select * from referral_facts
),

raw_columns as (
    select referral_id, client_id, from_agency_id, to_agency_id, service_type, referred_at, to_program_id,
        accepted_at, declined_at, decline_reason, started_at, completed_at, lead_agency_id
    from facts
),

checked as (
    select
        f.referral_id,
        f.is_internal = (f.from_agency_id = f.to_agency_id) as internal_ok,
        f.status = coalesce(
            case when f.declined_at is not null then 'declined' end,
            case when f.completed_at is not null then 'completed' end,
            case when f.started_at is not null then 'started' end,
            case when f.accepted_at is not null then 'accepted' end,
            'pending') as status_ok,
        f.is_pending = (f.status = 'pending' or (f.accepted_at is null and f.declined_at is null)) as pending_ok,
        f.days_to_accept is not distinct from
            (epoch(f.accepted_at) - epoch(f.referred_at)) / 86400 as accept_ok,
        f.days_to_decline is not distinct from
            (epoch(f.declined_at) - epoch(f.referred_at)) / 86400 as decline_ok,
        f.days_to_start is not distinct from (epoch(f.started_at) - epoch(f.referred_at)) / 86400 as start_ok,
        f.days_in_service is not distinct from
            (epoch(f.completed_at) - epoch(f.started_at)) / 86400 as service_ok,
        f.referred_month = make_date(year(f.referred_at), month(f.referred_at), 1) as month_ok,
        (f.from_region, f.from_sector, f.from_victim_service) is not distinct from
            (fa.region, fa.sector, fa.is_victim_service) as from_ok,
        (f.to_region, f.to_sector, f.to_victim_service) is not distinct from
            (ta.region, ta.sector, ta.is_victim_service) as to_ok
    from facts as f
    left join agencies as fa on fa.agency_id = f.from_agency_id
    left join agencies as ta on ta.agency_id = f.to_agency_id
),

final as (
    (select 'missing' as problem, referral_id
     from (select * from referrals except all select * from raw_columns))
    union all
    (select 'extra' as problem, referral_id
     from (select * from raw_columns except all select * from referrals))
    union all
    (select 'derived' as problem, referral_id
     from checked
     where not (internal_ok and status_ok and pending_ok and accept_ok and decline_ok and start_ok
         and service_ok and month_ok and from_ok and to_ok))
)

select * from final
"""


# flow_months from the raw rows.
FLOW_MONTHS = """
select
    r.from_agency_id,
    r.to_agency_id,
    r.service_type,
    cast(date_trunc('month', r.referred_at) as date) as referred_month,
    a.region as to_region,
    a.sector as to_sector,
    count(*) as referrals,
    count(r.accepted_at) as accepted
from referrals as r
inner join agencies as a on a.agency_id = r.to_agency_id
where r.from_agency_id <> r.to_agency_id
group by all
"""

# flows_in(...) should equal counting the period's referrals between two agencies straight from the raw rows.
FLOWS_IN = """
select r.from_agency_id, r.to_agency_id, count(*) as referrals, count(r.accepted_at) as accepted
from referrals as r
inner join agencies as a on a.agency_id = r.to_agency_id
where r.from_agency_id <> r.to_agency_id
    and ($start is null or r.referred_at >= cast($start as timestamp))
    and ($end is null or r.referred_at < cast($end as timestamp) + interval 1 day)
    and ($region is null or a.region = $region)
    and ($service_type is null or r.service_type = $service_type)
    and ($sector is null or a.sector = $sector)
group by all
"""
FLOWS_IN_SERVED = "select * from flows_in($start, $end, $region, $service_type, $sector)"


# outcome_facts from the raw rows (exits have no key: compared as multisets). The
# referrer of record is found here by ranking the client's referrals, not by arg_max as the build does.
OUTCOME_FACTS = """
with

exits as materialized (
    select row_number() over () as exit_id, * from outcomes
),

ranked as (
    select
        e.exit_id,
        r.from_agency_id,
        row_number() over (partition by e.exit_id order by r.referred_at desc, r.referral_id desc) as rank
    from exits as e
    inner join referrals as r
        on r.client_id = e.client_id and r.to_agency_id = e.agency_id
        and r.from_agency_id <> r.to_agency_id and r.referred_at < e.achieved_on + interval 1 day
),

expected as (
    select
        e.client_id, e.agency_id, e.program_id, e.outcome, e.achieved_on,
        k.polarity, k.polarity = 'positive', k.is_housing, date_trunc('month', e.achieved_on)::date,
        a.region, a.sector, a.is_victim_service, p.service_type, x.from_agency_id
    from exits as e
    inner join outcome_kinds as k using (outcome)
    inner join agencies as a using (agency_id)
    left join programs as p on p.program_id = e.program_id
    left join ranked as x on x.exit_id = e.exit_id and x.rank = 1
)

select * from expected
"""


def _both_ways(con, expected: str, stored: str, params: dict | None = None) -> list[tuple]:
    """The rows of `expected` that `stored` lacks ('missing', *row) and those it has over ('extra', *row),
    counted as multisets (as `except all` does)."""
    want = Counter(con.execute(expected, params or {}).fetchall())
    have = Counter(con.execute(stored, params or {}).fetchall())
    return [("missing", *row) for row in (want - have).elements()] + \
        [("extra", *row) for row in (have - want).elements()]


# journey_facts against journey_base(30), the journeys worked out from the referrals at the default gap.
# test_accountability checks the journeys' figures against a plain pandas recomputation from the contract files.
JOURNEY_FACTS = "select * from {source}"


def differences(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [*con.execute(REFERRAL_FACTS_DIFFER).fetchall(),
                *_both_ways(con, OUTCOME_FACTS, "select * from outcome_facts"),
                *_both_ways(con, REFERRAL_MONTHS, "select * from referral_months"),
                *con.execute(REFERRAL_EXTENT_DIFFERS).fetchall(),
                *_both_ways(con, FLOW_MONTHS, "select * from flow_months"),
                *_both_ways(con, JOURNEY_FACTS.format(source="journey_base(30)"),
                            JOURNEY_FACTS.format(source="journey_facts"))]
    finally:
        con.close()


def test_every_rollup_is_one_statement_and_part_of_the_model_fingerprint(tmp_path):
    statements = catalog.rollup_statements()
    assert [name for name, _ in statements] == ["10_referral_facts.sql", "20_outcome_facts.sql",
                                                "30_referral_extent.sql", "40_referral_months.sql",
                                                "50_flow_months.sql", "60_journey_facts.sql"]
    for name, sql in statements:
        assert len(duckdb.extract_statements(sql)) == 1, f"rollups/{name}: one statement per file"
    changed = tmp_path / "rollups"
    changed.mkdir()
    for name, sql in statements:
        (changed / name).write_text(sql + "\n-- changed\n", encoding="utf-8")
    assert catalog.model_fingerprint() != catalog.model_fingerprint(rollups=changed)


def test_an_empty_community_has_an_extent_row_of_nothing(tmp_path):
    files = {name: text.splitlines()[0] + "\n" if name in ("referrals.csv", "outcomes.csv") else text
             for name, text in SMALL_COMMUNITY.items()}
    database = tmp_path / "atlas.duckdb"
    importer.import_folder(write_files(tmp_path / "files", files), database, TEST_KEY)
    assert table(database, "select * from referral_extent") == [(None, None, None, 0)]
    assert differences(database) == []


def test_referral_months_equals_the_raw_referrals_in_the_small_community(small_db):
    assert table(small_db, "select count(*) from referral_months")[0][0] > 0
    assert differences(small_db) == []


def test_referral_months_equals_the_raw_referrals_in_a_demo(demo_db):
    assert table(demo_db, "select sum(referrals) from referral_months")[0][0] == \
        table(demo_db, "select count(*) from referrals")[0][0]
    assert differences(demo_db) == []


def test_referral_facts_are_stored_in_order_of_referral(demo_db):
    """In order of referral, so a period's filter skips whole row groups (DuckDB's zone maps). The referrals are
    sorted before the agencies are joined, and the join keeps the order but where two threads' batches meet: a
    handful of rows, each a step back of less than a row group's span, so each row group's range of days stays
    its own."""
    rows, backwards, behind = table(demo_db, """
        select count(*), count(*) filter (where referred_at < latest), max(latest - referred_at)
        from (select referred_at, max(referred_at) over (order by rowid rows between unbounded preceding
                                                         and 1 preceding) as latest
              from referral_facts)""")[0]
    assert backwards <= max(3, rows // 100_000)
    groups = table(demo_db, """
        select rowid // 122880 as grp, min(referred_at), max(referred_at) from referral_facts group by grp order by grp""")
    for (_, _, end), (_, start, _) in zip(groups, groups[1:]):
        assert start >= end - (behind or dt.timedelta(0)) and (behind or dt.timedelta(0)) < dt.timedelta(days=7)


def test_referral_months_is_rebuilt_by_an_append(tmp_path):
    """An append that adds referrals (and moves an agency to another region) rebuilds the rollup."""
    database = tmp_path / "atlas.duckdb"
    importer.import_folder(write_files(tmp_path / "first", SMALL_COMMUNITY), database, TEST_KEY)
    before = table(database, "select sum(referrals) from referral_months")[0][0]
    header, *_ = SMALL_COMMUNITY["referrals.csv"].splitlines()
    more = {"referrals.csv": header + "\n" + "\n".join(
        f"RX{i},CX{i},A1,A3,housing,2025-03-0{i + 1} 09:00:00,,,2025-03-0{i + 2} 09:00:00,no_capacity,,"
        for i in range(3)) + "\n"}
    importer.import_folder(write_files(tmp_path / "more", more), database, TEST_KEY, mode="append")
    assert table(database, "select sum(referrals) from referral_months")[0][0] == before + 3
    assert differences(database) == []


def test_a_wrong_rollup_is_caught(tmp_path, small_db):
    """The check can fail: a rollup row off by one is reported, both as missing and as extra."""
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(Path(small_db).read_bytes())
    con = duckdb.connect(str(broken))
    con.execute("update referral_months set referrals = referrals + 1 "
                "where rowid = (select min(rowid) from referral_months)")
    con.execute("update referral_extent set as_of = as_of - interval 1 day")
    con.execute("update referral_facts set status = 'pending' where status = 'declined' "
                "and referral_id = (select min(referral_id) from referral_facts where status = 'declined')")
    con.execute("delete from flow_months where rowid = (select max(rowid) from flow_months)")
    con.execute("update outcome_facts set referred_by_agency_id = 'A9' "
                "where rowid = (select min(rowid) from outcome_facts)")
    con.execute("update referral_facts set client_id = 'someone else' "
                "where referral_id = (select max(referral_id) from referral_facts)")
    con.execute("update journey_facts set any_declined = not any_declined "
                "where rowid = (select min(rowid) from journey_facts)")
    con.close()
    problems = sorted(row[0] for row in differences(broken))
    assert problems == ["derived", "differs", "extra", "extra", "extra", "extra", "missing", "missing", "missing",
                        "missing", "missing"]


@pytest.mark.parametrize("query", ["need_vs_capacity", "service_line_utilization", "capacity_declines"])
def test_month_grain_queries_read_the_rollup_not_the_referrals(query):
    """The month-grain figures are served from referral_months (the point of it), and no longer scan
    every referral; tests/test_need.py and tests/test_agreement.py check their figures."""
    sql = catalog.get(query).sql
    model = dict(catalog.model_statements())["35_need_cells.sql"]
    assert "referral_facts" not in sql and "referral_facts" not in model
    assert "referral_months" in sql or "need_cells" in sql


def _periods(first: dt.date, last: dt.date, count: int, seed: int) -> list[tuple]:
    """Periods to try: open ends, whole months, a single day, part-months at either end, one month
    or none wholly inside, and many drawn at random, each with and without region, service and sector."""
    rng = random.Random(seed)
    fixed = [(None, None), (None, dt.date(2024, 6, 30)), (dt.date(2024, 6, 1), None), (None, dt.date(2024, 6, 17)),
             (dt.date(2024, 6, 17), None), (dt.date(2024, 6, 1), dt.date(2024, 6, 30)),
             (dt.date(2024, 6, 10), dt.date(2024, 6, 20)), (dt.date(2024, 6, 10), dt.date(2024, 7, 20)),
             (dt.date(2024, 6, 10), dt.date(2024, 8, 20)), (dt.date(2024, 2, 29), dt.date(2024, 2, 29)),
             (dt.date(2024, 1, 31), dt.date(2024, 3, 1)), (dt.date(2023, 12, 31), dt.date(2025, 1, 1))]
    days = (last - first).days
    drawn = []
    for _ in range(count):
        a, b = sorted(rng.randint(-30, days + 30) for _ in range(2))
        drawn.append((first + dt.timedelta(days=a), first + dt.timedelta(days=b)))
    return fixed + drawn


def test_flows_in_counts_every_period_as_the_raw_referrals_do(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        first, last = con.execute("select min(referred_at)::date, max(referred_at)::date from referrals").fetchone()
        region, sector = con.execute("select region, sector from agencies order by agency_id limit 1").fetchone()
        service = con.execute("select min(service_type) from referrals").fetchone()[0]
        scopes = [(None, None, None), (region, None, None), (None, service, None), (None, None, sector),
                  (region, service, sector)]
        checked = 0
        for start, end in _periods(first, last, 40, seed=9):
            for region_, service_, sector_ in scopes:
                params = {"start": start, "end": end, "region": region_, "service_type": service_,
                          "sector": sector_}
                wrong = _both_ways(con, FLOWS_IN, FLOWS_IN_SERVED, params)
                assert wrong == [], f"flows_in differs for {params}: {wrong[:3]}"
                checked += 1
        total = con.execute("select sum(referrals) from flows_in(null, null, null, null, null)").fetchone()[0]
        assert total == con.execute("select count(*) from referrals where from_agency_id <> to_agency_id").fetchone()[0]
    finally:
        con.close()
    assert checked == 5 * 52


def test_flows_in_check_can_fail(tmp_path, demo_db):
    """A month's rollup row off by one shows as a difference for a period containing that month whole."""
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(Path(demo_db).read_bytes())
    con = duckdb.connect(str(broken))
    try:
        month = con.execute("update flow_months set referrals = referrals + 1 where rowid = "
                            "(select min(rowid) from flow_months) returning referred_month").fetchone()[0]
        params = {"start": month - dt.timedelta(days=3), "end": month + dt.timedelta(days=40), "region": None,
                  "service_type": None, "sector": None}
        assert {row[0] for row in _both_ways(con, FLOWS_IN, FLOWS_IN_SERVED, params)} == {"missing", "extra"}
        params["start"] = month + dt.timedelta(days=1)  # the month is no longer whole: read from the facts
        assert _both_ways(con, FLOWS_IN, FLOWS_IN_SERVED, params) == []
    finally:
        con.close()


def test_queries_run_in_bounded_memory_and_spill_beyond_it(demo_db, monkeypatch, tmp_path):
    """The dashboard's connection holds DuckDB to query_memory (default 800MB; $ATLAS_QUERY_MEMORY):
    at ten million referrals the Outcomes queries otherwise took 1.4 GB. Under a small limit the same
    answers come back (DuckDB spills what does not fit); a wrong setting is refused with its name."""
    from atlas import config
    from atlas.db import Atlas

    def setting(atlas, name):
        return atlas._con.execute("select current_setting($name)", {"name": name}).fetchone()[0]

    monkeypatch.delenv("ATLAS_QUERY_MEMORY", raising=False)
    monkeypatch.setenv("ATLAS_SECRETS", str(tmp_path / "no-secrets.toml"))
    with Atlas(demo_db) as atlas:
        assert setting(atlas, "memory_limit") == "762.9 MiB"
        assert setting(atlas, "temp_directory").endswith("atlas-duckdb")
        whole = atlas.query("outcome_pathways", min_cell=0)
    monkeypatch.setenv("ATLAS_QUERY_MEMORY", "100MB")
    with Atlas(demo_db) as atlas:
        assert setting(atlas, "memory_limit") == "95.3 MiB"
        assert atlas.query("outcome_pathways", min_cell=0).equals(whole)
    for wrong in ("lots", "0GB", "50MB", "-1GB"):
        monkeypatch.setenv("ATLAS_QUERY_MEMORY", wrong)
        with pytest.raises(config.ConfigError, match="query_memory"):
            Atlas(demo_db)


@pytest.mark.parametrize("query", ["accountability_summary", "accountability_trend", "unheld_journeys"])
def test_journey_queries_read_the_stored_journeys_at_the_default_gap(demo_db, query):
    """At the default gap of 30 days the journeys come from journey_facts and no referral is read again;
    at any other gap they are worked out from the referrals (test_accountability checks both's figures)."""
    named = catalog.get(query)
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        def scanned(**params) -> str:
            plan = con.execute("explain analyze " + named.sql, named.bind(params)).fetchall()
            return "\n".join(row[-1] for row in plan)

        default, other = scanned(), scanned(journey_gap_days=29.99)
    finally:
        con.close()
    reads = lambda plan, table: re.search(rf"Table: (\w+\.)*{table}\b", plan) is not None
    windowed = lambda plan: re.search(r"\bWindow\b", plan, re.IGNORECASE) is not None
    assert reads(default, "journey_facts") and not windowed(default)  # no journey worked out again
    # the work list reads the referrals of its own few journeys only, for the agencies they involve
    assert not reads(default, "referrals") or query == "unheld_journeys"
    assert reads(other, "referrals") and windowed(other)

"""Rollup tables built at import (queries/rollups/) equal the same aggregation of the raw rows.

referral_months (month-grain counts) and referral_extent (the span of the data and its as-of moment).

Each check is a singular test in the dbt manner: a query that must return no rows. It is written
from the stored tables `referrals` and `agencies` directly, not from `referral_facts` or the
rollup's own statement, so a mistake in either shows here.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from atlas import catalog, importer
from conftest import SMALL_COMMUNITY, TEST_KEY, write_files

# referral_months as the raw rows say it should be, both ways round: rows the rollup lacks or has extra.
REFERRAL_MONTHS_DIFFER = """
with

expected as (
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
),

stored as (
    select * from referral_months
),

final as (
    (select 'missing' as problem, * from (select * from expected except all select * from stored))
    union all
    (select 'extra' as problem, * from (select * from stored except all select * from expected))
)

select * from final
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


def differences(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [*con.execute(REFERRAL_MONTHS_DIFFER).fetchall(), *con.execute(REFERRAL_EXTENT_DIFFERS).fetchall()]
    finally:
        con.close()


def rows(path: Path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_rollup_is_one_statement_and_part_of_the_model_fingerprint(tmp_path):
    statements = catalog.rollup_statements()
    assert [name for name, _ in statements] == ["referral_extent.sql", "referral_months.sql"]
    for name, sql in statements:
        assert len(duckdb.extract_statements(sql)) == 1, f"rollups/{name}: one statement per file"
    changed = tmp_path / "rollups"
    changed.mkdir()
    for name, sql in statements:
        (changed / name).write_text(sql + "\n-- changed\n", encoding="utf-8")
    assert catalog.model_fingerprint() != _fingerprint_with(changed)


def _fingerprint_with(rollups: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name, sql in [*catalog.model_statements(), *catalog.rollup_statements(rollups)]:
        digest.update(name.encode())
        digest.update(sql.encode())
    return digest.hexdigest()[:16]


def test_an_empty_community_has_an_extent_row_of_nothing(tmp_path):
    files = {name: text.splitlines()[0] + "\n" if name in ("referrals.csv", "outcomes.csv") else text
             for name, text in SMALL_COMMUNITY.items()}
    database = tmp_path / "atlas.duckdb"
    importer.import_folder(write_files(tmp_path / "files", files), database, TEST_KEY)
    assert rows(database, "select * from referral_extent") == [(None, None, None, 0)]
    assert differences(database) == []


def test_referral_months_equals_the_raw_referrals_in_the_small_community(small_db):
    assert rows(small_db, "select count(*) from referral_months")[0][0] > 0
    assert differences(small_db) == []


def test_referral_months_equals_the_raw_referrals_in_a_demo(demo_db):
    assert rows(demo_db, "select sum(referrals) from referral_months")[0][0] == \
        rows(demo_db, "select count(*) from referrals")[0][0]
    assert differences(demo_db) == []


def test_referral_months_is_rebuilt_by_an_append(tmp_path):
    """An append that adds referrals (and moves an agency to another region) rebuilds the rollup."""
    database = tmp_path / "atlas.duckdb"
    importer.import_folder(write_files(tmp_path / "first", SMALL_COMMUNITY), database, TEST_KEY)
    before = rows(database, "select sum(referrals) from referral_months")[0][0]
    header, *_ = SMALL_COMMUNITY["referrals.csv"].splitlines()
    more = {"referrals.csv": header + "\n" + "\n".join(
        f"RX{i},CX{i},A1,A3,housing,2025-03-0{i + 1} 09:00:00,,,2025-03-0{i + 2} 09:00:00,no_capacity,,"
        for i in range(3)) + "\n"}
    importer.import_folder(write_files(tmp_path / "more", more), database, TEST_KEY, mode="append")
    assert rows(database, "select sum(referrals) from referral_months")[0][0] == before + 3
    assert differences(database) == []


def test_a_wrong_rollup_is_caught(tmp_path, small_db):
    """The check can fail: a rollup row off by one is reported, both as missing and as extra."""
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(Path(small_db).read_bytes())
    con = duckdb.connect(str(broken))
    con.execute("update referral_months set referrals = referrals + 1 "
                "where rowid = (select min(rowid) from referral_months)")
    con.execute("update referral_extent set as_of = as_of - interval 1 day")
    con.close()
    problems = sorted(row[0] for row in differences(broken))
    assert problems == ["differs", "extra", "missing"]


@pytest.mark.parametrize("query", ["need_vs_capacity", "service_line_utilization", "capacity_declines"])
def test_month_grain_queries_read_the_rollup_not_the_referrals(query):
    """The month-grain figures are served from referral_months (the point of it), and no longer scan
    every referral; tests/test_need.py and tests/test_agreement.py check their figures."""
    sql = catalog.get(query).sql
    model = dict(catalog.model_statements())["35_need_cells.sql"]
    assert "referral_facts" not in sql and "referral_facts" not in model
    assert "referral_months" in sql or "need_cells" in sql

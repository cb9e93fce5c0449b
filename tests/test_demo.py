"""The demo community: canonical frames, every contract rule, and each planted phenomenon findable."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from atlas import demo
from atlas.contract import ORDERS, REFERENCES, TABLES
from atlas.vocab import POSITIVE_OUTCOMES

REFERRALS, AGENCIES, REGIONS = 20_000, 150, 6
START, MONTHS = datetime.date(2023, 1, 1), 36
END = pd.Timestamp("2026-01-01")
STAGES = ["referred_at", "accepted_at", "declined_at", "started_at", "completed_at"]
CANONICAL = {"id": "string", "text": "string", "enum": "string", "bool": "boolean", "int": "Int64",
             "timestamp": "datetime64[us]", "date": "datetime64[us]", "month": "datetime64[us]"}


@pytest.fixture(scope="module")
def t() -> dict[str, pd.DataFrame]:
    return demo.generate(seed=7, referrals=REFERRALS, agencies=AGENCIES, regions=REGIONS, start=START, months=MONTHS)


@pytest.fixture(scope="module")
def planted() -> dict:
    return demo.planted(AGENCIES, REGIONS)


@pytest.fixture(scope="module")
def bottlenecks(t) -> pd.DataFrame:
    """agency_bottlenecks as metrics.md defines it, over the whole period."""
    r = t["referrals"]
    as_of = r[STAGES].max().max()
    pending = r.accepted_at.isna() & r.declined_at.isna()
    days_to_accept = (r.accepted_at - r.referred_at).dt.total_seconds() / 86400
    frame = pd.DataFrame({
        "agency_id": r.to_agency_id, "accepted": r.accepted_at.notna(), "declined": r.declined_at.notna(),
        "stalled": pending & ((as_of - r.referred_at).dt.total_seconds() / 86400 > 14),
        "days_to_accept": days_to_accept})
    out = frame.groupby("agency_id").agg(received=("accepted", "size"), accepted=("accepted", "sum"),
                                         declined=("declined", "sum"), stalled=("stalled", "sum"),
                                         median_days_to_accept=("days_to_accept", "median"))
    out["acceptance_rate"] = out.accepted / (out.accepted + out.declined)
    return out


@pytest.fixture(scope="module")
def flows(t) -> pd.Series:
    """Referrals per directed pair of different agencies, heaviest first."""
    r = t["referrals"]
    external = r[r.from_agency_id != r.to_agency_id]
    return external.groupby(["from_agency_id", "to_agency_id"]).size().sort_values(ascending=False)


def pair_referrals(r: pd.DataFrame, a: str, b: str) -> int:
    forward = (r.from_agency_id == a) & (r.to_agency_id == b)
    backward = (r.from_agency_id == b) & (r.to_agency_id == a)
    return int((forward | backward).sum())


def partnerships_between(p: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return p[((p.agency_a_id == a) & (p.agency_b_id == b)) | ((p.agency_a_id == b) & (p.agency_b_id == a))]


# --- canonical form ---------------------------------------------------------------------------

def test_tables_have_contract_columns_and_canonical_dtypes(t):
    assert set(t) == set(TABLES)
    for name, table in TABLES.items():
        frame = t[name]
        assert list(frame.columns) == [c.name for c in table.columns], name
        for column in table.columns:
            assert frame[column.name].dtype == CANONICAL[column.type], (name, column.name, frame[column.name].dtype)
        assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
        assert len(frame) > 0, name


def test_sizes_and_ids(t):
    assert len(t["referrals"]) == REFERRALS
    assert len(t["agencies"]) == AGENCIES
    assert t["agencies"].region.nunique() == REGIONS
    assert t["referrals"].client_id.str.fullmatch(r"C\d{7,}").all()
    assert t["agencies"].agency_id.str.fullmatch(r"A\d{4}").all()
    assert t["referrals"].referral_id.str.fullmatch(r"R\d{8}").all()
    assert len(t["capacity"]) == len(t["programs"]) * MONTHS


def test_same_seed_same_community_other_seed_other_history():
    a = demo.generate(seed=3, referrals=5_000)
    b = demo.generate(seed=3, referrals=5_000)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = demo.generate(seed=4, referrals=5_000)
    assert not a["referrals"].equals(c["referrals"])
    assert (a["agencies"].agency_id.head(len(demo.CAST)) == c["agencies"].agency_id.head(len(demo.CAST))).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        demo.generate(regions=1)
    with pytest.raises(ValueError):
        demo.generate(agencies=20)
    with pytest.raises(ValueError):
        demo.generate(start=datetime.date(2023, 1, 15))


# --- every contract rule ------------------------------------------------------------------------

def test_required_values_enums_and_bounds(t):
    for name, table in TABLES.items():
        frame = t[name]
        for column in table.columns:
            values = frame[column.name]
            if column.required:
                assert values.notna().all(), (name, column.name)
            present = values.dropna()
            if column.type == "enum":
                assert present.isin(column.values).all(), (name, column.name, set(present) - set(column.values))
            if column.type == "int":
                if column.min is not None:
                    assert (present >= column.min).all(), (name, column.name)
                if column.max is not None:
                    assert (present <= column.max).all(), (name, column.name)
                assert not present.isin(column.sentinels).any(), (name, column.name)
            if column.type in ("id", "text"):
                assert (present.str.strip() != "").all(), (name, column.name)
            if column.type == "date":
                assert (present == present.dt.normalize()).all(), (name, column.name)
            if column.type == "month":
                assert ((present.dt.day == 1) & (present == present.dt.normalize())).all(), (name, column.name)


def test_keys_are_unique(t):
    for name, table in TABLES.items():
        if table.key:
            assert not t[name].duplicated(list(table.key)).any(), name
    assert not t["needs"].duplicated(["region", "service_type", "month"]).any()
    p = t["partnerships"]
    pair = pd.DataFrame({"lo": np.minimum(p.agency_a_id, p.agency_b_id),
                         "hi": np.maximum(p.agency_a_id, p.agency_b_id)})
    assert not pair.duplicated().any()


def test_references_exist(t):
    for ref in REFERENCES:
        values = t[ref.table][ref.column].dropna()
        assert values.isin(t[ref.target_table][ref.target_column]).all(), ref


def test_programs_belong_to_their_agencies(t):
    owner = t["programs"].set_index("program_id").agency_id
    r = t["referrals"].dropna(subset=["to_program_id"])
    assert (r.to_program_id.map(owner) == r.to_agency_id).all()
    o = t["outcomes"].dropna(subset=["program_id"])
    assert (o.program_id.map(owner) == o.agency_id).all()
    assert t["programs"].groupby("agency_id").size().between(1, 4).all()


def test_orders_hold(t):
    for order in ORDERS:
        frame = t[order.table]
        both = frame[order.earlier].notna() & frame[order.later].notna()
        assert (frame.loc[both, order.later] >= frame.loc[both, order.earlier]).all(), order


def test_referral_stages_are_consistent(t):
    r = t["referrals"]
    assert not (r.accepted_at.notna() & r.declined_at.notna()).any()
    assert (r.decline_reason.notna() == r.declined_at.notna()).all()
    assert (r.started_at.isna() | r.accepted_at.notna()).all()
    assert (r.completed_at.isna() | r.started_at.notna()).all()


def test_partnerships_join_two_different_agencies(t):
    p = t["partnerships"]
    assert (p.agency_a_id != p.agency_b_id).all()
    assert (p.ended_on.isna() | (p.ended_on < END)).all()
    assert set(p.instrument[p.kind == "informal"]) <= {"personal", "co_location"}


def test_everything_happens_inside_the_period(t):
    r = t["referrals"]
    for stage in STAGES:
        assert (r[stage].dropna() >= pd.Timestamp(START)).all() and (r[stage].dropna() <= END).all(), stage
    assert t["outcomes"].achieved_on.between(pd.Timestamp(START), END - pd.Timedelta(days=1)).all()
    for name in ("capacity", "needs"):
        months = t[name].month
        assert months.min() == pd.Timestamp(START) and months.max() == pd.Timestamp("2025-12-01")
        assert months.nunique() == MONTHS


def test_needs_regions_are_agency_regions_and_every_program_has_capacity(t):
    assert set(t["needs"].region) == set(t["agencies"].region)
    assert set(t["capacity"].program_id) == set(t["programs"].program_id)


def test_outcomes_follow_a_start(t):
    r, o = t["referrals"], t["outcomes"]
    started = r.dropna(subset=["started_at"]).groupby("client_id").started_at.min().dt.normalize()
    first = o[o.outcome != "returned_to_homelessness"].groupby("client_id").achieved_on.min()
    assert first.index.isin(started.index).all()
    assert (first >= started.reindex(first.index)).all()


# --- the story ------------------------------------------------------------------------------------

def test_planted_names_match_the_roster(t, planted):
    names = t["agencies"].set_index("agency_id").name
    for agency_id, name in planted["names"].items():
        assert names[agency_id] == name
    assert names[planted["bottleneck_agency_id"]] == "Riverside Counselling"
    assert names[planted["winter_surge_agency_id"]] == "Harbor House Family Shelter"
    assert planted == demo.PLANTED


def test_the_community_has_every_sector_and_some_victim_services(t):
    a = t["agencies"]
    assert set(a.sector) == set(TABLES["agencies"].column("sector").values)
    victims = a[a.is_victim_service]
    assert 2 <= len(victims) <= len(a) // 10
    assert (victims.sector == "nonprofit").all()
    assert t["programs"].funder.notna().mean() > 0.8


def test_bottleneck_is_slow_stalled_and_declines_more(bottlenecks, planted):
    b = bottlenecks
    agency = planted["bottleneck_agency_id"]
    assert b.stalled.idxmax() == agency
    assert b.stalled[agency] > 2 * b.stalled.drop(agency).max()
    assert b.median_days_to_accept.idxmax() == agency
    assert b.median_days_to_accept[agency] > 5 * b.median_days_to_accept.median()
    assert b.acceptance_rate[agency] < b.acceptance_rate.median() - 0.15


def test_dormant_formal_agreements_carry_no_referrals(t, planted):
    r, p = t["referrals"], t["partnerships"]
    for a, b in planted["dormant_formal_pairs"]:
        ties = partnerships_between(p, a, b)
        assert len(ties) == 1 and (ties.kind == "formal").all() and ties.ended_on.isna().all()
        assert pair_referrals(r, a, b) == 0
    in_force = p[p.ended_on.isna() | (p.ended_on >= pd.Timestamp(START))]
    busy = sum(pair_referrals(r, a, b) > 0 for a, b in zip(in_force.agency_a_id, in_force.agency_b_id))
    assert busy > 0.95 * len(in_force)


def test_heavy_flows_without_agreement_are_among_the_heaviest(t, planted, flows):
    p = t["partnerships"]
    rank = {pair: i for i, pair in enumerate(flows.index)}
    for a, b in planted["unpartnered_heavy_flows"]:
        assert partnerships_between(p, a, b).empty
        assert rank[(a, b)] < max(30, 0.02 * len(flows))
    partnered = {tuple(sorted(x)) for x in zip(p.agency_a_id, p.agency_b_id)}
    top_unpartnered = [f for f in flows.index if tuple(sorted(f)) not in partnered][:5]
    assert set(top_unpartnered) == set(planted["unpartnered_heavy_flows"])


def test_shortage_region_needs_far_more_housing_than_it_has(t, planted):
    programs = t["programs"].merge(t["agencies"][["agency_id", "region"]], on="agency_id")
    housing = programs[programs.service_type.isin(["housing", "shelter"])]
    capacity = t["capacity"].merge(housing, on="program_id").groupby("region").slots.sum()
    needs = t["needs"]
    need = needs[needs.service_type.isin(["housing", "shelter"])].groupby("region").people_in_need.sum()
    ratio = (need / capacity).sort_values(ascending=False)
    shortage = planted["shortage_region"]
    assert ratio.index[0] == shortage
    assert ratio[shortage] > 2 * ratio.drop(shortage).max()
    assert ratio.drop(shortage).between(0.6, 1.6).all()

    r = t["referrals"].merge(t["agencies"][["agency_id", "region"]], left_on="to_agency_id", right_on="agency_id")
    declined = r[r.declined_at.notna()]
    tight = declined.service_type.isin(["housing", "shelter"]) & (declined.region == shortage)
    no_capacity = declined.decline_reason == "no_capacity"
    assert no_capacity[tight].mean() > 3 * no_capacity[~tight].mean()


def test_shelter_demand_and_need_surge_in_winter(t, planted):
    r = t["referrals"]
    shelter = r[r.service_type == "shelter"]
    month = shelter.referred_at.dt.month
    per_month = shelter.groupby([shelter.referred_at.dt.year, month]).size().groupby(level=1).mean()
    assert per_month[[12, 1, 2]].mean() > 1.4 * per_month[[6, 7, 8]].mean()

    harbor = r[(r.to_agency_id == planted["winter_surge_agency_id"]) & (r.service_type == "shelter")]
    harbor_month = harbor.referred_at.dt.month
    assert harbor_month.isin([12, 1, 2]).sum() > 1.4 * harbor_month.isin([6, 7, 8]).sum()
    assert harbor.to_program_id.dropna().eq(planted["winter_surge_program_id"]).all()

    needs = t["needs"][t["needs"].service_type == "shelter"]
    need = needs.groupby(needs.month.dt.month).people_in_need.sum()
    assert need[[12, 1, 2]].mean() > 1.4 * need[[6, 7, 8]].mean()


def test_small_programs_have_a_handful_of_exits_a_year(t, planted):
    o = t["outcomes"]
    exits = o.groupby(["program_id", o.achieved_on.dt.year]).size()
    for program in planted["small_programs"]:
        assert exits[program].between(1, 10).any(), program
        assert exits[program].max() <= 12


def test_police_and_child_protection_refer_often_and_decline_each_other(t):
    r = t["referrals"]
    names = t["agencies"].set_index("agency_id").name
    police = r.from_agency_id.map(names).str.contains("Police") & r.to_agency_id.map(names).str.contains("Child")
    cps = r.from_agency_id.map(names).str.contains("Child") & r.to_agency_id.map(names).str.contains("Police")
    disputed = r[police | cps]
    assert len(disputed) > 0.05 * len(r)
    assert disputed.declined_at.notna().mean() > 0.35
    assert disputed.declined_at.notna().mean() > 2 * r[~(police | cps)].declined_at.notna().mean()
    assert disputed.decline_reason.dropna().isin(["not_eligible", "other", "duplicate"]).mean() > 0.8


def test_informal_ties_carry_referrals_and_formal_ones_use_instruments(t, planted):
    r, p = t["referrals"], t["partnerships"]
    informal = p[p.kind == "informal"]
    assert len(informal) > 20
    assert sum(pair_referrals(r, a, b) for a, b in zip(informal.agency_a_id, informal.agency_b_id)) > 0.02 * len(r)
    assert {"mou", "referral_protocol", "contract", "data_sharing"} <= set(p.instrument[p.kind == "formal"])
    shelter = planted["winter_surge_agency_id"]
    harbor = p[(p.agency_a_id == shelter) | (p.agency_b_id == shelter)]
    assert (harbor.kind == "formal").sum() >= 5 and (harbor.kind == "informal").sum() >= 3


def test_pending_grows_towards_the_end(t):
    r = t["referrals"]
    pending = (r.accepted_at.isna() & r.declined_at.isna()).groupby(r.referred_at.dt.to_period("M")).mean()
    assert pending.iloc[-1] > 3 * pending.iloc[:-2].median()


def test_clients_repeat_and_some_ping_pong(t):
    r = t["referrals"]
    per_client = r.client_id.value_counts()
    assert (per_client > 1).mean() > 0.3
    unstarted = r[r.started_at.isna()].sort_values(["client_id", "referred_at"])
    span = unstarted.groupby("client_id").referred_at.agg(lambda x: x.iloc[-1] - x.iloc[0] if len(x) >= 3 else pd.NaT)
    ping_pong = span.dropna() <= pd.Timedelta(days=30)
    assert ping_pong.sum() >= 20
    internal = (r.from_agency_id == r.to_agency_id).mean()
    assert 0.005 < internal < 0.06


def test_outcomes_vary_by_service_and_some_housed_return(t):
    o = t["outcomes"].merge(t["programs"][["program_id", "service_type"]], on="program_id", how="left")
    positive = o.outcome.isin(POSITIVE_OUTCOMES)
    assert 0.3 < positive.mean() < 0.7
    assert o[o.service_type == "housing"].outcome.value_counts().idxmax() == "housed_permanent"
    assert o[o.service_type == "employment"].outcome.value_counts().idxmax() == "employed"
    housed = o[o.outcome.isin(["housed_permanent", "housed_temporary"])][["client_id", "achieved_on"]]
    back = o[o.outcome == "returned_to_homelessness"][["client_id", "achieved_on"]]
    pairs = housed.merge(back, on="client_id", suffixes=("_housed", "_back"))
    gap = (pairs.achieved_on_back - pairs.achieved_on_housed).dt.days
    assert gap.between(180, 731).sum() >= len(back) > 0


# --- the continuum profile: a community of ordinary size (issue 30) -----------------------------
# About 60 agencies in 5 regions, 10,000 referrals and 2,000 exits a year: a pair of agencies exchanges
# a few referrals a quarter and a program exits a handful of people, so most cells a board member or
# funder could see are counts of 1 to 10 (the dense demo above hides that).

CONTINUUM_PAGES = [("director", page) for page in ("overview", "bottlenecks", "need_capacity", "accountability",
                                                   "network", "outcomes", "data")] + \
                  [("board", "overview"), ("board", "network"), ("funder", "overview"), ("funder", "outcomes")]


@pytest.fixture(scope="module")
def c() -> dict[str, pd.DataFrame]:
    return demo.generate(profile="continuum")


@pytest.fixture(scope="module")
def continuum_db(tmp_path_factory) -> tuple:
    """The continuum built by the real command, in a process of its own, with its contract files beside it."""
    import subprocess
    import sys
    from pathlib import Path

    folder = tmp_path_factory.mktemp("continuum")
    db, files = folder / "atlas.duckdb", folder / "files"
    done = subprocess.run([sys.executable, "-m", "atlas", "demo", "--profile", "continuum", "--db", str(db),
                           "--csv", str(files)], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return db, files, done.stdout


def quarterly_pairs(r: pd.DataFrame) -> pd.Series:
    """Referrals per quarter and ordered pair of different agencies, over the pairs active that quarter."""
    external = r[r.from_agency_id != r.to_agency_id]
    return external.groupby([external.referred_at.dt.to_period("Q"), "from_agency_id", "to_agency_id"]).size()


def test_continuum_sizes(c):
    a, r, o = c["agencies"], c["referrals"], c["outcomes"]
    assert len(a) == 60 and a.region.nunique() == 5
    assert len(r) == 30_000
    per_year = r.groupby(r.referred_at.dt.year).size()
    assert list(per_year.index) == [2023, 2024, 2025]
    assert per_year.between(8_500, 11_500).all(), per_year.to_dict()  # 10,000 a year within 15 %
    exits = o.groupby(o.achieved_on.dt.year).size()
    # 2,000 a year within 25 % once services are under way; the first year has only the exits of the
    # services its own referrals began
    assert exits[[2024, 2025]].between(1_500, 2_500).all(), exits.to_dict()
    assert 1_000 <= exits[2023] < exits[2024]
    assert 0.3 < o.outcome.isin(POSITIVE_OUTCOMES).mean() < 0.7  # the dense demo's mix, fewer of them
    assert 100 <= len(c["programs"]) <= 180


def test_continuum_ties_are_sparse_and_programs_exit_a_handful(c):
    pairs = quarterly_pairs(c["referrals"])
    by_quarter = pairs.groupby(level=0)
    assert len(by_quarter) == 12
    assert (by_quarter.size() >= 800).all()  # most agencies refer to many others ...
    assert (by_quarter.median() <= 3).all()  # ... a few times a quarter
    reaching = (pairs >= 11).groupby(level=0).sum()
    assert (reaching <= 15).all() and reaching.sum() > 0, reaching.to_dict()  # a few pairs, the story's, more
    o = c["outcomes"]
    exits = o.groupby([o.achieved_on.dt.to_period("Q"), "program_id"]).size()
    assert exits.median() <= 6 and (exits < 11).mean() > 0.9


def test_continuum_has_every_sector_and_a_victim_service_agency(c):
    from atlas.vocab import SECTORS

    a = c["agencies"]
    assert set(a.sector) == set(SECTORS)
    victim = a[a.is_victim_service]
    assert len(victim) >= 1
    assert c["referrals"].to_agency_id.isin(victim.agency_id).sum() > 0


def test_continuum_partnerships_tell_the_same_story(c):
    r, p = c["referrals"], c["partnerships"]
    planted = demo.planted(profile="continuum")
    for a, b in planted["dormant_formal_pairs"]:  # formal agreements with no referrals either way
        assert pair_referrals(r, a, b) == 0
        assert (partnerships_between(p, a, b).kind == "formal").all() and len(partnerships_between(p, a, b))
    for a, b in planted["unpartnered_heavy_flows"]:  # real flows without any agreement
        assert pair_referrals(r, a, b) > 0 and partnerships_between(p, a, b).empty
    informal = p[p.kind == "informal"]
    assert len(informal) > 20
    carrying = sum(pair_referrals(r, a, b) > 0 for a, b in zip(informal.agency_a_id, informal.agency_b_id))
    assert carrying > 0.8 * len(informal)


def test_continuum_respects_the_contract(c):
    from atlas.ingest import validate

    problems = validate.check(c, {name: f"{name} (demo)" for name in c})
    assert [p for p in problems if p.severity == "error"] == []
    assert set(c) == set(TABLES)
    for name, table in TABLES.items():
        assert list(c[name].columns) == [column.name for column in table.columns], name


def test_explicit_sizes_override_the_profile_and_bad_profiles_are_refused():
    tables = demo.generate(profile="continuum", referrals=5_000, agencies=70)
    assert len(tables["referrals"]) == 5_000 and len(tables["agencies"]) == 70
    assert tables["agencies"].region.nunique() == 5
    with pytest.raises(ValueError, match="profile"):
        demo.generate(profile="huge")
    with pytest.raises(ValueError, match="at least 49"):  # the cast and five regions' core agencies
        demo.generate(profile="continuum", agencies=40)


def test_the_command_builds_the_continuum_and_its_files_import_like_the_dense_demo(continuum_db, tmp_path):
    import duckdb
    from conftest import TEST_KEY

    from atlas.ingest import importer

    db, files, printed = continuum_db
    assert "60 agencies" in printed and "30,000 referrals" in printed
    imported = tmp_path / "imported.duckdb"
    importer.import_folder(files, imported, TEST_KEY)
    for path in (db, imported):
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.execute("select count(*) from referrals").fetchone()[0] == 30_000
            assert con.execute("select count(*) from agencies").fetchone()[0] == 60


@pytest.mark.parametrize(("role", "page"), CONTINUUM_PAGES)
def test_every_page_opens_on_the_continuum(continuum_db, monkeypatch, role, page):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ATLAS_DB", str(continuum_db[0]))
    monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=120)
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title, f"{role} sees {page}'s title"

"""The network map's scores, tables, exports and HTML, on the small community (numbers by hand).

Whole-data flows between different agencies, victim-service A6 left out (its one flow, R10 A3->A6,
is counted only): A1->A2 1, A1->A3 4, A1->A4 1, A2->A1 1, A2->A3 1, A4->A1 1, A5->A1 1, A5->A2 1.
Undirected weights: A1-A2 2, A1-A3 4, A1-A4 2, A1-A5 1, A2-A3 1, A2-A5 1.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from atlas.db import Atlas
from atlas.filters import Filters
from atlas.views import network


@pytest.fixture(scope="module")
def db(small_db):
    with Atlas(small_db) as atlas:
        yield atlas


@pytest.fixture(scope="module")
def view(db):
    return network.build(db, Filters(), network.MapChoice(min_referrals=1))


def test_scores_hand_checked(view):
    rows = view.agencies.set_index("agency_id")
    assert sorted(rows.index) == ["A1", "A2", "A3", "A4", "A5"]  # A6 is a victim-service agency
    assert rows["in_degree"].to_dict() == {"A1": 3, "A2": 2, "A3": 2, "A4": 1, "A5": 0}
    assert rows["out_degree"].to_dict() == {"A1": 3, "A2": 2, "A3": 0, "A4": 1, "A5": 2}
    assert rows["in_strength"].to_dict() == {"A1": 3, "A2": 2, "A3": 5, "A4": 1, "A5": 0}
    assert rows["degree"].to_dict() == {"A1": 4, "A2": 3, "A3": 2, "A4": 1, "A5": 2}
    # with distance = 1 / referrals every shortest path between two others runs through A1 except
    # A2-A5 (direct, 1.0 against 1.5): 5 of the 6 pairs, normalised by (n-1)(n-2)/2 = 6
    assert rows.loc["A1", "betweenness"] == pytest.approx(5 / 6)
    assert rows.drop(index="A1")["betweenness"].eq(0).all()
    assert rows["articulation"].to_dict() == {"A1": True, "A2": False, "A3": False, "A4": False, "A5": False}


def test_network_figures_hand_checked(view):
    s = view.summary
    assert (s["agencies"], s["flows"], s["referrals"], s["components"], s["cut_points"]) == (5, 8, 11, 1, 1)
    assert s["density"] == pytest.approx(8 / 20)
    assert s["reciprocity"] == pytest.approx(4 / 8)  # A1<->A2 and A1<->A4
    assert s["centralization"] == pytest.approx(8 / 12)  # degrees 4 3 2 1 2 against the maximum 4
    assert view.cut_points[["agency", "cut_off", "agencies_cut_off"]].values.tolist() == [
        ["Harbor House", 1, "Housing Authority"]]


def test_victim_service_agencies_are_counted_never_drawn_or_named(view):
    assert view.hidden_referrals == 1
    assert "Safe Haven" not in view.html and '"A6"' not in view.html
    assert "Safe Haven" not in view.scores["Agency"].tolist()
    assert b"Safe Haven" not in network.gexf(view) and b"Safe Haven" not in network.graphml(view)


def test_formal_versus_real_tables(view, db):
    assert view.informal_flows["Referrals"].tolist() == [1, 1, 1, 1, 1]  # every flow but the formal ones
    assert set(view.informal_flows["Declared tie"]) == {"Informal tie", "No declared tie"}
    assert view.dormant[["Agency A", "Agency B", "Kind"]].values.tolist() == [
        ["Housing Authority", "City Hospital", "Formal"]]
    assert view.one_way.empty  # no pair has 10 referrals one way
    # the section's figures: the five flows above carry 5 of the 11 referrals; A4-A2 is the dormant one of 5 ties
    assert view.formal_real == network.FormalVersusReal(unagreed_flows=5, unagreed_referrals=5, referrals=11,
                                                        dormant=1, ties=5, one_way=0, one_way_min=10)
    assert view.formal_real.unagreed_share == pytest.approx(5 / 11)
    one_way = network.one_way_pairs(view.flows, dict(zip(view.agencies.agency_id, view.agencies.name)), 1)
    assert set(one_way["Declared tie"]) == set(network.AGREEMENTS.values())  # read as on the map, not as codes
    assert sorted(zip(one_way["From"], one_way["To"])) == sorted([
        ("Harbor House", "Riverside Counselling"), ("St Mark's Church", "Harbor House"),
        ("City Hospital", "Riverside Counselling"), ("St Mark's Church", "City Hospital")])


def test_focus_lists_partners_and_dims_the_rest(db):
    view = network.build(db, Filters(), network.MapChoice(min_referrals=1, focus="A4", steps=1))
    partners = view.focus_partners
    assert partners["Partner"].tolist() == ["Harbor House", "City Hospital"]  # flows, then the dormant MOU
    assert partners.iloc[0][["Referrals sent to them", "Referrals from them"]].tolist() == [1, 1]
    assert partners.iloc[1]["Declared ties"] == "formal (MOU)"  # written as the dormant agreements write them
    assert network.ego("A4", 1, view.flows, pd.DataFrame(columns=["agency_a_id", "agency_b_id"])) == {"A4", "A1"}
    assert network.ego("A4", 2, view.flows, pd.DataFrame(columns=["agency_a_id", "agency_b_id"])) == {
        "A4", "A1", "A2", "A3", "A5"}
    assert network.DIMMED in view.html


def test_layers_can_be_switched_off(db):
    only_flows = network.build(db, Filters(), network.MapChoice(layers=("flows",), min_referrals=1))
    assert '"dashes": true' not in only_flows.html and "MOU since" not in only_flows.html
    ties = network.build(db, Filters(), network.MapChoice(layers=("formal", "informal"), min_referrals=1))
    assert '"arrows": "to"' not in ties.html and "MOU since" in ties.html


def test_layout_is_server_side_seeded_and_drawn_without_physics(db, view):
    again = network.build(db, Filters(), network.MapChoice(min_referrals=1))
    xs = re.findall(r'"x": (-?[\d.]+)', view.html)
    assert xs and xs == re.findall(r'"x": (-?[\d.]+)', again.html)
    assert '"physics": {"enabled": false}' in view.html


def test_exports_read_back(view):
    g = nx.read_gexf(io.BytesIO(network.gexf(view)))
    assert g.number_of_nodes() == 5 and g.number_of_edges() == 8
    assert g.edges["A1", "A3"]["weight"] == 4 and g.nodes["A1"]["label"] == "Harbor House"
    h = nx.read_graphml(io.BytesIO(network.graphml(view)))
    assert h.nodes["A1"]["cut_point"] is True
    scores = pd.read_csv(io.BytesIO(network.scores_csv(view)), encoding="utf-8-sig")
    assert scores.iloc[0]["Agency"] == "Harbor House"  # the strongest broker first


def test_hostile_names_stay_inert_in_the_map(hostile_db, view):
    with Atlas(hostile_db) as db:
        html = network.build(db, Filters(), network.MapChoice(min_referrals=1, focus="A2")).html
    assert "</script><img" not in html and "<img src=x" not in html and 'href="javascript' not in html
    assert "\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e" in html  # data only inside JSON
    assert html.count("<script") == view.html.count("<script")  # no script element came from the data
    resources = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', html, flags=re.I)
    assert not [r for r in resources if not r.startswith(("data:", "#"))], resources
    assert "Content-Security-Policy" in html


def test_an_agency_never_connected_to_a_cut_point_is_not_cut_off_by_its_closure():
    agencies = pd.DataFrame({"agency_id": ["A", "B", "C", "D"], "name": ["Alder", "Birch", "Cedar", "Dogwood"]})
    flows = pd.DataFrame({"from_agency_id": ["A", "B", "C", "B"], "to_agency_id": ["B", "A", "B", "C"],
                          "referrals": [5, 5, 3, 3]})
    _, summary, cut_points = network.score(agencies, flows)
    assert summary["components"] == 2  # A-B-C, and Dogwood on its own
    assert cut_points[["agency", "cut_off", "agencies_cut_off"]].values.tolist() == [["Birch", 1, "Cedar"]]


def _cut_off_by_removal(u) -> dict[int, list[int]]:
    """What each cut point's closure cuts off, the slow and obvious way: take it out of its part of the network
    and keep the largest piece left (of two the same size, the one holding the lowest vertex)."""
    component, out = u.connected_components().membership, {}
    for i in u.articulation_points():
        members = [j for j in range(u.vcount()) if component[j] == component[i] and j != i]
        parts = sorted(u.induced_subgraph(members).connected_components(), key=len, reverse=True)
        out[i] = sorted(members[j] for part in parts[1:] for j in part)
    return out


def test_what_each_cut_point_cuts_off_is_what_taking_it_out_leaves_cut_off():
    """network.cut_off_by finds every cut point's cut-off agencies in one search; on 2,000 random networks
    (loops, isolated agencies, several parts, trees and dense ones) it finds what removing each one by one does."""
    import random

    import igraph as ig

    rng = random.Random(18)
    for _ in range(2_000):
        n = rng.randint(1, 30)
        u = ig.Graph(n=n, edges=[(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 2 * n))])
        u.simplify(loops=rng.random() < 0.5)
        found = {v: sorted(cut) for v, cut in network.cut_off_by(u.get_adjlist()).items()}
        assert found == _cut_off_by_removal(u), u.get_edgelist()


def test_scores_without_the_cut_off_lists_are_the_same_scores(db):
    """resilience.change scores two periods and never shows what a closure cuts off: it skips that
    table, and every score and network figure stays the same."""
    agencies = db.query("network_agencies")
    flows = db.query("network_edges")
    scored, summary, cut_points = network.score(agencies, flows)
    lean, lean_summary, none = network.score(agencies, flows, cut_off_lists=False)
    pd.testing.assert_frame_equal(scored, lean)
    assert summary == lean_summary and summary["cut_points"] > 0
    assert len(cut_points) == summary["cut_points"] and none.empty
    assert list(none.columns) == list(cut_points.columns)


def test_partnership_quality_as_checked_by_hand(small_db):
    """conftest's partnerships in the first quarter of 2024: A1-A3's protocol ended in 2023; A1-A2 carried R01
    and R13, A3-A1 (informal, from March) the three A1->A3 referrals, A1-A5 R05, A4-A2 none."""
    from atlas.views import ties

    with Atlas(small_db) as db:
        frame = db.query("partnership_quality", start="2024-01-01", end="2024-03-31")
        quality = ties.build(db, Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31)))
        board = ties.build(db, Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31)), min_cell=11)
        view = network.build(db, Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31)), network.MapChoice(min_referrals=1))
    rows = frame[["agency_a_id", "agency_b_id", "kind", "referrals_a_to_b", "referrals_b_to_a", "accepted_a_to_b",
                  "accepted_b_to_a"]].values.tolist()
    assert rows == [["A1", "A2", "formal", 1, 1, 1, 1], ["A1", "A5", "informal", 0, 1, 0, 1],
                    ["A3", "A1", "informal", 0, 3, 0, 1], ["A4", "A2", "formal", 0, 0, 0, 0]]
    assert frame["trust"].tolist()[:3] == [4, 4, 3] and pd.isna(frame["trust"].iloc[3])
    assert quality.scores == {"ties": 4, "rated_trust": 3, "mean_trust": pytest.approx(11 / 3),
                              "sd_trust": pytest.approx(np.std([4, 4, 3])), "rated_value": 2,
                              "mean_value": pytest.approx(3.5), "sd_value": pytest.approx(0.5)}
    assert quality.idle.empty and quality.strained.empty  # no tie rated 1-2; every rated tie carried referrals
    assert quality.ratings.set_index("Agency").loc["Harbor House", "Rated ties"] == 3
    assert "rated by partners: trust 4 of 4, value 4 of 4" in view.html
    assert board.scores == quality.scores


def test_low_trust_heavy_ties_and_small_counts_for_the_board():
    from atlas.views import ties

    frame = pd.DataFrame({"agency_a": ["A", "B", "C"], "agency_b": ["X", "Y", "Z"], "kind": ["formal"] * 3,
                          "instrument": ["mou"] * 3, "trust": [1, 2, 4], "value": [2, None, 4],
                          "referrals": [40, 3, 0]})
    assert ties.strained(frame)["Referrals (both ways)"].tolist() == [40, 3]
    board = ties.strained(frame, min_cell=11)  # no count beside the map's flows; no tie of a small flow
    assert board["Partnership"].tolist() == ["A — X"] and "Referrals (both ways)" not in board.columns
    assert ties.idle(frame)["Partnership"].tolist() == ["C — Z"]


def test_the_board_map_says_a_hidden_figure_is_hidden_and_leaves_out_agencies_with_nothing_drawn(small_db):
    """On the small community every flow is under 11 referrals: the board's map draws only declared ties, and an
    agency's referral figures read "hidden", never "in 0 · out 0"; agencies with neither a flow nor a tie drawn
    are left out of the map and counted."""
    with Atlas(small_db) as db:
        board = network.build(db, Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31)), network.MapChoice(),
                              min_cell=11)
        director = network.build(db, Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
                                 network.MapChoice(min_referrals=1, layers=("flows",)))
        heavy = network.build(db, Filters(dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
                              network.MapChoice(min_referrals=2, layers=("flows",)))
    assert "Referrals in 0" not in board.html and "out 0" not in board.html
    assert "Referrals: hidden (every flow it has is hidden)" in board.html
    assert board.not_drawn == 0  # every agency has a tie in force (A3's: the informal tie from 1 March)
    assert "Each mark is an agency" in board.html and "A line without an arrow is a declared tie" in board.html
    assert "Referrals in " in director.html and director.not_drawn == 0  # every agency has a flow
    assert heavy.not_drawn == len(heavy.agencies) - 2  # only A1 -> A3 carries two referrals or more
    assert '"id": "A2"' not in heavy.html and '"id": "A3"' in heavy.html


def test_the_summary_view_adds_up_to_the_agency_map_and_draws_the_same_picture(demo_db):
    period = Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    with Atlas(demo_db) as db:
        for min_cell in (None, 11):
            agency_map = network.build(db, period, network.MapChoice(min_referrals=min_cell or 1), min_cell=min_cell)
            every = network.build(db, period, network.MapChoice(min_referrals=1)).flows["referrals"].sum()
            for by in ("region", "sector"):
                view = network.summary_view(db, period, by=by, min_cell=min_cell)
                # the directors' summary adds up their map; the board's is computed from every referral (issue 30)
                added = every if min_cell else agency_map.flows["referrals"].sum()
                assert view.nodes["within"].sum() + view.between["referrals"].sum() == added
                assert view.html == network.summary_view(db, period, by=by, min_cell=min_cell).html  # seeded, stable
                assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", view.html)  # self-contained
            # a figure the small-cell rule hides reads "hidden", never 0: with min_cell above every flow,
            # each region that did refer reads "hidden" and none reads 0
            none_drawn = network.summary_view(db, period, by="region", min_cell=10 ** 9)
            assert {g for g, _ in none_drawn.hidden} == set(none_drawn.nodes["group"])
            assert not none_drawn.drawing.edges and not re.search(r"\d referrals from", none_drawn.html)
            assert set(none_drawn.table["Referrals"]) == {network.HIDDEN}
            assert "0" not in set(none_drawn.table["Within the region"])
            assert network.summary_view(db, period, by="region").hidden == ()
        one = network.build(db, period, network.MapChoice(min_referrals=1, group=("region", "Riverside")))
    assert set(one.agencies["region"]) == {"Riverside"}
    assert set(one.flows["from_agency_id"]) | set(one.flows["to_agency_id"]) <= set(one.agencies["agency_id"])


def test_the_board_opens_on_the_summary_and_can_open_one_region(demo_db, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ATLAS_DB", str(demo_db))
    monkeypatch.setenv("ATLAS_LOCAL_ROLE", "board")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=120)
    at.switch_page("pages/network.py")
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("bidi_component")) == 1  # the summary; the agency map waits until a region is opened
    assert any("Open the agency map" in i.value for i in at.info)
    region = next(s for s in at.selectbox if s.key == "map_group_region")
    region.set_value(region.options[1]).run()
    assert not at.exception, at.exception
    assert len(at.get("bidi_component")) == 2


def test_map_labels_never_overlap_each_other_or_a_dot(demo_db):
    """The names written on the map at the default zoom: none overlaps another or a dot (measured on the
    label boxes vis-network draws), and the largest agencies are among them."""
    with Atlas(demo_db) as db:
        view = network.build(db, Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), network.MapChoice(min_referrals=5))
    flows = view.flows.nlargest(150, "referrals")  # what the map draws of the flows, without declared ties
    no_ties = pd.DataFrame(columns=["agency_a_id", "agency_b_id", "kind", "status", "referrals"])
    agencies = network.drawn_agencies(view.agencies, flows, no_ties, network.MapChoice(layers=("flows",)))
    xy = network.positions(agencies, flows, no_ties)
    sizes = network._sizes(agencies, "volume")
    font = round(network._spread(len(agencies)) / 40)
    chosen = network.readable_labels(agencies, xy, sizes, font)
    index = {a: i for i, a in enumerate(agencies["agency_id"])}
    boxes = [network.label_box(agencies["name"].iat[index[a]], *xy[index[a]], sizes[index[a]], font) for a in chosen]
    overlaps = sum(network._overlap(a, b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
    assert 5 <= len(chosen) <= network.LABELLED_NODES and overlaps == 0
    assert agencies["agency_id"].iat[int(np.argmax(sizes))] in chosen  # the largest dot is named
    # in the HTML, exactly these are written; every other name is a hover title only
    labelled = re.findall(r'"label": "([^" ][^"]*)"', view.html)
    assert 0 < len(labelled) <= network.LABELLED_NODES


# --------------------------------------------------------------------------------------------
# The map as a table: what the map draws, reachable without its canvas
# --------------------------------------------------------------------------------------------

def map_data(source: str) -> dict:
    """What a map hands network_map.js to draw: the page's map component's JSON, or the map document's `tojson`
    data, as the browser reads them."""
    import json

    if source.startswith("{"):
        return json.loads(source)
    return json.loads(re.search(r"const data = (.*?);\n", source, re.S).group(1))


def drawn(source: str) -> tuple[list[dict], list[dict]]:
    """The nodes and edges a map (its component's JSON or its document) hands to vis-network."""
    data = map_data(source)
    return data["nodes"], data["edges"]


def map_rows(html: str) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The agencies, flows and declared ties of an agency map, read from its tooltips (what a sighted person hovers):
    (name, sector · region, referrals in, out, partners in, out), (from, to, referrals, [accepted,] declared tie),
    (agency a, agency b, kind, instrument, since, referrals, trust, value)."""
    nodes, edges = drawn(html)
    agencies, names = [], {}
    for node in nodes:
        if node["id"].startswith("region:"):  # a region's caption, not an agency
            continue
        lines = node["title"].split("\n")
        names[node["id"]] = lines[0]
        volume = re.search(r"in ([\d,]+) · out ([\d,]+)", lines[2])
        partners = re.fullmatch(r"Partners: referred in by (\d+), refers out to (\d+)", lines[3])
        agencies.append((lines[0], lines[1], *(volume.groups() if volume else (network.HIDDEN, network.HIDDEN)),
                         *partners.groups()))
        assert volume or lines[2].startswith("Referrals: hidden"), lines[2]
    flows, ties, surveyed = [], [], []
    for edge in edges:
        a, b = names[edge["from"]], names[edge["to"]]
        if edge["arrows"] == "to":
            m = re.fullmatch(r"([\d,]+) referrals(?: \(([\d,]+) accepted\))? — (.*)", edge["title"])
            flows.append((a, b, m.group(1), *([m.group(2)] if m.group(2) else []), m.group(3)))
        elif edge["title"].startswith("Informal (survey"):
            surveyed.append((a, b, survey_tie(edge["title"])))
        else:
            m = re.fullmatch(r"(Formal agreement|Informal tie): (.*) since (.*) — (no referrals in the period|referrals in "
                             r"the period|[\d,]+ referrals)(?: · rated by partners: (.*))?", edge["title"])
            carried = {"no referrals in the period": "0", "referrals in the period": network.HIDDEN}.get(
                m.group(4), m.group(4).removesuffix(" referrals"))
            rated = dict(re.findall(r"(trust|value) (\d of 4)", m.group(5) or ""))
            ties.append((a, b, m.group(1), m.group(2), m.group(3), carried, rated.get("trust", "—"),
                         rated.get("value", "—")))
    # the survey's ties (issue 32) share the table: kind "Informal (survey)", no instrument, date or referral count;
    # in director views with who named each, its level and frequency, columns the declared ties leave empty
    rated = any(extra for *_, extra in surveyed)
    ties = [(*t, *(("—",) * 3 if rated else ())) for t in ties]
    for a, b, extra in surveyed:
        trust, value, *more = extra or ("—", "—")
        ties.append((a, b, "Informal (survey)", "", "—", "—", trust, value, *more))
    return sorted(agencies), sorted(flows), sorted(ties)


def survey_tie(title: str) -> tuple | None:
    """A survey tie's tooltip in a director view: (trust, value, named by, level, frequency); None without ratings."""
    m = re.search(r"named by (both|one side) · level ([\d.]+ of 5) \(\w+\) · frequency ([\d.]+ of 5)"
                  r"(?: · trust ([\d.]+ of 4))?(?: · value ([\d.]+ of 4))?$", title)
    if m is None:
        assert re.fullmatch(r"Informal \(survey\): named in .*", title), title
        return None
    return m.group(4) or "—", m.group(5) or "—", m.group(1), m.group(2), m.group(3)


def table_rows(agencies: pd.DataFrame, flows: pd.DataFrame, ties: pd.DataFrame) -> tuple[list, list, list]:
    """The same, read from the three tables of "The map as a table"."""
    people = [(r[0], f"{r[1]} · {r[2]}", *r[3:]) for r in agencies.itertuples(index=False, name=None)]
    arrows = [(*r[:-1], r[-1].lower()) for r in flows.itertuples(index=False, name=None)]
    return sorted(people), sorted(arrows), sorted(ties.itertuples(index=False, name=None))


def victim_service_names(db, filters) -> set[str]:
    found = db.query("network_agencies", **filters.params_for("network_agencies"))
    return set(found.loc[found["is_victim_service"], "name"].astype(str))


def test_the_map_as_a_table_holds_exactly_what_the_map_draws_for_directors_and_the_board(demo_db):
    """Every agency, arrow and declared tie the map draws, and nothing else, is a row of the tables under it, with
    the figures its tooltip gives: for the directors with every count, for the board with its protections (flows
    of at least 11, "hidden" where every flow behind a figure is smaller, no tie's referral count, no victim-service
    agency), on the whole network and on the agency map of one region."""
    period = Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    with Atlas(demo_db) as db:
        protected = victim_service_names(db, period)
        views = {(min_cell, group): network.build(db, period, replace(network.default_choice(min_cell), group=group),
                                                  min_cell=min_cell)
                 for min_cell in (None, 11) for group in (None, ("region", "Riverside"))}
    assert protected
    for (min_cell, group), view in views.items():
        tables = (view.map_agencies, view.map_flows, view.map_ties)
        agencies, flows, ties = map_rows(view.html)
        assert table_rows(*tables) == (agencies, flows, ties), (min_cell, group)
        assert len(agencies) == len(view.layout.agencies) and len(flows) == view.flows_drawn and ties
        assert ("Accepted" in view.map_flows) == (min_cell is None)
        text = " ".join(t.to_string() for t in tables)
        assert not [name for name in protected if name in text]
        if min_cell is None:
            assert network.HIDDEN not in text
            continue
        assert all(int(n.replace(",", "")) >= min_cell for n in view.map_flows["Referrals"])
        declared = view.map_ties[view.map_ties["Kind"] != "Informal (survey)"]  # a survey tie counts no referral
        assert set(declared["Referrals in the period"]) <= {network.HIDDEN, "0"}
        if group is None:  # agencies drawn for a declared tie whose every flow is small: hidden, never 0
            hidden = view.map_agencies[view.map_agencies["Referrals in"] == network.HIDDEN]
            assert len(hidden) and (hidden["Referrals out"] == network.HIDDEN).all()
            assert not view.agencies.set_index("name").loc[hidden["Agency"], ["in_strength", "out_strength"]].any().any()


def test_the_summary_map_as_a_table_holds_its_regions_and_the_arrows_between_them(demo_db):
    period = Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    with Atlas(demo_db) as db:
        for min_cell in (None, 11, 10 ** 9):
            for by in ("region", "sector"):
                view = network.summary_view(db, period, by=by, min_cell=min_cell)
                nodes, edges = drawn(view.html)
                kind = network.SUMMARY_BY[by]
                names = {n["id"]: n["title"].split("\n")[0].removesuffix(f" ({kind.lower()})") for n in nodes}
                assert list(view.table[kind]) == [names[g] for g in view.nodes["group"]]
                arrows = sorted((names[e["from"]], names[e["to"]], re.match(r"([\d,]+) referrals", e["title"]).group(1))
                                for e in edges)
                # the table lists every pair; one the board's set hides reads "hidden" and has no arrow (issue 30)
                table = list(view.flows_table.itertuples(index=False, name=None))
                assert sorted(r for r in table if r[2] != network.HIDDEN) == arrows
                for node, row in zip(nodes, view.table.itertuples(index=False)):  # tooltips read as the table
                    assert f"within the {kind.lower()}: {row[2]}\n" in node["title"]
                    assert node["title"].endswith(f"To other {kind.lower()}s: {row[3]} · from other {kind.lower()}s: "
                                                  f"{row[4]}")
        assert set(view.flows_table["Referrals"]) == {network.HIDDEN} and set(view.table["Referrals"]) == {network.HIDDEN}


def test_the_network_page_draws_the_map_as_a_table_under_each_map(demo_db, monkeypatch):
    """In a real Streamlit run, the tables of "The map as a table" under each map are the rows of that map's own
    frame (its nodes and edges), for the director (the agency map) and the board (the summary by region, then the
    agency map of one region); every table on the page has its first column pinned."""
    import json

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ATLAS_DB", str(demo_db))
    for role in ("director", "board"):
        monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=120)
        at.switch_page("pages/network.py")
        at.run()
        assert not at.exception, at.exception
        # the map's tables are built only while their expander is open
        assert not [e for e in at.expander if e.label.startswith("The map as a table") and e.dataframe], role
        at.session_state["map_table"] = at.session_state["map_summary_table_region"] = True
        at.run()
        assert not at.exception, at.exception
        if role == "board":
            summary = next(e for e in at.expander if e.label.startswith("The map as a table: each region"))
            regions, between = (d.value for d in summary.dataframe)
            nodes, edges = drawn(at.get("bidi_component")[0].proto.json)
            assert list(regions["Region"]) == [n["id"] for n in nodes]
            assert len(between[between["Referrals"] != network.HIDDEN]) == len(edges)  # hidden pairs: no arrow
            for cell in regions.drop(columns=["Region", "Agencies"]).to_numpy().ravel().astype(str):
                assert cell == network.HIDDEN or not 0 < int(cell.replace(",", "")) < 11, cell
            region = next(s for s in at.selectbox if s.key == "map_group_region")
            region.set_value(region.options[1]).run()
            assert not at.exception, at.exception
        tables = next(e for e in at.expander if e.label.startswith("The map as a table: its agencies"))
        frames = [d.value for d in tables.dataframe]
        assert len(frames) == 3
        assert table_rows(*frames) == map_rows(at.get("bidi_component")[-1].proto.json), role
        for frame in at.dataframe:
            config = json.loads(frame.proto.columns or "{}")
            shown = [c for c in frame.value.columns if not config.get(c, {}).get("hidden")]
            assert config.get(shown[0], {}).get("pinned") is True, (role, list(frame.value.columns), config)

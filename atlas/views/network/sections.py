"""The Network map page's sections below the map and the sentences the page writes around its maps and
figures: the words that depend on the view (how many flows are drawn, what is hidden and why) are made
here, so that the page only lays them out. Presenting layer, free of Streamlit."""

from __future__ import annotations

from dataclasses import dataclass

from atlas import escape, formats
from atlas.views.network.scores import FormalVersusReal
from atlas.views.suppression import small_numbers_note


@dataclass(frozen=True)
class Section:
    """A section of the page below the map (app.sections: each drawn only when opened)."""

    title: str
    directors_only: bool = False  # worked out referral by referral: not in the board's and funders' views


FORMAL_REAL, QUALITY, SCORES = "Formal versus real", "Partnership quality", "Network scores"
CLOSURE, CHANGE = "If an agency closed", "Change since the previous period"
PAGE_SECTIONS = (Section(FORMAL_REAL), Section(QUALITY), Section(SCORES), Section(CLOSURE, directors_only=True),
                 Section(CHANGE, directors_only=True))
SECTIONS = [s.title for s in PAGE_SECTIONS if not s.directors_only]
DIRECTOR_SECTIONS = [s.title for s in PAGE_SECTIONS if s.directors_only]


def section_titles(restricted: bool) -> list[str]:
    """The sections a viewer gets, in order (board and funder views: no director section)."""
    return [s.title for s in PAGE_SECTIONS if not (restricted and s.directors_only)]


def summary_caption(kind: str, min_cell: int | None, view=None) -> str:
    """Under the summary map: what its figures count and (board views) exactly what is hidden in it."""
    text = f"Referrals between and within each {kind}'s agencies, from every referral of the period"
    if min_cell is None or view is None:
        return text + "."
    pairs = view.between
    note = small_numbers_note(int((~pairs["shown"]).sum()), len(pairs), f"{kind} pairs", min_cell, "referrals")
    groups = small_numbers_note(len(view.hidden), len(view.nodes), f"{kind}s", min_cell, "referrals")
    return (f"{text}; a pair that may not be shown has no arrow and reads \"hidden\" in the table. {note}"
            + (f" {groups}" if view.hidden else ""))


def focus_caption(name: str, steps: int) -> str:
    """Beside the focus picker, while the map is focused (the name Markdown-escaped by the caller)."""
    return (f"The map is focused on **{name}**: it and its partners "
            f"{'' if steps == 1 else 'and their partners '}are in colour, the rest greyed.")


def drawn_caption(view, min_cell: int | None) -> str:
    """Under the agency map: what it draws, what it leaves out and why."""
    return (f"{view.flows_drawn:,} of {view.flows_total:,} flows drawn (the strongest); hover an agency or a line "
            "for its figures, scroll to zoom, drag to pan. "
            + (f"{view.hidden_referrals:,} referrals to or from victim-service agencies are counted in the totals "
               "but never drawn. " if view.hidden_referrals else "")
            + ("" if min_cell is None else "Victim-service agencies are never drawn. "
               + (small_numbers_note(*view.hidden_flows, "agency pairs", min_cell, "referrals") + " Hidden flows "
                  "are left out of the map, its figures and its exports. " if view.hidden_flows else ""))
            + (f"{view.not_drawn:,} agencies with no flow or tie on the map are left out of it (they are in the "
               "scores table below). " if view.not_drawn else "")
            + survey_caption(getattr(view, "survey_round", None), min_cell)).strip()


def survey_caption(survey_round: dict | None, min_cell: int | None) -> str:
    """What the informal (survey) layer draws: the ties of the latest closed round whose period overlaps this one
    (Markdown: the round's name, a director's text, escaped)."""
    if survey_round is None:  # the layer is not offered then (survey.offered_layers): nothing to say
        return ""
    return (f"The informal (survey) lines are the ties members named in the partnership survey "
            f"“{escape.markdown(survey_round.get('name') or survey_round.get('round_id'))}” "
            f"({formats.span(survey_round.get('period_start'), survey_round.get('period_end'))})"
            + (", drawn without any tie's ratings." if min_cell is not None else
               "; hover one for who named it, its level, frequency, trust and value.")
            + " Victim-service agencies' ties are never drawn.")


def region_formal_caption(view, min_cell: int | None) -> str:
    """Over formal versus real by pair of regions: what it counts and (board views) what is hidden in it."""
    text = ("Referrals from one region's agencies to another's, from every referral of the period, split by whether "
            "a formal agreement was in force between the two agencies.")
    pairs = view.region_pairs
    if min_cell is None or pairs is None or not len(pairs):
        return text
    hidden = int((~(pairs["shown"] & pairs["formal_shown"] & pairs["without_shown"])).sum())
    return f"{text} {small_numbers_note(hidden, len(pairs), 'region pairs', min_cell, 'referrals')}"


def map_table_caption(min_cell: int | None) -> str:
    return ("What the map draws, as its tooltips say it"
            + ("" if min_cell is None else ": referrals count the flows shown, and read \"hidden\" where every "
                                           "flow behind them is hidden") + ".")


def formal_real_figures(real: FormalVersusReal) -> list[tuple[str, str, str]]:
    """The section's figures: (label, value, what it counts)."""
    return [
        ("Flows without an agreement", formats.count(real.unagreed_flows),
         "Referral flows, one agency to another, with no formal agreement in force between the two: an informal "
         "tie or no declared tie."),
        ("Referrals, no agreement", formats.percent(real.unagreed_share),
         f"{real.unagreed_referrals:,} of the {real.referrals:,} referrals of the flows scored run with no formal "
         "agreement behind them."),
        ("Dormant agreements", f"{real.dormant:,} of {real.ties:,}",
         "Declared partnerships, formal or informal, in force in the period that carried no referral either way."),
        ("One-way pairs", formats.count(real.one_way),
         f"Pairs where at least {real.one_way_min:,} referrals went one way and none came back."),
    ]


def informal_caption(listed: int, unagreed: int) -> str:
    return "The heaviest are candidates for an MOU." + (
        f" The first {listed:,} of {unagreed:,} are listed here." if listed < unagreed else "")


SURVEY_FIGURES = ("invited", "responded", "response_rate", "reciprocity", "density")  # beside the ratings'


def quality_figures(q: dict, survey: dict | None = None) -> list[tuple[str, str, str | None]]:
    """Partnership quality's figures: (label, value, what it counts); with the `survey` round the ratings come from
    (ties.Quality.survey), its round-level figures after them."""
    out = [("Ties rated", f"{q['rated_trust']:,} of {q['ties']:,}",
            "Declared partnerships in force in the period with a trust rating (victim-service ties aside)."
            if not q.get("round") else f"Ties members named in the partnership survey “{q['round']}” (the latest "
            "closed round whose period overlaps this one), rated in full on trust (victim-service ties aside).")]
    for name in ("trust", "value"):
        out.append((f"Mean {name}", "—" if q[f"mean_{name}"] is None else f"{q[f'mean_{name}']:.1f} of 4",
                    None if q[f"sd_{name}"] is None else
                    f"Spread (standard deviation) {q[f'sd_{name}']:.2f} over {q[f'rated_{name}']:,} rated ties."))
    if survey is not None:
        from atlas.views.survey.tables import summary_figures  # here, not at the top: the survey's part stays apart

        out += summary_figures(survey["summary"], SURVEY_FIGURES)
    return out


QUALITY_WORDS = ("How partners rate their ties in partner surveys (trust and value, 1 to 4, in the manner of the "
                 "PARTNER tool), beside the referrals the ties really carry. On the map, a tie rated 1 or 2 in trust "
                 "is dotted.")


def strained_caption(min_cell: int | None) -> str:
    return ("Ties rated 1 or 2 in trust that carry referrals, heaviest first: work done in spite of the relationship."
            + ("" if min_cell is None else " Only ties carrying a flow the board's figures show are listed, with "
                                           "that figure each way (\"hidden\" where the set hides it)."))


def scores_words(exact_betweenness: bool) -> str:
    """What the scores table's columns mean."""
    return (
        "Per agency: **referred in by / refers out to** count partner agencies; **referrals in / out** count referrals; "
        "**brokerage** (betweenness) is the share of shortest referral paths between other agencies that pass through "
        "it — high brokers connect parts of the network that would otherwise be far apart"
        + ("" if exact_betweenness else " (estimated from paths of up to three steps in a network this large)")
        + "; **community** groups agencies that refer mostly among themselves; a **cut point** is an agency whose "
        "closure would cut others off.")


RESTRICTED_SCORES = ("Which referrals an agency's closure would leave without a destination, who could absorb them, "
                     "and how ties changed since the period before are worked out referral by referral: they are on "
                     "the directors' view of this page. The cut points above use only the flows drawn on this map.")
CLOSURE_WORDS = ("Judged over the whole network in the period and service type: a region or sector filter does not "
                 "narrow it. An agency is a referrer's **usual destination** for a service when it receives at least "
                 "half of that referrer's referrals of the service. **Shared referrers** are the closing agency's "
                 "referrers that already send the same service to the other agency. An agency is **cut off** when "
                 "all its referrals in the period, either way, were with the closing agency.")
CLOSURE_SHARES = ["Acceptance rate", "Share of all such referrals", "Share sent here"]  # columns written as shares


def pack_words(period: str) -> str:
    """Beside the board pack's downloads (the period Markdown-escaped by the caller)."""
    return (f"For a board meeting: the summary and agency maps as pictures, the network scores against the period "
            f"before, formal versus real and partnership quality, with a plain-language first page — for "
            f"**{period}**, the whole network, with the board's protections "
            f"(small flows hidden, victim-service agencies never named). Preparing it takes a few seconds.")

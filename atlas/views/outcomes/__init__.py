"""The Funders' Outcomes page (and the funder pack): what the network achieves for people, with every
small number protected.

`build(db, filters, funder, min_cell)` reads the named queries and returns an `Outcomes` view: rate
tables with 95 % Wilson intervals by program, agency, service type and funder, the network rate,
a quarterly trend, the outcome mix, returns to homelessness after a housing exit and outcomes by
referring agency, each already passed through `atlas.views.suppression`, with plain notes of what was
hidden and why; its charts are drawn from that data on first use. It is pure (no Streamlit); `db` is
anything with `.query(name, **params)`. One package in three layers:

* loading, `view`: `build`, the `Outcomes` view and `network_total` (the Overview's figure);
* computing, `rates`: program rows, rate tables, the protected mix, trend, returns and pathways;
* presenting, `plots` (plotly figures), `tables` (readable tables, the pack's CSV) and `words` (notes and
  findings).

Every name the pages, the packs, the CLI and the tests use is here, as `outcomes.X`.

How the page keeps hidden counts hidden, whatever the filters:

* A program (an agency's exits for one program, or recorded against the agency only) is shown or
  hidden on its own counts in the period (primary rule), which no region, sector, service-type or
  funder choice changes. Every figure that adds programs up (agency, service type, funder, the
  selection's total, the network rate, the trend, the mix, returns, pathways) adds up **shown
  programs only**. So the difference between any two totals, on one view or across two filter
  choices, is a sum of programs that are shown anyway: a hidden program is never the remainder.
* The outcome mix is protected inside each shown program first (outcome counts of 1 to m-1 hidden,
  with complements so that the program's hidden positive and hidden other outcomes each add up to 0
  or at least m); groups add up the shown counts and show the rest as "outcome not shown".
* The trend and pathways break figures down by time and by referrer. They are built for the whole
  network of the period (they ignore the region, service-type and sector filters, so two filter
  choices cannot be differenced), with complementary suppression inside each table; the trend's
  funder rows are protected together with the network's. Returns to homelessness are network-wide
  too, and each horizon has its own fixed window of housing exits, whatever the period.
* Victim-service agencies are left out (the queries drop them whenever min_cell > 0), and as
  referrers they are pooled and never named.

What suppression cannot stop: two overlapping periods (say the last 12 and the last 6 months)
differ by the exits in between, which can be few. See docs/metrics.md, "Small numbers".
"""

from atlas.views.outcomes.plots import (
    COLORS_BAND,
    COLOURS,
    DOT_ROWS,
    FIGURES,
    OUTCOME_COLOURS,
    comparison_chart,
    mix_chart,
    returns_chart,
    trend_chart,
)
from atlas.views.outcomes.rates import (
    DIMENSIONS,
    HORIZONS,
    MIX_PROGRAMS,
    NETWORK,
    NO_FUNDER,
    NO_PROGRAM,
    NO_REFERRAL,
    OUTCOME_LABELS,
    OUTCOME_ORDER,
    VICTIM_REFERRERS,
    Suppressed,
    aggregate,
    mix_table,
    pathways_table,
    program_rows,
    protect_mix,
    returns_table,
    shown_only,
    total,
    trend_pattern,
    trend_table,
)
from atlas.views.outcomes.tables import (
    FIRST_COLUMNS,
    PERCENT_COLUMNS,
    SHOWN_COLUMNS,
    aggregate_tables,
    display,
    long_table,
)
from atlas.views.outcomes.view import SECTIONS, Outcomes, build, network_total, rate_tables
from atlas.views.outcomes.words import day, interval, notes, pct, reading

__all__ = [
    "COLORS_BAND", "COLOURS", "DIMENSIONS", "DOT_ROWS", "FIGURES", "FIRST_COLUMNS", "HORIZONS", "MIX_PROGRAMS",
    "NETWORK", "NO_FUNDER", "NO_PROGRAM", "NO_REFERRAL", "OUTCOME_COLOURS", "OUTCOME_LABELS", "OUTCOME_ORDER",
    "PERCENT_COLUMNS", "SECTIONS", "SHOWN_COLUMNS", "VICTIM_REFERRERS", "Outcomes", "Suppressed", "aggregate",
    "aggregate_tables", "build", "comparison_chart", "day", "display", "interval", "long_table", "mix_chart",
    "mix_table", "network_total", "notes", "pathways_table", "pct", "program_rows", "protect_mix", "rate_tables",
    "reading", "returns_chart", "returns_table", "shown_only", "total", "trend_chart", "trend_pattern",
    "trend_table",
]

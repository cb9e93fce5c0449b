"""One way of writing things (atlas/formats.py): dates, percentages, counts and codes read the same on every page,
table, tooltip, export and pack."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from atlas import formats
from atlas.db import Atlas
from atlas.filters import Filters
from atlas.packs import board
from atlas.views import network

ROOT = Path(__file__).resolve().parent.parent


def test_the_formats():
    assert formats.date(dt.date(2025, 1, 1)) == "1 Jan 2025"
    assert formats.date(pd.Timestamp("2024-03-31 17:00")) == "31 Mar 2024"
    assert formats.month(dt.date(2025, 10, 1)) == "Oct 2025"
    assert formats.moment(dt.datetime(2025, 3, 4, 14, 5)) == "4 Mar 2025, 14:05"
    assert formats.moment(dt.datetime(2025, 3, 4)) == "4 Mar 2025"
    assert formats.span(dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == "1 Jan 2025 to 31 Dec 2025"
    assert formats.span(None, dt.date(2025, 12, 31)) == "… to 31 Dec 2025"
    assert [formats.percent(v) for v in (0.5027, 1, 0, 0.0004, 1.5)] == ["50.3%", "100.0%", "0.0%", "0.0%", "150.0%"]
    assert formats.percent_range(0.412, 0.588) == "41.2%–58.8%" and formats.percent_range(None, 0.5) == ""
    assert (formats.points(0.004), formats.points(-0.0333)) == ("+0.4 pts", "-3.3 pts")
    assert (formats.count(1234567), formats.change(-1234), formats.change(56)) == ("1,234,567", "-1,234", "+56")
    assert formats.words("mental_health") == "Mental health"
    for missing in (None, float("nan"), pd.NA, pd.NaT):
        assert formats.percent(missing) == formats.count(missing) == formats.date(missing) == "—"
    frame = pd.DataFrame({"Share": [0.5027, None], "Clients": [1234, 5]})
    shown = formats.styled(frame, ["Share"], ["Clients"]).to_html()
    assert "50.3%" in shown and "1,234" in shown and "—" in shown
    assert formats.as_percent(frame, ["Share", "absent"])["Share"].iloc[0] == pytest.approx(50.27)


def test_a_period_reads_the_same_everywhere():
    period = Filters(dt.date(2025, 1, 1), dt.date(2025, 12, 31), service_type="mental_health")
    assert period.describe() == "1 Jan 2025 to 31 Dec 2025; service Mental health"


def test_no_module_writes_a_figure_its_own_way():
    """Percentages are written by atlas.formats (or plotly's hover with its d3 format), not by hand: no f-string
    `:.0%` or `:.2%` figure in the code that draws pages, tooltips and packs, and no Streamlit "percent" preset
    (which writes up to two decimals)."""
    offenders = []
    for path in [*ROOT.glob("atlas/*.py"), *ROOT.glob("atlas/packs/*.py"), *ROOT.glob("pages/*.py")]:
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(r"(?<!%)\{[^{}]*:[+,]?\.[02]%\}|\"\{:\.\d%\}\"|format=\"percent\"", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
            if re.search(r"%\{[^{}]*:\.[02]%\}", line):  # hover labels: one decimal, as formats.PERCENT_D3
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_boards_scores_read_the_same_on_the_page_and_in_the_pack(demo_db):
    """The Network map page writes its density and reciprocity with formats.percent; the board pack's scores and
    its HTML carry the same texts for the same period."""
    with Atlas(demo_db) as db:
        extent = db.query("data_extent").iloc[0]
        first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
        period = board.board_period(first, last, "quarter")
        pack = board.build(db, period, min_cell=11)
        screen = network.build(db, period, network.MapChoice(min_referrals=11), min_cell=11)
    scores = pack.scores.set_index("Measure")["This period"]
    page_text = (ROOT / "pages" / "network.py").read_text(encoding="utf-8")
    assert 'formats.percent(s["density"])' in page_text and 'formats.percent(s["reciprocity"])' in page_text
    assert scores["Density"] == formats.percent(screen.summary["density"])
    assert scores["Reciprocity"] == formats.percent(screen.summary["reciprocity"])
    assert scores["Referrals in the flows shown"] == formats.count(screen.summary["referrals"])
    html = board.html(pack, images={})
    assert formats.percent(screen.summary["density"]) in html
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}", html), "the pack's dates are written as formats.date writes them"
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", html), "no ISO dates in the pack"

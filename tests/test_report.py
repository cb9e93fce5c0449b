"""The funder pack (atlas/packs/funder.py, `python -m atlas report`): self-contained HTML with escaped names,
a PDF that renders (page 1 through pdftoppm), a CSV with formula cells neutralised, and the same
figures as the Outcomes view it is made from."""

from __future__ import annotations

import base64
import io
import re
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import HOSTILE_NAME, SMALL_COMMUNITY, TEST_KEY, write_files

from atlas.cli import main
from atlas.db import Atlas
from atlas.filters import Filters, period_bounds
from atlas.ingest import importer
from atlas.packs import funder as report
from atlas.views import outcomes

M = 11
HOSTILE_FUNDER = '=HYPERLINK("http://evil.example/x","click") <b>bold</b>'


@pytest.fixture(scope="module")
def hostile_pack_db(tmp_path_factory):
    """The small community with hostile text as a shown agency's name and as a funder."""
    files = dict(SMALL_COMMUNITY)
    quoted = '"' + HOSTILE_NAME.replace('"', '""') + '"'
    files["agencies.csv"] = files["agencies.csv"].replace("Harbor House", quoted)
    funder = '"' + HOSTILE_FUNDER.replace('"', '""') + '"'
    files["programs.csv"] = files["programs.csv"].replace("P1,A1,Family Shelter,shelter,City Fund",
                                                          f"P1,A1,Family Shelter,shelter,{funder}")
    root = tmp_path_factory.mktemp("hostile_pack")
    path = root / "atlas.duckdb"
    importer.import_folder(write_files(root / "files", files), path, TEST_KEY)
    return path


@pytest.fixture(scope="module")
def hostile_view(hostile_pack_db):
    with Atlas(hostile_pack_db) as db:
        return outcomes.build(db, Filters(), min_cell=M)


def external_references(text: str) -> list[str]:
    """Anything a browser would fetch from elsewhere."""
    return re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//)|url\(\s*["']?\s*(?:https?:|//)|@import""", text,
                      flags=re.IGNORECASE)


def test_html_is_self_contained_and_escapes_data_text(hostile_view):
    assert hostile_view.selection["exits"] == 33  # the hostile agency's program is shown
    text = report.html(hostile_view, images={})
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in text
    assert "<script" not in text.lower()
    assert not external_references(text)
    assert HOSTILE_NAME not in text and "<b>bold</b>" not in text
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    for section in ("Summary", "Definitions", "How small numbers are protected", "Data as of 31 Mar 2024"):
        assert section in text


def test_csv_neutralises_formulas_and_holds_every_table(hostile_view):
    frame = pd.read_csv(io.BytesIO(report.csv(hostile_view)), encoding="utf-8-sig", keep_default_na=False)
    groups = set(frame["group"])
    assert "'" + HOSTILE_FUNDER in groups and HOSTILE_FUNDER not in groups
    assert {"by_service_type", "by_funder", "by_agency", "by_program", "network", "trend", "mix_service_type",
            "pathways"} <= set(frame["table"])
    network = frame[frame["table"] == "network"].iloc[0]
    assert (int(network["exits"]), int(network["positive"])) == (33, 22)
    counts = pd.to_numeric(frame["exits"], errors="coerce").dropna()
    assert not ((counts >= 1) & (counts < M)).any()
    for count in ("programs", "exits", "positive"):  # whole numbers, as written: not "26.0"
        assert not frame[count].astype(str).str.contains(r"\.").any(), frame[count].tolist()


def test_pack_pdf_renders_and_matches_the_html(small_db, tmp_path):
    with Atlas(small_db) as db:
        view = outcomes.build(db, Filters(), min_cell=M)
    names = report.write(view, tmp_path / "pack.pdf")
    assert {k: p.name for k, p in names.items()} == {"html": "pack.html", "pdf": "pack.pdf", "csv": "pack.csv"}
    text = names["html"].read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == len(report.pack_figures(view)) >= 4
    for image in images:
        svg = base64.b64decode(image).decode("utf-8")
        assert svg.lstrip().startswith("<svg") and not external_references(svg)
    assert not external_references(text)

    pdf = names["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(names["pdf"]), str(tmp_path / "page")],
                   check=True)
    page = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(page) as image:
        width, height = image.size
        assert height > width > 400  # A4, portrait
        grey = image.convert("L")
        ink = int((np.asarray(grey) < 200).sum())
    assert ink > 2000, "page 1 has the title, the summary figures and the note on small numbers"
    info = subprocess.run(["pdfinfo", str(names["pdf"])], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 3


def test_cli_report_writes_the_pack_of_the_last_12_months(demo_db, tmp_path, capsys):
    assert main(["report", "--db", str(demo_db), "--out", str(tmp_path / "pack")]) == 0
    printed = capsys.readouterr().out
    assert "Funder pack for the whole network" in printed
    for suffix in ("html", "pdf", "csv"):
        assert (tmp_path / f"pack.{suffix}").stat().st_size > 1000
    with Atlas(demo_db) as db:
        extent = db.query("data_extent").iloc[0]
        first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
        view = outcomes.build(db, Filters(*period_bounds("Last 12 months", first, last)), min_cell=M)
    frame = pd.read_csv(tmp_path / "pack.csv", encoding="utf-8-sig")
    network = frame[frame["table"] == "network"].iloc[0]
    assert (network["exits"], network["positive"]) == (view.network["exits"], view.network["positive"])
    services = frame[frame["table"] == "by_service_type"].set_index("group")["exits"].to_dict()
    assert services == view.by["service_type"].set_index("group")["exits"].to_dict()
    assert f"{view.network['exits']:,}" in (tmp_path / "pack.html").read_text(encoding="utf-8")


def test_cli_report_for_one_funder_and_a_period(small_db, tmp_path, capsys):
    out = tmp_path / "fund.html"
    assert main(["report", "--db", str(small_db), "--out", str(out), "--funder", "State Housing Trust",
                 "--start", "2024-01-01", "--end", "2024-03-31"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Outcomes report — State Housing Trust" in text and "1 Jan 2024 to 31 Mar 2024" in text
    frame = pd.read_csv(tmp_path / "fund.csv", encoding="utf-8-sig")
    selection = frame[frame["table"] == "selection"].iloc[0]
    assert (selection["group"], selection["exits"], selection["positive"]) == ("State Housing Trust", 22, 11)


def test_cli_report_refuses_an_unknown_funder_and_a_backwards_period(small_db, tmp_path, capsys):
    assert main(["report", "--db", str(small_db), "--out", str(tmp_path / "x"), "--funder", "State Housing"]) == 2
    assert "Did you mean 'State Housing Trust'?" in capsys.readouterr().err
    assert main(["report", "--db", str(small_db), "--out", str(tmp_path / "x"), "--start", "2024-03-01",
                 "--end", "2024-01-01"]) == 2
    assert "after --end" in capsys.readouterr().err
    assert not list(tmp_path.glob("x.*"))

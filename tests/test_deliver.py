"""`python -m atlas deliver`: the board pack and the whole network's funder pack of the last whole quarter,
made from a real demo database and sent to a real SMTP server (aiosmtpd) on loopback.

* Each audience gets one message: every recipient in its To header, the pack's PDF attached, the pack's
  front-page sentences as plain text, no victim-service agency named; a second run sends nothing.
* A quarter the data does not cover is reported and nothing is sent; `--dry-run` lists who would get
  what and sends nothing.
* A message the server refuses is not recorded as sent, and goes on the next run; a recipient the server
  refuses is tried again, alone, on the next run.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from smtp_server import secrets, smtp_server

from atlas import config
from atlas.cli import main
from atlas.db import Atlas
from atlas.filters import reporting_periods
from atlas.ops import records

BOARD = ("chair@example.org", "trustee@example.org")
FUNDERS = ("grants@cityfund.org",)


@pytest.fixture
def site(demo_db, tmp_path, monkeypatch):
    """The demo database (copied: the delivery log is kept beside it) and a secrets file of its own."""
    database = tmp_path / "atlas.duckdb"
    database.write_bytes(demo_db.read_bytes())
    monkeypatch.setenv("ATLAS_SECRETS", str(tmp_path / "secrets.toml"))
    for name in ("ATLAS_DB", "ATLAS_MIN_CELL", "ATLAS_REPORTING_PERIOD", "ATLAS_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    with Atlas(database) as db:
        extent = db.query("data_extent").iloc[0]
    first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
    label, start, end = reporting_periods(first, last, "quarter")[0]  # the latest whole quarter
    return database, label, end + dt.timedelta(days=5), last


def configure(port: int) -> None:
    Path(os.environ["ATLAS_SECRETS"]).write_text(secrets(port, board=BOARD, funders=FUNDERS), encoding="utf-8")


def deliver(database: Path, as_of: dt.date, *extra: str) -> int:
    return main(["deliver", "--db", str(database), "--as-of", as_of.isoformat(), *extra])


def sent(database: Path) -> list[dict]:
    return [r for r in records.read(config.delivery_log(database)) if r["result"] == "sent"]


def victim_service_names(database: Path) -> list[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return [row[0] for row in con.execute("select name from agencies where is_victim_service").fetchall()]


def test_each_audience_gets_its_pack_once(site, capsys):
    database, label, as_of, _ = site
    with smtp_server() as (port, server):
        configure(port)
        assert deliver(database, as_of) == 0
        assert len(server.received) == 2
        assert deliver(database, as_of) == 0  # a second run (a retried timer) sends nothing
        assert len(server.received) == 2
    assert "delivered to every recipient" in capsys.readouterr().out

    by_subject = {m.message["Subject"]: m for m in server.received}
    board = by_subject[f"Collaboration Atlas: the board pack for {label}"]
    funder = by_subject[f"Collaboration Atlas: the funder pack (the whole network) for {label}"]
    assert sorted(board.rcpt_tos) == sorted(BOARD) and board.message["To"] == ", ".join(BOARD)
    assert funder.rcpt_tos == list(FUNDERS) and funder.message["To"] == FUNDERS[0]
    hidden = victim_service_names(database)
    assert hidden, "the demo has victim-service agencies"
    for mail, stem in ((board, "board_pack_"), (funder, "outcomes_network_")):
        [attachment] = list(mail.message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename().startswith(stem) and attachment.get_content().startswith(b"%PDF")
        body = mail.message.get_body(("plain",)).get_content()
        assert label in body and "Counts of fewer than 11 are not shown" in body
        assert "**" not in body and "\\" not in body  # the pack's sentences, as plain text
        assert not [name for name in hidden if name in body]
    assert f"In {label}" in board.message.get_body(("plain",)).get_content()  # the board pack's front page

    assert [(r["audience"], r["period"], sorted(r["recipients"])) for r in sent(database)] == [
        ("board", label, sorted(BOARD)), ("funders", label, list(FUNDERS))]


def test_a_quarter_the_data_does_not_cover_is_reported_and_nothing_sent(site, capsys):
    database, label, _, last = site
    with smtp_server() as (port, server):
        configure(port)
        next_quarter_ends = (pd.Timestamp(last) + pd.offsets.QuarterEnd(1)).date()
        assert deliver(database, next_quarter_ends + dt.timedelta(days=1)) == 1
        assert server.received == []
    assert "does not cover" in capsys.readouterr().out
    assert records.read(config.delivery_log(database)) == []


def test_a_dry_run_lists_who_would_get_what_and_sends_nothing(site, capsys):
    database, label, as_of, _ = site
    with smtp_server() as (port, server):
        configure(port)
        assert deliver(database, as_of, "--dry-run") == 0
        assert server.received == []
    out = capsys.readouterr().out
    assert f"{label}: the board pack would go to {', '.join(BOARD)}" in out
    assert f"{label}: the funder pack (the whole network) would go to {FUNDERS[0]}" in out
    assert records.read(config.delivery_log(database)) == []


def test_a_deployment_that_reports_by_year_delivers_years(site, monkeypatch, capsys):
    """The packs never give a period the board's and funders' screens do not offer (quarters against years
    could be subtracted to reveal a small number)."""
    database, _, _, last = site
    monkeypatch.setenv("ATLAS_REPORTING_PERIOD", "year")
    with smtp_server() as (port, server):
        configure(port)
        year = last.year if (last.month, last.day) == (12, 31) else last.year - 1  # the last whole year
        assert deliver(database, dt.date(year + 1, 4, 6), "--dry-run") == 0
    assert capsys.readouterr().out.startswith(f"{year}: the board pack would go to")


def test_a_refused_message_is_not_recorded_as_sent_and_goes_on_the_next_run(site, capsys):
    database, label, as_of, _ = site
    with smtp_server(refuse_data=True) as (port, server):
        configure(port)
        assert deliver(database, as_of) == 1
        assert server.received == []
    assert sent(database) == []
    assert [r["result"] for r in records.read(config.delivery_log(database))] == ["failed", "failed"]
    assert "554" in capsys.readouterr().out

    with smtp_server(refuse_rcpt={"trustee@example.org"}) as (port, server):
        configure(port)
        assert deliver(database, as_of) == 1  # one board member refused: said so
        assert sorted(len(m.rcpt_tos) for m in server.received) == [1, 1]
    assert {r["audience"]: r["recipients"] for r in sent(database)} == {"board": ["chair@example.org"],
                                                                         "funders": list(FUNDERS)}

    with smtp_server() as (port, server):
        configure(port)
        assert deliver(database, as_of) == 0
        [mail] = server.received  # the board pack, to the one it did not reach
        assert mail.rcpt_tos == ["trustee@example.org"] and "board pack" in mail.message["Subject"]


def test_without_an_smtp_server_configured_it_says_how_to_set_one(site, capsys):
    database, _, as_of, _ = site
    Path(os.environ["ATLAS_SECRETS"]).write_text('[delivery]\nboard = ["chair@example.org"]\n', encoding="utf-8")
    assert deliver(database, as_of) == 2
    assert "[smtp] host" in capsys.readouterr().err
    Path(os.environ["ATLAS_SECRETS"]).write_text('[delivery]\nboard = ["chair@example.org\\nBcc: x@y.org"]\n',
                                                 encoding="utf-8")
    assert deliver(database, as_of, "--dry-run") == 2  # an address that would add a header is refused
    assert "not an e-mail address" in capsys.readouterr().err

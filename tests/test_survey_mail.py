"""The survey's invitations and reminders, sent for real to the tests' SMTP server (aiosmtpd on loopback):
one plain-text message per member, holding its own link and no other member's name or link; a reminder
only to the members who have not answered; a refused recipient reported while the others go."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from smtp_server import secrets, smtp_server

from atlas.cli import main
from atlas.ops.mail import Smtp
from atlas.survey import Answer, Surveys
from atlas.survey import mail as survey_mail
from atlas.survey.contacts import ContactsError, contacts_from_csv
from atlas.survey.mail import invite

NAMES = {"A1": "Harbor House", "A2": "City Hospital", "A3": "Riverside Counselling", "A4": "Housing Authority",
         "A5": "St Mark's Church", "A6": "Safe Haven"}
ADDRESSES = {a: f"{a.lower()}@members.example.org" for a in NAMES}
BASE = "https://atlas.example.org"


@pytest.fixture
def site(small_db, tmp_path, monkeypatch):
    database = tmp_path / "atlas.duckdb"
    shutil.copyfile(small_db, database)
    monkeypatch.setenv("ATLAS_SECRETS", str(tmp_path / "secrets.toml"))
    for name in ("ATLAS_DB", "ATLAS_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    surveys = Surveys(database)
    surveys.open_round("r1", "Partnerships 2024", dt.date(2024, 1, 1), dt.date(2024, 3, 31),
                       dt.date.today() + dt.timedelta(days=20), members=list(NAMES))
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("agency_id,email\n" + "".join(f"{a},{e}\n" for a, e in ADDRESSES.items()), encoding="utf-8")
    return database, surveys, contacts


def settings(port: int) -> Smtp:
    return Smtp("127.0.0.1", port, "Collaboration Atlas <atlas@example.org>", starttls=False)


def check_messages(received, surveys: Surveys, expected: set[str]) -> None:
    assert {m.rcpt_tos[0] for m in received} == {ADDRESSES[a] for a in expected}
    for mail in received:
        [address] = mail.rcpt_tos
        agency = next(a for a, e in ADDRESSES.items() if e == address)
        assert mail.message["To"] == address
        assert not mail.message.is_multipart() and mail.message.get_content_type() == "text/plain"
        body = mail.message.get_content()
        assert surveys.link("r1", agency, BASE) in body and body.count("/respond?t=") == 1
        assert NAMES[agency] in body
        others = [n for a, n in NAMES.items() if a != agency]
        assert not [n for n in others if n in body], "no other member is named"
        assert not [a for a in NAMES if a != agency and surveys.token("r1", a) in body]


def test_invitations_then_reminders_to_those_who_have_not_answered(site):
    database, surveys, contacts = site
    surveys.set_contacts("r1", contacts_from_csv(contacts))
    with smtp_server() as (port, server):
        results = invite(surveys, "r1", BASE, settings(port), surveys.contacts("r1"), reminder=False)
        assert [r["result"] for r in results] == ["sent"] * 6
        check_messages(server.received, surveys, set(NAMES))
        assert server.received[0].message["Subject"] == "partnership survey: Partnerships 2024"
    surveys.save("r1", "A1", [Answer("A2", 3, 3, "yes")])
    surveys.save("r1", "A5", [], named_nobody=True)
    surveys.save("r1", "A3", [Answer("A2", frequency=1)])  # a draft only: not an answer yet
    with smtp_server() as (port, server):
        results = invite(surveys, "r1", BASE, settings(port), surveys.contacts("r1"), reminder=True)
        check_messages(server.received, surveys, {"A2", "A3", "A4", "A6"})
        assert {r["agency_id"]: r["result"] for r in results}["A1"] == "answered"
        assert all(m.message["Subject"].startswith("Reminder: ") for m in server.received)
        assert all("A reminder" in m.message.get_content() for m in server.received)


def test_a_refused_recipient_is_reported_and_the_others_go(site):
    database, surveys, contacts = site
    to = dict(ADDRESSES)
    del to["A4"]
    with smtp_server(refuse_rcpt={ADDRESSES["A2"]}) as (port, server):
        results = {r["agency_id"]: r for r in invite(surveys, "r1", BASE, settings(port), to, reminder=False)}
        assert results["A2"]["result"] == "failed" and "550" in results["A2"]["detail"]
        assert results["A4"]["result"] == "no_address"
        assert len(server.received) == 4


def test_the_invite_command_keeps_the_contacts_and_refuses_a_closed_round(site, capsys):
    database, surveys, contacts = site
    with smtp_server() as (port, server):
        Path(os.environ["ATLAS_SECRETS"]).write_text(secrets(port), encoding="utf-8")
        code = main(["survey", "invite", "r1", "--base-url", BASE, "--contacts", str(contacts), "--db", str(database)])
        assert code == 0 and len(server.received) == 6
        assert "6 sent" in capsys.readouterr().out
        assert surveys.contacts("r1") == ADDRESSES
        assert main(["survey", "invite", "r1", "--base-url", BASE, "--reminder", "--db", str(database)]) == 0
        assert len(server.received) == 12  # the kept addresses; nobody has answered yet
        surveys.close("r1")
        assert main(["survey", "invite", "r1", "--base-url", BASE, "--db", str(database)]) == 2
        assert "closed" in capsys.readouterr().err and len(server.received) == 12


def test_a_contacts_file_with_problems_names_every_row(site, tmp_path):
    _, surveys, _ = site
    bad = tmp_path / "bad.csv"
    bad.write_text("agency_id,email\nA1,a1@x.org\nA1,again@x.org\n,nobody@x.org\nA3,not an address\n", encoding="utf-8")
    with pytest.raises(ContactsError) as error:
        contacts_from_csv(bad)
    assert [(p[0], p[1]) for p in error.value.problems] == [(3, "agency_id"), (4, "agency_id"), (5, "email")]
    with pytest.raises(ContactsError, match="'ZZ' is not a member"):
        surveys.set_contacts("r1", {"ZZ": "zz@x.org"})


def test_the_page_reads_the_smtp_settings_through_the_survey_and_dates_read_as_elsewhere(site):
    database, surveys, contacts = site
    assert survey_mail.settings() is None  # no [smtp] host: the page offers the links CSV instead
    with smtp_server() as (port, server):
        Path(os.environ["ATLAS_SECRETS"]).write_text(secrets(port), encoding="utf-8")
        configured = survey_mail.settings()
        assert (configured.host, configured.port) == ("127.0.0.1", port)
        invite(surveys, "r1", BASE, configured, {"A1": ADDRESSES["A1"]}, reminder=False)
        text = server.received[0].message.get_content().replace("\r\n", "\n")
    closes = dt.date.today() + dt.timedelta(days=20)
    assert "the period\n1 Jan 2024 to 31 Mar 2024." in text
    assert f"until the survey closes on {closes.day} {closes:%b %Y}." in text and "2024-01-01" not in text

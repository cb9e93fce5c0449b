"""`python -m atlas survey ...`: run a partnership survey round from the command line (docs/survey.md).

    survey open ROUND --name NAME --period START END [--opens DATE] --closes DATE [--members FILE]
    survey links ROUND --base-url URL --out FILE
    survey invite ROUND --base-url URL [--contacts FILE] [--reminder]
    survey import ROUND FILE / survey export ROUND FILE
    survey close ROUND / survey rekey ROUND / survey list

Every command takes `--db` like the others; the round's answers live beside that database. A wrong
call exits 2 with the reason, a responses file with problems exits 1 with every problem listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

import pandas as pd

from atlas import config
from atlas.exports import safe_csv
from atlas.survey.contacts import ContactsError, contacts_from_csv
from atlas.survey.model import RoundClosed
from atlas.survey.surveys import Surveys


class SurveyUsage(Exception):
    """The command cannot do what was asked; the message says why."""


def add_parser(sub, db_arg) -> None:
    survey = sub.add_parser("survey", help="run a partnership survey round: open, links, invite, import, "
                                           "export, close, rekey, list (docs/survey.md)")
    commands = survey.add_subparsers(dest="survey_command", required=True, metavar="SURVEY_COMMAND")
    date = dt.date.fromisoformat
    p = commands.add_parser("open", help="open a round for the network's members")
    p.add_argument("round_id", metavar="ROUND")
    p.add_argument("--name", required=True)
    p.add_argument("--period", nargs=2, type=date, required=True, metavar=("START", "END"),
                   help="the period the round describes (YYYY-MM-DD YYYY-MM-DD)")
    p.add_argument("--opens", type=date, metavar="DATE", help="first day the links work (default: today)")
    p.add_argument("--closes", type=date, required=True, metavar="DATE", help="last day the links work")
    p.add_argument("--members", type=Path, metavar="FILE", help="a CSV with an agency_id column (default: every "
                   "agency with a referral or a declared tie in the period, victim-service agencies left out)")
    p = commands.add_parser("links", help="write each member's link to a CSV (agency_id,name,link) for a mail merge")
    p.add_argument("round_id", metavar="ROUND")
    p.add_argument("--base-url", required=True, metavar="URL", help="the dashboard's address, e.g. https://atlas.example.org")
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    p = commands.add_parser("invite", help="e-mail each member its own link (with --reminder: only members who have "
                                           "not answered) through the [smtp] server")
    p.add_argument("round_id", metavar="ROUND")
    p.add_argument("--base-url", required=True, metavar="URL")
    p.add_argument("--contacts", type=Path, metavar="FILE", help="a CSV agency_id,email kept with the round "
                   "(default: the addresses given before)")
    p.add_argument("--reminder", action="store_true")
    for name, text in (("import", "replace the answers of every respondent in a responses file (checked whole first)"),
                       ("export", "write the round's answers as survey_responses.csv")):
        p = commands.add_parser(name, help=text)
        p.add_argument("round_id", metavar="ROUND")
        p.add_argument("file", type=Path, metavar="FILE")
    commands.add_parser("close", help="close a round: its links stop working").add_argument("round_id", metavar="ROUND")
    commands.add_parser("rekey", help="give a round a new secret: every link given before stops working"
                        ).add_argument("round_id", metavar="ROUND")
    commands.add_parser("list", help="every round, its dates and how many members answered")
    for parser in commands.choices.values():
        db_arg(parser)


def run(args) -> int:
    surveys = Surveys(args.db or config.database_path())
    if not surveys.database.exists() and args.survey_command not in ("list", "export", "close", "rekey"):
        raise SurveyUsage(f"No database at {surveys.database}: build the demo or import your files first.")
    try:
        return COMMANDS[args.survey_command](surveys, args)
    except KeyError as error:
        raise SurveyUsage(error.args[0] if error.args else str(error)) from None
    except (ValueError, RoundClosed) as error:
        raise SurveyUsage(str(error)) from None


def members_from_csv(path: Path) -> list[str]:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise SurveyUsage(f"{path} cannot be read as UTF-8 CSV: {error}") from None
    reader = csv.DictReader(io.StringIO(text))
    if "agency_id" not in [h.strip() for h in reader.fieldnames or []]:
        raise SurveyUsage(f"{path}: the members file needs an agency_id column")
    found = [str(row.get("agency_id") or "").strip() for row in reader]
    return list(dict.fromkeys(a for a in found if a))


def cmd_open(surveys: Surveys, args) -> int:
    members = members_from_csv(args.members) if args.members else None
    round_ = surveys.open_round(args.round_id, args.name, args.period[0], args.period[1], args.closes,
                                opens_on=args.opens, members=members)
    print(f"Opened round {round_.round_id} ({round_.name}) about {round_.period_start} to {round_.period_end}: "
          f"{len(round_.members)} members, links working from {round_.opens_on} to {round_.closes_on} "
          f"({round_.status}). Its answers are kept beside {surveys.database}.")
    print(f"Next: python -m atlas survey links {round_.round_id} --base-url URL --out links.csv")
    return 0


def cmd_links(surveys: Surveys, args) -> int:
    frame = surveys.links(args.round_id, args.base_url)
    args.out.write_bytes(safe_csv(frame))
    print(f"Wrote {len(frame)} links of round {args.round_id} to {args.out} (agency_id, name, link). Each link "
          f"opens that member's survey only: send each to its member alone.")
    return 0


def cmd_invite(surveys: Surveys, args) -> int:
    from atlas.ops import mail as smtp
    from atlas.survey import mail

    settings = smtp.smtp()
    if settings is None:
        raise SurveyUsage(f"No SMTP server is configured: set [smtp] host, port and sender in "
                          f"{config.secrets_file()} (docs/operations.md), or use `survey links` for a mail merge.")
    if args.contacts:
        try:
            surveys.set_contacts(args.round_id, contacts_from_csv(args.contacts))
        except ContactsError as error:
            raise SurveyUsage(str(error)) from None
    results = pd.DataFrame(mail.invite(surveys, args.round_id, args.base_url, settings,
                                       surveys.contacts(args.round_id), args.reminder))
    counts = results["result"].value_counts()
    print(f"{'Reminders' if args.reminder else 'Invitations'} for round {args.round_id}: "
          + ", ".join(f"{n} {result.replace('_', ' ')}" for result, n in counts.items()))
    for row in results[~results["result"].isin(["sent", "answered"])].itertuples():
        print(f"  {row.agency_id}: {row.result.replace('_', ' ')} {row.detail}".rstrip(), file=sys.stderr)
    return 1 if results["result"].isin(["failed", "refused"]).any() else 0


def cmd_import(surveys: Surveys, args) -> int:
    from atlas.ingest.problems import format_report

    report = surveys.import_responses(args.round_id, args.file)
    if not report.ok:
        print(format_report(report.problems), file=sys.stderr)
        print(f"\nNothing was imported: the answers of round {args.round_id} are unchanged.", file=sys.stderr)
        return 1
    print(f"Imported {report.rows} rows from {args.file} into round {args.round_id}: the answers of "
          f"{len(report.respondents)} respondents replaced.")
    return 0


def cmd_export(surveys: Surveys, args) -> int:
    rows = surveys.export_responses(args.round_id, args.file)
    print(f"Wrote {rows} rows of round {args.round_id} to {args.file}.")
    return 0


def cmd_close(surveys: Surveys, args) -> int:
    round_ = surveys.close(args.round_id)
    answered = int(surveys.progress(args.round_id)["responded"].sum())
    print(f"Round {round_.round_id} closed on {round_.closed_on}: {answered} of {len(round_.members)} members "
          "answered. Its links no longer open the survey.")
    return 0


def cmd_rekey(surveys: Surveys, args) -> int:
    surveys.rekey(args.round_id)
    print(f"Round {args.round_id} has a new secret: every link given before no longer works. Send the new "
          f"links (survey links or survey invite).")
    return 0


def cmd_list(surveys: Surveys, args) -> int:
    rounds = surveys.rounds()
    if not rounds:
        print(f"No survey rounds beside {surveys.database}.")
        return 0
    for r in rounds:
        answered = int(surveys.progress(r.round_id)["responded"].sum())
        print(f"{r.round_id}\t{r.status}\t{r.period_start} to {r.period_end}\topens {r.opens_on}\tcloses "
              f"{r.closes_on}\t{answered}/{len(r.members)} answered\t{r.name}")
    return 0


COMMANDS = {"open": cmd_open, "links": cmd_links, "invite": cmd_invite, "import": cmd_import,
            "export": cmd_export, "close": cmd_close, "rekey": cmd_rekey, "list": cmd_list}

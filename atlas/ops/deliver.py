"""`python -m atlas deliver`: the board pack and the whole network's funder pack, for the last whole
reporting period before a date, e-mailed to `[delivery] board` and `[delivery] funders`.

The period is of the deployment's delivery length (`atlas.config.reporting_period`: a calendar quarter,
unless the deployment chose years), one of the whole quarters and years the board's and funders' screens
offer and protect together, so a pack never gives a period or a figure those views cannot; a quarter's
packs go out once the data covers the whole quarter.
Each pack is made as `atlas report` makes it, under the same protections (small counts suppressed, no
victim-service agency named), and sent as one message per audience: every recipient in its To header,
the PDF attached, and the pack's own front-page sentences as its plain-text body.

Each message the server took is recorded in the delivery log beside the database
(`atlas.config.delivery_log`), with the recipients it was taken for; a period's pack is not sent again
to anyone it was recorded for, so a second run (a retried timer) sends nothing, and a recipient added
later gets the current period's pack on the next run. A message the server refused is recorded as
failed, never as sent, and the next run tries again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from atlas import config
from atlas.db import Atlas
from atlas.filters import Filters, period_start, reporting_periods
from atlas.ops import mail, records
from atlas.packs.render import ReportError

PACKS = {"board": "the board pack", "funders": "the funder pack (the whole network)"}


@dataclass(frozen=True)
class Made:
    """One audience's message: its attachment and its plain-text summary."""

    file_name: str
    pdf: bytes
    summary: list[str]
    as_of: pd.Timestamp | None = None  # the data's last moment


def due(as_of: dt.date, length: str) -> Filters:
    """The last whole reporting period (calendar quarter or year) that ended before `as_of`."""
    end = period_start(as_of, length) - dt.timedelta(days=1)
    return Filters(period_start(end, length), end, aligned=length)


def delivered(log: Path, period: str, audience: str) -> set[str]:
    """The addresses (lower case) `audience`'s pack for `period` was sent to, by the delivery log."""
    return {a.lower() for r in records.read(log) if r.get("result") == "sent" and r.get("period") == period
            and r.get("audience") == audience for a in r.get("recipients") or []}


def _extent(db: Atlas) -> tuple[dt.date | None, dt.date | None, pd.Timestamp | None]:
    extent = db.query("data_extent").iloc[0]
    if pd.isna(extent["first_referral"]):
        return None, None, None
    as_of = None if pd.isna(extent["as_of"]) else pd.Timestamp(extent["as_of"])
    return pd.Timestamp(extent["first_referral"]).date(), pd.Timestamp(extent["last_referral"]).date(), as_of


def run(database: Path, as_of: dt.date | None = None, *, dry_run: bool = False, say=print) -> int:
    """Deliver the packs due on `as_of` (default today); the exit status (0: sent, or nothing due; 1: the
    data does not cover the period, or a message was not sent to everyone)."""
    length = config.reporting_period()
    period = due(as_of or dt.date.today(), length)
    label = period.describe_period()
    log = config.delivery_log(database)
    with Atlas(database) as db:
        first, last, data_as_of = _extent(db)
        covered = first is not None and label in [name for name, _, _ in reporting_periods(first, last, length)]
        if not covered:
            held = f"{first} to {last}" if first else "no referrals"
            say(f"The data ({held}) does not cover {label} ({period.start} to {period.end}) as a whole: nothing "
                "sent. Refresh the data, then deliver again.")
            return 1
        plan = _plan(log, label, dry_run, say)
        if dry_run or not any(plan.values()):
            return 0
        settings = mail.smtp()
        if settings is None:
            raise config.ConfigError("No SMTP server is configured: set [smtp] host (and sender) in the secrets "
                                     f"file {config.secrets_file()}, or $ATLAS_SMTP_HOST.")
        status = 0
        for audience, to in plan.items():
            if not to:
                continue
            try:
                made = make(audience, db, period, config.min_cell(), data_as_of)
            except ReportError as error:  # no Chromium to print it, say: nothing sent, and said
                say(f"{label}: {PACKS[audience]} could not be made, so it was not sent: {error}")
                status = 1
                continue
            status = max(status, _send(settings, log, audience, to, period, made, database, say))
    return status


def _plan(log: Path, label: str, dry_run: bool, say) -> dict[str, list[str]]:
    """Who is to get each audience's pack for the period `label`: its recipients it was not sent to yet."""
    plan = {audience: [a for a in mail.recipients(audience) if a.lower() not in delivered(log, label, audience)]
            for audience in PACKS}
    for audience, name in PACKS.items():
        done = sorted(delivered(log, label, audience))
        verb = "would go" if dry_run else "goes"
        say(f"{label}: {name} {verb} to " + (", ".join(plan[audience]) or "no one")
            + (f" (already sent to {', '.join(done)})" if done else "")
            + ("" if mail.recipients(audience) else f" (no [delivery] {audience} configured)"))
    if not dry_run and not any(plan.values()):
        say(f"Nothing to send: {label} was delivered to every recipient.")
    return plan


def make(audience: str, db, period: Filters, min_cell: int, as_of: pd.Timestamp | None) -> Made:
    """The pack of `audience` for the period: its PDF and the front-page sentences, as plain text."""
    from atlas.packs import board, funder
    from atlas.views import outcomes

    if audience == "board":
        pack = board.build(db, period, min_cell)
        _, pdf = board.make(pack)
        lines = [line.replace("**", "") for line in pack.reading]
        return Made(board.file_stem(period) + ".pdf", pdf, lines, as_of)
    view = outcomes.build(db, period, funder=None, min_cell=min_cell)
    made = funder.pack(view)
    lines = ["".join(text for text, _ in segments) for segments in funder.reading_segments(view)]
    return Made(funder.file_stem(view) + ".pdf", made.pdf, lines, as_of)


def _body(audience: str, period: Filters, made: Made, min_cell: int) -> str:
    label = period.describe_period()
    parts = [f"Attached is {PACKS[audience]} of the Collaboration Atlas for {label} "
             f"({period.start:%-d %b %Y} to {period.end:%-d %b %Y}), as a PDF.", "", "In short:", ""]
    parts += [f"- {line}" for line in made.summary]
    parts += ["", f"Counts of fewer than {min_cell} are not shown, to protect the people behind them, and "
                  "victim-service agencies are never named."]
    if made.as_of is not None:
        parts.append(f"The data runs to {made.as_of:%-d %b %Y}.")
    return "\n".join(parts) + "\n"


def _send(settings: mail.Smtp, log: Path, audience: str, to: list[str], period: Filters, made: Made,
          database: Path, say) -> int:
    label = period.describe_period()
    record = {"id": uuid.uuid4().hex, "at": records.now(), "period": label, "start": str(period.start),
              "end": str(period.end), "audience": audience, "attachment": made.file_name, "database": str(database)}
    subject = f"Collaboration Atlas: {PACKS[audience]} for {label}"
    body = _body(audience, period, made, config.min_cell())
    msg = mail.message(settings, to, subject, body, [(made.file_name, made.pdf, "application/pdf")])
    try:
        refused = mail.send(settings, msg)
    except mail.MailError as error:
        records.put(log, {**record, "result": "failed", "recipients": [], "message": str(error)})
        say(f"{label}: {PACKS[audience]} was NOT sent: {error}")
        return 1
    sent = [a for a in to if a not in refused]
    records.put(log, {**record, "result": "sent", "recipients": sent, "refused": refused,
                      "message": f"sent to {len(sent)} of {len(to)}"})
    say(f"{label}: sent {PACKS[audience]} ({made.file_name}) to {', '.join(sent)}")
    if refused:
        say(f"{label}: the server refused {PACKS[audience]} for " + "; ".join(f"{a} ({why})" for a, why in
                                                                             refused.items()))
        return 1
    return 0

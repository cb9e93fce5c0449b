"""The survey's invitations and reminders by e-mail, through the operations' SMTP settings and sending
(`atlas.ops.mail`).

One plain-text message per member, to that member's own address, holding only its own link: never
another member's name or link, so a forwarded invitation gives nobody a view of the network. A
reminder goes only to the members who have not answered. A member with no address is listed, not
skipped silently, and a message a server refused is reported for that member while the others go.
"""

from __future__ import annotations

from atlas import formats
from atlas.ops import mail
from atlas.survey.surveys import Surveys

INVITATION = """Hello,

{network_line}{name} is invited to answer the partnership survey "{round_name}" about the period
{start} to {end}. It asks, for each member organization you worked with in that period, how often and
how closely you worked together, whether you have a formal agreement, and how far you trust and value
the partnership. There is no free-text question.

This link is for {name} only; please do not forward it:

{link}

Your answers are saved as you go: you can close the page and come back through the same link, and
change your answers until the survey closes on {closes}.

Thank you.
"""

REMINDER_LINE = "A reminder: we have not yet received your answers.\n\n"


def settings() -> mail.Smtp | None:
    """The SMTP server the invitations go through: the operations' `[smtp]` table (or $ATLAS_SMTP_*), None when
    no host is set; a malformed table raises `atlas.config.ConfigError`, for the page to explain."""
    return mail.smtp()


def body(round_, name: str, link: str, reminder: bool) -> str:
    return INVITATION.format(network_line=REMINDER_LINE if reminder else "", name=name, round_name=round_.name,
                             start=formats.date(round_.period_start), end=formats.date(round_.period_end),
                             link=link, closes=formats.date(round_.closes_on))


def invite(surveys: Surveys, round_id: str, base_url: str, settings: mail.Smtp, to: dict[str, str],
           reminder: bool) -> list[dict]:
    """Send each member (a reminder: each member who has not answered) its own link; one record per
    member: agency_id, email, result (sent, refused, failed, no_address, answered) and detail."""
    round_ = surveys.round(round_id)
    if round_.status == "closed":
        raise ValueError(f"round {round_id!r} is closed: its links no longer open the survey")
    links = surveys.links(round_id, base_url).set_index("agency_id")
    answered = set(surveys.progress(round_id).query("responded")["agency_id"])
    subject = mail.plain(("Reminder: " if reminder else "") + f"partnership survey: {round_.name}")
    out = []
    for agency_id in round_.members:
        address = to.get(agency_id)
        record = {"agency_id": agency_id, "email": address, "result": "sent", "detail": ""}
        if reminder and agency_id in answered:
            record["result"] = "answered"
        elif not address:
            record["result"] = "no_address"
        else:
            name = str(links.loc[agency_id, "name"])
            message = mail.message(settings, [address], subject,
                                   body(round_, name, links.loc[agency_id, "link"], reminder))
            try:
                refused = mail.send(settings, message)
            except mail.MailError as error:
                record.update(result="failed", detail=str(error))
            else:
                if refused:
                    record.update(result="refused", detail="; ".join(refused.values()))
        out.append(record)
    return out

"""`Surveys`: the one object the command line, the respondent's form and the Survey page use to run a
round: open it, give each member its link, take the member's answers as it saves them, follow who has
answered, close it.

A link carries a token: an HMAC (SHA-256) of the round and the member under the round's own random
secret, 256 bits written URL-safe. It is reproduced for a reminder and never stored; `resolve` finds
the member by computing the tokens of the open rounds' members, and `rekey` gives a round a new secret,
so every old link stops working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from pathlib import Path

import duckdb
import pandas as pd

from atlas import db as atlas_db
from atlas.survey import store
from atlas.survey.model import (
    ANSWER_FIELDS,
    ROUND_ID,
    Answer,
    Invitation,
    Round,
    RoundClosed,
    SaveResult,
    answer_problems,
)
from atlas.survey.store import replace


def _token(secret: str, round_id: str, agency_id: str) -> str:
    digest = hmac.new(secret.encode(), f"{round_id}\x00{agency_id}".encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")


def _date(value) -> dt.date | None:
    if value is None or value is pd.NaT:
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def read_imported(database: Path, name: str, **params) -> pd.DataFrame:
    """A store statement run over the imported data (`queries/survey_store/NAME.sql`), read-only."""
    con = duckdb.connect()
    try:
        atlas_db.attach_read_only(con, database)
        con.execute("use atlas")
        return con.execute(store.statement(name), params).df()
    except duckdb.Error as error:
        raise atlas_db.unreadable(database, error) from error
    finally:
        con.close()


class Surveys:
    """The survey rounds of the database at `database` (their answers live beside it)."""

    def __init__(self, database: Path):
        self.database = Path(database)

    # --- rounds -------------------------------------------------------------------------------------

    def _rounds(self, con, only: str | None = None, members: bool = True) -> dict[str, tuple[Round, str]]:
        """The rounds (only one, when `only` names it) with their secrets; without their members when
        `members` is False (a round of thousands of members is read only when it is needed)."""
        out = {}
        for rid, name, start, end, opens, closes, closed, secret in con.execute(store.statement("rounds")).fetchall():
            if only is None or rid == only:
                ids = self._member_ids(con, rid) if members else ()
                out[rid] = (Round(rid, name, _date(start), _date(end), _date(opens), _date(closes), _date(closed), ids),
                            secret)
        return out

    @staticmethod
    def _member_ids(con, round_id: str) -> tuple[str, ...]:
        return tuple(sorted(r[0] for r in con.execute(store.statement("members_of"), {"round_id": round_id}).fetchall()))

    def rounds(self) -> list[Round]:
        """Every round, newest period first."""
        with store.reading(self.database) as con:
            return [r for r, _ in self._rounds(con).values()]

    def round(self, round_id: str) -> Round:
        with store.reading(self.database) as con:
            return self._known(con, round_id)[0]

    def _known(self, con, round_id: str) -> tuple[Round, str]:
        found = self._rounds(con, only=round_id)
        if round_id not in found:
            known = ", ".join(self._rounds(con, members=False)) or "none yet"
            raise KeyError(f"there is no survey round {round_id!r} beside {self.database} (rounds: {known})")
        return found[round_id]

    def default_members(self, period_start: dt.date, period_end: dt.date) -> list[str]:
        """Every agency with a referral or a declared tie in the period, victim-service agencies left out."""
        frame = read_imported(self.database, "default_members", start=period_start, end=period_end)
        return frame["agency_id"].tolist()

    def _member_frame(self, round_id: str, members: list[str]) -> pd.DataFrame:
        agencies = read_imported(self.database, "agencies").set_index("agency_id")
        unknown = [m for m in members if m not in agencies.index]
        if unknown:
            raise ValueError(f"not agencies of {self.database}: {', '.join(map(repr, unknown))}")
        if not members:
            raise ValueError("a round needs at least one member")
        chosen = agencies.loc[list(dict.fromkeys(members))].reset_index()
        chosen.insert(0, "round_id", round_id)
        chosen["victim_service"] = chosen["victim_service"].astype(bool)
        return chosen[["round_id", "agency_id", "name", "victim_service"]]

    def open_round(self, round_id: str, name: str, period_start: dt.date, period_end: dt.date,
                   closes_on: dt.date, opens_on: dt.date | None = None, members: list[str] | None = None) -> Round:
        """Open a new round (members default: `default_members` of the period)."""
        opens_on = opens_on or dt.date.today()
        if not isinstance(round_id, str) or not ROUND_ID.fullmatch(round_id):
            raise ValueError(f"a round id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                             f"digit, not {round_id!r}")
        if not str(name or "").strip():
            raise ValueError("a round needs a name")
        if period_start > period_end:
            raise ValueError(f"the period starts ({period_start}) after it ends ({period_end})")
        if opens_on > closes_on:
            raise ValueError(f"the round opens ({opens_on}) after it closes ({closes_on})")
        if members is None:
            members = self.default_members(period_start, period_end)
        frame = self._member_frame(round_id, list(members))
        with store.writing(self.database) as con:
            if round_id in self._rounds(con, members=False):
                raise ValueError(f"there is already a survey round {round_id!r}: choose another id")
            con.execute(store.statement("insert_round"), {
                "round_id": round_id, "name": str(name).strip(), "period_start": period_start,
                "period_end": period_end, "opens_on": opens_on, "closes_on": closes_on,
                "secret": secrets.token_hex(32), "opened_at": dt.datetime.now().replace(microsecond=0)})
            self._write_members(con, frame)
            return self._known(con, round_id)[0]

    @staticmethod
    def _write_members(con, frame: pd.DataFrame) -> None:
        con.register("new_members", frame)
        try:
            con.execute(store.statement("insert_members"))
        finally:
            con.unregister("new_members")

    def set_members(self, round_id: str, members: list[str]) -> Round:
        """Change a round's members; only while no answer is in."""
        frame = self._member_frame(round_id, list(members))
        with store.writing(self.database) as con:
            self._known(con, round_id)
            held = con.execute(store.statement("count_answers"), {"round_id": round_id}).fetchone()[0]
            if held:
                raise ValueError(f"round {round_id!r} already holds {held} answers: its members can no longer "
                                 "change (they were asked about one another)")
            con.execute(store.statement("delete_members"), {"round_id": round_id})
            self._write_members(con, frame)
            return self._known(con, round_id)[0]

    def close(self, round_id: str) -> Round:
        """Close the round today: its links stop working and its answers stand as they are."""
        with store.writing(self.database) as con:
            round_, _ = self._known(con, round_id)
            if round_.closed_on is None:
                con.execute(store.statement("close_round"), {"round_id": round_id, "closed_on": dt.date.today()})
            return self._known(con, round_id)[0]

    def rekey(self, round_id: str) -> Round:
        """Give the round a new secret: every link made before stops working."""
        with store.writing(self.database) as con:
            self._known(con, round_id)
            con.execute(store.statement("rekey_round"), {"round_id": round_id, "secret": secrets.token_hex(32)})
            return self._known(con, round_id)[0]

    # --- links --------------------------------------------------------------------------------------

    def token(self, round_id: str, agency_id: str) -> str:
        with store.reading(self.database) as con:
            round_, secret = self._known(con, round_id)
        if agency_id not in round_.members:
            raise KeyError(f"{agency_id!r} is not a member of round {round_id!r}")
        return _token(secret, round_id, agency_id)

    def link(self, round_id: str, agency_id: str, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/respond?t={self.token(round_id, agency_id)}"

    def links(self, round_id: str, base_url: str) -> pd.DataFrame:
        """agency_id, name, link of every member (one read of the store)."""
        with store.reading(self.database) as con:
            _, secret = self._known(con, round_id)
            members = self._members(con, round_id)
        base = base_url.rstrip("/")
        links = [f"{base}/respond?t={_token(secret, round_id, a)}" for a in members["agency_id"]]
        return members[["agency_id", "name"]].assign(link=links)

    @staticmethod
    def _members(con, round_id: str) -> pd.DataFrame:
        return con.execute(store.statement("members_of"), {"round_id": round_id}).df()

    def resolve(self, token: str) -> Invitation | None:
        """The member a link's token is for, while its round takes answers; None for anything else."""
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return None
        try:
            with store.reading(self.database) as con:
                today = dt.date.today()
                for round_, secret in self._rounds(con, members=False).values():
                    if not round_.takes_answers(today):
                        continue
                    for agency_id in self._member_ids(con, round_.round_id):
                        if hmac.compare_digest(_token(secret, round_.round_id, agency_id), token):
                            return self._invitation(con, self._known(con, round_.round_id)[0], agency_id)
        except (duckdb.Error, OSError, UnicodeError):
            return None
        return None

    def _invitation(self, con, round_: Round, agency_id: str) -> Invitation:
        members = self._members(con, round_.round_id)
        me = members[members["agency_id"] == agency_id].iloc[0]
        others = members[(members["agency_id"] != agency_id) & ~members["victim_service"].astype(bool)]
        return Invitation(round_, agency_id, str(me["name"]), list(zip(others["agency_id"], others["name"])))

    # --- answers ------------------------------------------------------------------------------------

    def _state(self, round_id: str, agency_id: str) -> pd.DataFrame:
        with store.reading(self.database) as con:
            self._known(con, round_id)
            return con.execute(store.statement("answers_of"), {"round_id": round_id, "agency_id": agency_id}).df()

    def answers(self, round_id: str, agency_id: str) -> list[Answer]:
        """The respondent's saved state, complete rows and drafts, for the form to show again."""
        frame = self._state(round_id, agency_id)
        frame = frame[frame["partner_agency_id"].notna()]
        return [Answer(**{k: (None if pd.isna(v) else (v if k in ("partner_agency_id", "agreement") else int(v)))
                          for k, v in row.items() if k in ANSWER_FIELDS})
                for row in frame.to_dict("records")]

    def named_nobody(self, round_id: str, agency_id: str) -> bool:
        """Whether the respondent's standing answer is that it worked with no member."""
        return bool(self._state(round_id, agency_id)["partner_agency_id"].isna().any())

    def check(self, round_: Round, members: pd.DataFrame, agency_id: str, answers: list[Answer]) -> None:
        """Raise ValueError naming the field of the first answer the round cannot take."""
        if agency_id not in round_.members:
            raise ValueError(f"respondent {agency_id!r} is not a member of round {round_.round_id!r}")
        victims = set(members.loc[members["victim_service"].astype(bool), "agency_id"])
        seen = set()
        for answer in answers:
            partner = answer.partner_agency_id
            if partner not in round_.members:
                raise ValueError(f"partner_agency_id: {partner!r} is not a member of round {round_.round_id!r}")
            if partner == agency_id:
                raise ValueError(f"partner_agency_id: {partner!r} is the respondent itself")
            if partner in victims:
                raise ValueError(f"partner_agency_id: {partner!r} cannot be named as a partner")
            if partner in seen:
                raise ValueError(f"partner_agency_id: {partner!r} is named twice")
            seen.add(partner)
            for name, value, rule in answer_problems(answer):
                raise ValueError(f"{name}: {value!r} for partner {partner!r} must be {rule}")

    def save(self, round_id: str, agency_id: str, answers: list[Answer], named_nobody: bool = False) -> SaveResult:
        """Replace the respondent's whole state with `answers` in one committed transaction."""
        answers = list(answers)
        with store.writing(self.database) as con:
            round_, _ = self._known(con, round_id)
            if not round_.takes_answers():
                raise RoundClosed(f"round {round_id!r} is {round_.status}: it takes no answers")
            self.check(round_, self._members(con, round_id), agency_id, answers)
            now = dt.datetime.now().replace(microsecond=0)
            rows = [{"round_id": round_id, "respondent_agency_id": agency_id,
                     **{k: getattr(a, k) for k in ANSWER_FIELDS}, "submitted_at": now} for a in answers]
            if not rows and named_nobody:
                rows = [{"round_id": round_id, "respondent_agency_id": agency_id, "submitted_at": now}]
            replace(con, round_id, [agency_id], rows)
        complete = sum(a.complete for a in answers)
        return SaveResult(round_id, agency_id, complete, len(answers) - complete, not answers and named_nobody, now)

    def progress(self, round_id: str) -> pd.DataFrame:
        """One row per member: agency_id, name, victim_service, responded, partners_named, last_saved."""
        with store.reading(self.database) as con:
            self._known(con, round_id)
            frame = con.execute(store.statement("progress"), {"round_id": round_id}).df()
        frame["responded"] = frame["responded"].astype(bool)
        frame["victim_service"] = frame["victim_service"].astype(bool)
        frame["partners_named"] = frame["partners_named"].astype(int)
        frame["last_saved"] = pd.to_datetime(frame["last_saved"])
        return frame

    # --- contacts -----------------------------------------------------------------------------------

    def set_contacts(self, round_id: str, contacts: dict[str, str]) -> None:
        """Keep the invitation address of each member named in `contacts` (replacing the round's)."""
        from atlas.survey.contacts import checked

        with store.writing(self.database) as con:
            round_, _ = self._known(con, round_id)
            frame = checked(round_, contacts)
            con.execute(store.statement("delete_contacts"), {"round_id": round_id})
            con.register("new_contacts", frame)
            try:
                con.execute(store.statement("insert_contacts"))
            finally:
                con.unregister("new_contacts")

    def contacts(self, round_id: str) -> dict[str, str]:
        with store.reading(self.database) as con:
            self._known(con, round_id)
            rows = con.execute(store.statement("contacts"), {"round_id": round_id}).fetchall()
        return dict(rows)

    # --- the responses file -------------------------------------------------------------------------

    def import_responses(self, round_id: str, path: Path):
        from atlas.survey import responses

        return responses.import_file(self, round_id, Path(path))

    def export_responses(self, round_id: str, path: Path) -> int:
        from atlas.survey import responses

        return responses.export_file(self, round_id, Path(path))

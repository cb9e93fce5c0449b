"""The respondent's form of a partnership survey round (issue 32, docs/survey.md), at the member's own link
`BASE/respond?t=TOKEN`, served by the dashboard's own server. Layer: the Streamlit glue (atlas.app), over
atlas.survey (rounds, tokens and the answers file).

A link is anonymous: whoever holds it answers for its member, with no sign-in. So the entrypoint asks
`requested()` before sign-in and before anything reads the imported data or draws a sidebar, and `serve()` then
declares a hidden navigation of the form alone, runs it and stops: the run shows the member's own survey and
nothing else, and nothing it does signs anyone in. A link that opens nothing (wrong, not yet open, past its
closing date, closed) gets one neutral page, the same words for all, naming no member and no round.

Every answer is saved the moment it is given (`Surveys.save`, committed before the widget's callback returns):
the callback reads the member's saved state, changes the one field and saves the whole state again, so a second
tab of the same link, or a closed tab and the link reopened, finds the latest answers. Each partner's questions
are a fragment that redraws alone; the whole form redraws only when a partner's required answers become complete
or incomplete, for the status line and the send button below them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import streamlit as st

from atlas import config, escape, formats
from atlas.app.signin import through_the_entrypoint
from atlas.survey import Answer, Invitation, RoundClosed, Surveys

PAGE = "respond"  # the url path of the form (and of every link: BASE/respond?t=TOKEN)
TOKEN = "t"
FORM_PAGE = config.ROOT / "pages" / "respond.py"
_VISIT = "atlas_survey_visit"  # a session that began at a survey link stays one until the browser loads another address
_ANSWERING = "atlas_survey_answering"  # the link whose form this session has shown

NEUTRAL = ("This link does not open a survey. It may be incomplete or mistyped, or the survey it belongs to may "
           "not be open yet or may have closed. If you were asked to answer, ask whoever sent you the link.")

FREQUENCY = {1: "Less than once a quarter", 2: "About once a quarter", 3: "About once a month",
             4: "About once a week", 5: "Every day or nearly"}
# The Levels of Collaboration Scale (Frey, Lohmeier, Lee & Tollefson, 2006), each level in our own words.
LEVELS = {
    1: ("Networking", "We know each other and talk now and then; no shared work."),
    2: ("Cooperation", "We pass on information and help when asked; each keeps its own way of working."),
    3: ("Coordination", "We share information and some resources, with agreed roles, and talk often."),
    4: ("Coalition", "We share ideas and resources and make some decisions together."),
    5: ("Collaboration", "We work as one system: we decide together and are in constant contact."),
}
AGREEMENT = {"yes": "Yes", "no": "No", "unsure": "Not sure"}
# The PARTNER tool's trust and value items (Varda), in our own words, on its four points.
TRUST = {"trust_reliable": "Can you rely on them to do what they say they will?",
         "trust_mission": "Do they share your organization's mission?",
         "trust_open": "Are they open to discussion: do they listen and talk things through?"}
VALUE = {"value_influence": "How much influence do they have in the community?",
         "value_involvement": "How involved are they in the work you do together?",
         "value_resources": "How much do they contribute in resources (staff, time, money, space, information)?"}
SCALE = {1: "Not at all", 2: "A little", 3: "A fair amount", 4: "A great deal", 0: "Prefer not to say"}
UNSAID = 0  # "prefer not to say": stored as unanswered
CLOSED = ("This survey has closed: answers can no longer be changed. Everything you saved before it closed "
          "counts.")
REQUIRED = {"frequency": "how often", "level": "level of collaboration", "agreement": "formal agreement"}


def requested() -> bool:
    """This run answers a survey link: a token in the address, the form's own address, or a session that began
    at one (a survey session never turns into the dashboard's: another address is a new session)."""
    return TOKEN in st.query_params or bool(st.session_state.get(_VISIT)) or _requested_page() == PAGE


def _requested_page() -> str:
    """The page the browser's address names (before any navigation is declared in this run)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    run = get_script_run_ctx()
    return ((run.pages_manager.intended_page_name if run is not None else None) or "").strip("/")


def serve() -> None:
    """Run the form as the only page of this session, with no navigation and no sidebar, and stop."""
    st.session_state[_VISIT] = True
    st.set_page_config(page_title="Partnership survey", layout="centered", initial_sidebar_state="collapsed")
    # The form at its own address, and again at the root (a default page always sits at `/`, so the default
    # cannot be the one at /respond, which Streamlit would then call "page not found"): a link missing its page
    # still opens the form.
    form = st.Page(FORM_PAGE, title="Partnership survey", icon=":material/handshake:", url_path=PAGE)
    root = st.Page(render, title="Partnership survey", icon=":material/handshake:", default=True)
    st.navigation([root, form], position="hidden").run()
    st.stop()


def render() -> None:
    """The page at a survey link: the member's form, or the neutral page when the link opens nothing."""
    through_the_entrypoint()  # a first visit in Streamlit's legacy pages/ mode: go through dashboard.py
    st.title("Partnership survey", anchor=False)
    token = st.query_params.get(TOKEN, "")
    surveys = Surveys(config.database_path()) if config.database_path().exists() else None
    invitation = surveys.resolve(token) if surveys is not None else None
    if invitation is None and token and st.session_state.get(_ANSWERING) == token:
        st.warning(CLOSED, icon=":material/lock:")  # closed while this person had the form open
    elif invitation is None:
        st.info(NEUTRAL, icon=":material/link_off:")
    else:
        st.session_state[_ANSWERING] = token
        _Form(surveys, invitation).draw()


def blank(partner: str) -> Answer:
    """A partner chosen and not yet answered about (kept as a draft)."""
    return Answer(partner_agency_id=partner)


def missing(answer: Answer) -> list[str]:
    """The required questions a partner's answer still lacks, in words."""
    return [words for field, words in REQUIRED.items() if getattr(answer, field) is None]


def status(answers: dict[str, Answer], names: dict[str, str], nobody: bool) -> str:
    """The status line (Markdown, names escaped): what is saved, and which partners still lack a required answer.
    It names no time: a partner's section saves and redraws alone, and a time here would fall behind."""
    if nobody:
        return "**Saved**: you worked with none of the listed organizations."
    if not answers:
        return ("**Nothing is saved yet.** Choose the organizations you worked with in step 1, or tick that you "
                "worked with none of them.")
    lacking = [f"{escape.markdown(names.get(p, p))} ({', '.join(missing(a))})"
               for p, a in sorted(answers.items(), key=lambda item: names.get(item[0], item[0])) if missing(a)]
    saved = f"**Saved**: {len(answers)} partner{'s' if len(answers) != 1 else ''}."
    if not lacking:
        return f"{saved} Every required answer is in."
    return (f"{saved} Still to answer for {len(lacking)} of them (until then they do not count): "
            + "; ".join(lacking) + ".")


@dataclasses.dataclass
class _Form:
    """One member's form in this session: its saved state is read from the answers file at each full run and
    after each save; session_state holds only the widgets and what the form remembers for the person."""

    surveys: Surveys
    invitation: Invitation

    @property
    def round_id(self) -> str:
        return self.invitation.round.round_id

    @property
    def agency_id(self) -> str:
        return self.invitation.agency_id

    @property
    def names(self) -> dict[str, str]:
        return dict(self.invitation.partners)

    def key(self, *parts: str) -> str:
        return ":".join(["survey", self.round_id, self.agency_id, *parts])

    # -- the saved state ----------------------------------------------------------------------------------------

    def saved(self) -> tuple[dict[str, Answer], bool]:
        """The member's saved answers by partner, and whether it said it worked with none of them."""
        answers = {a.partner_agency_id: a for a in self.surveys.answers(self.round_id, self.agency_id)
                   if a.partner_agency_id}
        nobody = not answers and self.surveys.named_nobody(self.round_id, self.agency_id)
        st.session_state[self.key("state")] = (answers, nobody)
        return answers, nobody

    def state(self) -> tuple[dict[str, Answer], bool]:
        """The state as last read or saved in this session (a fragment's run reads it from here)."""
        return st.session_state.get(self.key("state")) or self.saved()

    def change(self, edit: Callable[[dict[str, Answer], bool], tuple[dict[str, Answer], bool]]) -> None:
        """Read the saved state, edit it and save it whole: committed in the answers file before this returns.
        A round closed meanwhile keeps what was saved before and says so."""
        answers, nobody = self.saved()
        answers, nobody = edit(dict(answers), nobody)
        try:
            self.surveys.save(self.round_id, self.agency_id, list(answers.values()), named_nobody=nobody)
        except RoundClosed:
            st.session_state[self.key("closed")] = True
            return
        st.session_state[self.key("state")] = (answers, nobody)

    # -- the page ---------------------------------------------------------------------------------------------

    def draw(self) -> None:
        if st.session_state.get(self.key("closed")):
            st.warning(CLOSED, icon=":material/lock:")
            return
        answers, nobody = self.saved()
        if st.session_state.get(self.key("sent")):
            self.thank_you(answers, nobody)
            return
        self.intro()
        self.partners_step(answers, nobody)
        if answers:
            st.header("Step 2: about each partner", divider="gray", anchor=False)
            st.markdown("Three questions are needed for each partner; the six on trust and value may be left "
                        "unanswered.")
            st.session_state[self.key("complete")] = {p: a.complete for p, a in answers.items()}
            for position, partner in enumerate(sorted(answers, key=lambda p: self.names.get(p, p))):
                self.partner_section(partner, position)
        self.send(answers, nobody)

    def intro(self) -> None:
        r = self.invitation.round
        st.markdown(
            f"For **{escape.markdown(self.invitation.agency_name)}**: how your organization worked with the other "
            f"members of the network from **{formats.span(r.period_start, r.period_end)}**.")
        st.markdown(
            "It takes about 10 to 20 minutes, depending on how many partners you name. There is no question to "
            "type an answer to. **Every answer is saved as you give it**: you can close this page and come back "
            f"through the same link, and change your answers until **{formats.date(r.closes_on)}**.")
        st.caption("Who sees your answers: the network's directors see each organization's answers; the board sees "
                   "figures for the whole network and a map of who works with whom, never one organization's "
                   "ratings.")

    def partners_step(self, answers: dict[str, Answer], nobody: bool) -> None:
        st.header("Step 1: who you worked with", divider="gray", anchor=False)
        names = self.names
        st.multiselect(
            "The organizations you worked with during this period (type to search)", options=list(names),
            default=[p for p in names if p in answers], format_func=lambda p: names[p], key=self.key("partners"),
            placeholder="Choose organizations", disabled=nobody, on_change=self._partners_changed, select_all=False,
            help="Only members of the network are listed. Removing a partner removes your answers about it.")
        st.checkbox("We worked with none of these organizations during this period", value=nobody,
                    key=self.key("nobody"), disabled=bool(answers), on_change=self._nobody_changed,
                    help="To tick this, first remove every organization chosen above." if answers else None)

    def _partners_changed(self) -> None:
        chosen = list(st.session_state[self.key("partners")])
        removed = st.session_state.setdefault(self.key("removed"), {})  # restored if chosen again in this visit

        def edit(answers, nobody):
            for partner in set(answers) - set(chosen):
                removed[partner] = answers.pop(partner)
            for partner in chosen:
                answers.setdefault(partner, removed.pop(partner, None) or blank(partner))
            return answers, False

        self.change(edit)

    def _nobody_changed(self) -> None:
        nobody = bool(st.session_state[self.key("nobody")])
        self.change(lambda answers, _: ({} if nobody else answers, nobody))

    # -- one partner ------------------------------------------------------------------------------------------

    @st.fragment
    def partner_section(self, partner: str, position: int) -> None:
        """One partner's questions, redrawn alone when one of them is answered."""
        answer = self.state()[0].get(partner) or blank(partner)
        name = escape.markdown(self.names.get(partner, partner))
        with st.container(border=True, key=f"survey-partner-{position}"):
            st.subheader(name, anchor=False)
            # The questions say "them", not the partner's name: a widget's label is Markdown on the screen but its
            # accessible name is the raw label, so an escaped name would be read out with its backslashes.
            self.radio(partner, answer, "frequency", "How often did you work with them?", FREQUENCY)
            self.radio(partner, answer, "level", "How closely did you work with them?",
                       {n: f"{n}. {level}" for n, (level, _) in LEVELS.items()},
                       captions=[words for _, words in LEVELS.values()])
            self.radio(partner, answer, "agreement", "Do you have a formal agreement with them (a contract, an MOU, "
                       "a referral protocol)?", AGREEMENT, horizontal=True)
            st.markdown("**Trust.** Optional: answer what you can.")
            for field, question in TRUST.items():
                self.radio(partner, answer, field, question, SCALE, horizontal=True)
            st.markdown("**Value to the network.** Optional: answer what you can.")
            for field, question in VALUE.items():
                self.radio(partner, answer, field, question, SCALE, horizontal=True)
            lacking = missing(answer)
            st.caption(f"Saved. Still to answer: {', '.join(lacking)}." if lacking else
                       "Saved. Every required answer about this partner is in.")
        if answer.complete != st.session_state.get(self.key("complete"), {}).get(partner, answer.complete):
            st.rerun()  # the status line and the send button, outside this fragment, change with it

    def radio(self, partner: str, answer: Answer, field: str, label: str, choices: dict, **options) -> None:
        value = getattr(answer, field)
        keys = list(choices)
        st.radio(label, keys, index=keys.index(value) if value in keys else None, format_func=choices.get,
                 key=self.key(partner, field), on_change=self._answered, args=(partner, field), **options)

    def _answered(self, partner: str, field: str) -> None:
        value = st.session_state[self.key(partner, field)]
        value = None if value == UNSAID and field not in REQUIRED else value

        def edit(answers, nobody):
            answers[partner] = dataclasses.replace(answers.get(partner) or blank(partner), **{field: value})
            return answers, False

        self.change(edit)

    # -- sending ----------------------------------------------------------------------------------------------

    def send(self, answers: dict[str, Answer], nobody: bool) -> None:
        st.header("Send", divider="gray", anchor=False)
        st.markdown(status(answers, self.names, nobody))
        if not st.button("Send my answers", type="primary", icon=":material/send:", key=self.key("send")):
            return
        if not answers and not nobody:
            st.warning("Choose the organizations you worked with in step 1, or tick that you worked with none "
                       "of them.", icon=":material/arrow_upward:")
            return
        if any(missing(a) for a in answers.values()):
            st.warning("Some partners still lack a required answer (listed above). Answer them, or remove "
                       "those partners in step 1, then send.", icon=":material/arrow_upward:")
            return
        self.change(lambda saved, said: (answers, nobody))  # committed before the thank-you is drawn
        if st.session_state.get(self.key("closed")):
            st.rerun()
        if self.saved() == (answers, nobody):
            st.session_state[self.key("sent")] = True
            st.rerun()
        st.error("Your answers changed while sending (in another window?): check them and send again.")

    def thank_you(self, answers: dict[str, Answer], nobody: bool) -> None:
        r = self.invitation.round
        named = ("that you worked with none of the listed organizations" if nobody else
                 f"your answers about {len(answers)} partner{'s' if len(answers) != 1 else ''}")
        st.success(f"**Thank you.** We have received {named}.", icon=":material/check_circle:")
        st.markdown(f"You can change your answers until **{formats.date(r.closes_on)}** through the same link.")
        if st.button("Change my answers", icon=":material/edit:", key=self.key("revise")):
            st.session_state[self.key("sent")] = False
            st.rerun()

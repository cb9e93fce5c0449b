"""Roles and what they allow (atlas/audience.py), and where the deployment's mapping comes from."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from atlas import audience, config
from atlas.audience import Role

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
MAPPING = {"dana@example.org": "director", "group:trustees": "board", "Fay@Example.org": ["funder"],
           "both@example.org": ["board", "funder"]}


def test_roles_come_from_the_email_and_every_group():
    assert audience.roles_for("DANA@example.org", [], MAPPING) == {Role.DIRECTOR}
    assert audience.roles_for("fay@example.org", [], MAPPING) == {Role.FUNDER}
    assert audience.roles_for("dana@example.org", ["Trustees"], MAPPING) == {Role.DIRECTOR, Role.BOARD}
    assert audience.roles_for("nobody@example.org", ["staff"], MAPPING) == set()
    assert audience.roles_for(None, [], MAPPING) == set()
    # a group name is not an e-mail: "group:" entries only match groups
    assert audience.roles_for("group:trustees", [], MAPPING) == set()


def test_each_role_sees_its_pages_and_protections():
    director = audience.Audience(frozenset({Role.DIRECTOR}), "d", True)
    board = audience.Audience(frozenset({Role.BOARD}), "b", True)
    funder = audience.Audience(frozenset({Role.FUNDER}), "f", True)
    assert director.pages == set(audience.PAGES) and director.record_level and not director.restricted
    assert board.pages == {"overview", "network"} and board.restricted and not board.record_level
    assert funder.pages == {"overview", "outcomes"} and funder.restricted
    assert director.cache_key != board.cache_key == funder.cache_key


@pytest.mark.parametrize("roles, pages", [
    ({Role.DIRECTOR, Role.BOARD}, {"overview", "network"}),
    ({Role.DIRECTOR, Role.FUNDER}, {"overview", "outcomes"}),
    ({Role.BOARD, Role.FUNDER}, {"overview"}),
    (set(), set()),
])
def test_two_roles_get_what_both_allow_never_what_either_allows(roles, pages):
    person = audience.Audience(frozenset(roles), "x", True)
    assert person.pages == pages
    assert person.restricted, "any restricted role restricts"
    assert not person.record_level


def test_the_mapping_refuses_an_unknown_role():
    with pytest.raises(audience.RoleConfigError, match="'trustee'.*not a role"):
        audience.check_mapping({"x@example.org": "trustee"})


def test_roles_from_the_environment(monkeypatch):
    monkeypatch.setenv("ATLAS_ROLES", "dana@example.org=director; group:trustees=board;both@example.org=board+funder")
    mapping = config.role_mapping()
    assert audience.roles_for("both@example.org", [], mapping) == {Role.BOARD, Role.FUNDER}
    assert audience.roles_for("x@example.org", ["trustees"], mapping) == {Role.BOARD}
    monkeypatch.setenv("ATLAS_ROLES", "dana@example.org")
    with pytest.raises(audience.RoleConfigError, match="who=role"):
        config.role_mapping()


def test_roles_and_settings_from_the_secrets_file(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('local_role = "funder"\nreporting_period = "year"\n[atlas_roles]\n'
                       '"dana@example.org" = "director"\n"group:trustees" = ["board"]\n')
    monkeypatch.delenv("ATLAS_ROLES", raising=False)
    monkeypatch.delenv("ATLAS_LOCAL_ROLE", raising=False)
    monkeypatch.delenv("ATLAS_REPORTING_PERIOD", raising=False)
    monkeypatch.setenv("ATLAS_SECRETS", str(secrets))
    assert audience.roles_for("", ["trustees"], config.role_mapping()) == {Role.BOARD}
    assert config.local_roles() == ("funder",) and config.reporting_period() == "year"
    assert not config.auth_configured()
    secrets.write_text(secrets.read_text().replace('local_role = "funder"', 'local_role = "admin"'))
    with pytest.raises(config.ConfigError, match="local_role"):
        config.local_roles()
    secrets.write_text(secrets.read_text().replace('local_role = "admin"', 'local_role = ["Board", "funder"]'))
    assert config.local_roles() == ("board", "funder")
    monkeypatch.setenv("ATLAS_LOCAL_ROLE", "funder+board")  # the environment wins, in the ATLAS_ROLES form
    assert config.local_roles() == ("board", "funder")
    assert audience.local(config.local_roles()).pages == {"overview"}  # what the two share


def local_session(monkeypatch, database, role: str | None, **env) -> AppTest:
    """The dashboard run once by AppTest as a local session of `role` (None: the default) on `database`."""
    monkeypatch.setenv("ATLAS_DB", str(database))
    if role is None:
        monkeypatch.delenv("ATLAS_LOCAL_ROLE", raising=False)
    else:
        monkeypatch.setenv("ATLAS_LOCAL_ROLE", role)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_without_sign_in_the_app_is_a_local_director_session_and_says_so(small_db, monkeypatch):
    at = local_session(monkeypatch, small_db, None)
    assert "Local single-user session" in at.sidebar.warning[0].value
    assert "director's view" in at.sidebar.warning[0].value
    assert [s.key for s in at.sidebar.selectbox][0] == "filter_period"


def test_a_local_board_session_shows_the_board_view(small_db, monkeypatch):
    at = local_session(monkeypatch, small_db, "board")
    assert "board's view" in at.sidebar.warning[0].value
    assert [s.key for s in at.sidebar.selectbox] == ["filter_reporting_period"]


def test_a_local_board_and_funder_session_gets_what_both_share(small_db, monkeypatch):
    at = local_session(monkeypatch, small_db, "board+funder")
    assert "what the board and funder roles share" in at.sidebar.warning[0].value
    assert [s.key for s in at.sidebar.selectbox] == ["filter_reporting_period"]
    assert at.title[0].value == "Collaboration Atlas" and len(at.metric)  # the Overview, restricted


@pytest.mark.parametrize("variable, value, named", [
    ("ATLAS_LOCAL_ROLE", "admin", "local_role"),
    ("ATLAS_MIN_CELL", "1", "min_cell"),
    ("ATLAS_REPORTING_PERIOD", "month", "reporting_period"),
])
def test_a_configuration_mistake_is_explained_on_the_page(small_db, monkeypatch, variable, value, named):
    """Not Streamlit's generic error box (its details are hidden from viewers): what is wrong, and where.
    The board's view is the one that reads every setting."""
    at = local_session(monkeypatch, small_db, "board", **{variable: value})
    shown = " ".join(e.value for e in at.error).replace("\\", "")  # the Markdown source, escaped
    assert "configuration needs fixing" in shown and named in shown and f"not {value}" in shown.replace("'", ""), shown

"""Who is looking, and what that lets them see: the roles, the pages each may open, and the
protections that travel with them.

Three roles, from the brief:

- **director**: every page, record-level work lists (pseudonymous), downloads of them, free filters.
- **board**: the Overview and the Network map.
- **funder**: the Overview and Outcomes.

Board and funder views are *restricted*: aggregates only (no record-level row, list or download),
counts of 1 to min_cell-1 suppressed with their complements, no victim-service agency named, and
filters limited to whole, non-overlapping reporting periods of the whole network, so that no two
filter choices can be compared to work out a small number (see docs/security.md).

A person may hold several roles (an e-mail and a group can both be mapped). They get the
*intersection* of what the roles allow: only the pages every one of their roles may open, and every
protection any of them carries. Holding a second role never widens what the first allows.

Roles come from configuration (`atlas.config.role_mapping`): a mapping from an e-mail address, or
`group:NAME` for a group claim of the identity provider, to one role or a list of roles. Without a
sign-in provider the app is a local single-user session whose role is `atlas.config.local_role`
(director unless configured otherwise). Everything here is pure: no Streamlit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Role(enum.StrEnum):
    DIRECTOR = "director"
    BOARD = "board"
    FUNDER = "funder"


# Page keys: the url path of each page in dashboard.py.
PAGES = ("overview", "bottlenecks", "need_capacity", "accountability", "survey", "network", "outcomes", "data")

ROLE_PAGES: dict[Role, frozenset[str]] = {
    Role.DIRECTOR: frozenset(PAGES),
    Role.BOARD: frozenset({"overview", "network"}),
    Role.FUNDER: frozenset({"overview", "outcomes"}),
}
RESTRICTED = frozenset({Role.BOARD, Role.FUNDER})

GROUP_PREFIX = "group:"


class RoleConfigError(ValueError):
    """The role mapping names a role that does not exist; the message says which entry."""


@dataclass(frozen=True)
class Audience:
    """The effective view of one person: their roles and what those allow together."""

    roles: frozenset[Role]
    who: str  # the signed-in e-mail, or "local" for the single-user session
    signed_in: bool

    @property
    def pages(self) -> frozenset[str]:
        """The pages every one of the roles may open (no roles: none)."""
        if not self.roles:
            return frozenset()
        return frozenset.intersection(*(ROLE_PAGES[r] for r in self.roles))

    @property
    def restricted(self) -> bool:
        """Aggregates only, small cells suppressed, reporting periods only: true if any role says so."""
        return bool(self.roles & RESTRICTED) or not self.roles

    @property
    def record_level(self) -> bool:
        """May see record-level rows (pseudonymous work lists) and download them."""
        return not self.restricted

    def can_open(self, page: str) -> bool:
        return page in self.pages

    @property
    def cache_key(self) -> str:
        """What a cache of role-dependent results must be keyed by: the protections in force."""
        return "restricted" if self.restricted else "director"

    def describe(self) -> str:
        names = " and ".join(sorted(r.value for r in self.roles)) or "no role"
        return f"{self.who} ({names})"


def _roles_of(value, entry: str) -> set[Role]:
    values = [value] if isinstance(value, str) else list(value)
    out = set()
    for v in values:
        try:
            out.add(Role(str(v).strip().lower()))
        except ValueError:
            raise RoleConfigError(
                f"atlas_roles: {entry!r} maps to {v!r}, which is not a role; use "
                + ", ".join(r.value for r in Role)) from None
    return out


def check_mapping(mapping: Mapping[str, object]) -> None:
    """Raise RoleConfigError on the first entry that names an unknown role."""
    for entry, value in mapping.items():
        _roles_of(value, entry)


def roles_for(email: str | None, groups: Iterable[str], mapping: Mapping[str, object]) -> frozenset[Role]:
    """Every role the mapping gives this identity: by e-mail (case-insensitive) and by each group."""
    email = (email or "").strip().lower()
    groups = {str(g).strip().lower() for g in groups or ()}
    roles: set[Role] = set()
    for entry, value in mapping.items():
        key = entry.strip().lower()
        matches = key[len(GROUP_PREFIX):] in groups if key.startswith(GROUP_PREFIX) else bool(email) and key == email
        if matches:
            roles |= _roles_of(value, entry)
    return frozenset(roles)


def signed_in(email: str | None, groups: Iterable[str], mapping: Mapping[str, object]) -> Audience:
    return Audience(roles_for(email, groups, mapping), who=email or "unknown", signed_in=True)


def local(roles: Iterable[Role | str] = (Role.DIRECTOR,)) -> Audience:
    """The single-user session of an install without sign-in."""
    return Audience(frozenset(Role(r) for r in roles), who="local", signed_in=False)


def parse_env(text: str) -> dict[str, list[str]]:
    """`ATLAS_ROLES`: `ana@example.org=director; group:trustees=board; bo@example.org=board+funder`."""
    mapping: dict[str, list[str]] = {}
    for part in text.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise RoleConfigError(f"ATLAS_ROLES: {part!r} is not of the form who=role")
        who, roles = part.rsplit("=", 1)
        mapping.setdefault(who.strip(), []).extend(r for r in roles.split("+") if r.strip())
    check_mapping(mapping)
    return mapping

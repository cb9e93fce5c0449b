"""Write this checkout's systemd units: the templates of deploy/systemd/ with its paths filled in.

    .venv/bin/python deploy/render.py --out /tmp/atlas-units [--user atlas] [--env-file FILE] [--data DIR]

writes into the folder --out:

- atlas.service: the dashboard (`python -m atlas serve` on 127.0.0.1:$ATLAS_PORT), started at boot;
- atlas-refresh.service and .timer: the inbox imported every night at 02:30 (`python -m atlas refresh`);
- atlas-backup.service and .timer: a backup every night at 03:30 (`python -m atlas backup`), kept
  $ATLAS_BACKUP_DAYS days;
- atlas-deliver.service and .timer: every morning at 07:00, the last whole quarter's packs sent if not yet
  (`python -m atlas deliver`);
- caddy.service.d/atlas.conf: Debian's caddy.service, serving deploy/Caddyfile with the same settings;
- atlas.env.example: those settings, to install as the --env-file and edit.

The Python that runs this script is the one the units run (the checkout's virtualenv), unless --python
says another. docs/deploy.md says where each file goes; tests/test_deploy.py renders them and checks them
with `systemd-analyze verify`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "systemd"
# template -> the file it becomes, under --out
OUTPUTS = {
    "atlas.service.in": "atlas.service",
    "atlas-refresh.service.in": "atlas-refresh.service",
    "atlas-refresh.timer.in": "atlas-refresh.timer",
    "atlas-backup.service.in": "atlas-backup.service",
    "atlas-backup.timer.in": "atlas-backup.timer",
    "atlas-deliver.service.in": "atlas-deliver.service",
    "atlas-deliver.timer.in": "atlas-deliver.timer",
    "caddy-atlas.conf.in": "caddy.service.d/atlas.conf",
    "atlas.env.in": "atlas.env.example",
}
UNITS = tuple(name for name in OUTPUTS.values() if name.endswith((".service", ".timer")))
_PLACEHOLDER = re.compile(r"@[A-Z_]+@")


class RenderError(ValueError):
    """A path or name given cannot go into a unit; the message says which and why."""


def _checked(name: str, value: str, absolute: bool = True) -> str:
    """A value for a unit file: one line, no space (unquoted in ExecStart=), no % (a systemd specifier)."""
    if not value or re.search(r"[\s%$\\'\"]", value):
        raise RenderError(f"{name} {value!r} cannot go into a unit file: use one without spaces, quotes, %, $ or \\")
    if absolute and not value.startswith("/"):
        raise RenderError(f"{name} {value!r} must be an absolute path")
    return value


def render(out: Path, *, user: str = "atlas", group: str | None = None, python: str | None = None,
           env_file: str = "/etc/collaboration-atlas/atlas.env", data: str = "/var/lib/collaboration-atlas",
           root: Path = ROOT) -> list[Path]:
    """Write the units and their companions into `out` (see the module's doc); returns the files written."""
    python = python or sys.executable
    if not Path(python).is_file():
        raise RenderError(f"--python {python} is not a file")
    values = {
        "@ROOT@": _checked("the checkout", str(root)),
        "@PYTHON@": _checked("--python", str(Path(python).absolute())),
        "@USER@": _checked("--user", user, absolute=False),
        "@GROUP@": _checked("--group", group or user, absolute=False),
        "@ENV_FILE@": _checked("--env-file", env_file),
        "@CONFIG@": _checked("--env-file's folder", str(Path(env_file).parent)),
        "@DATA@": _checked("--data", data.rstrip("/") or "/"),
    }
    written = []
    for template, name in OUTPUTS.items():
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        left = _PLACEHOLDER.findall(text)
        if left:
            raise RenderError(f"{template} has a placeholder this script does not fill: {', '.join(sorted(set(left)))}")
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/render.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the folder to write the units into")
    parser.add_argument("--user", default="atlas", help="the account the dashboard and its jobs run as (default atlas)")
    parser.add_argument("--group", default=None, help="its group (default: the same name as --user)")
    parser.add_argument("--python", default=None,
                        help="the Python the units run (default: this one, " + sys.executable + ")")
    parser.add_argument("--env-file", default="/etc/collaboration-atlas/atlas.env",
                        help="the settings file the units read (default /etc/collaboration-atlas/atlas.env)")
    parser.add_argument("--data", default="/var/lib/collaboration-atlas",
                        help="the folder of the database, inbox and backups in the example settings "
                             "(default /var/lib/collaboration-atlas)")
    args = parser.parse_args(argv)
    try:
        written = render(args.out, user=args.user, group=args.group, python=args.python, env_file=args.env_file,
                         data=args.data)
    except RenderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {len(written)} files to {args.out}:")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m atlas`: build the demo, import a community's files, run and list named queries, make the
packs, and run a deployment (refresh from an inbox, deliver the packs, back up and restore, status)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import secrets
import sys
import time
from pathlib import Path

import pandas as pd

from atlas import catalog, config, demo
from atlas.db import Atlas, DatabaseMissing, DatabaseOutdated, DatabaseUnreadable
from atlas.ingest import contract_files, importer, validate
from atlas.ingest.problems import format_report
from atlas.progress import Progress, TextBar
from atlas.survey import cli as survey_cli


class UsageError(Exception):
    """A command was called wrongly; the message says how to call it."""


def _db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None,
                        help="database file (default: $ATLAS_DB, else data/atlas.duckdb)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m atlas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _demo_parser(sub)
    _import_parser(sub)
    _query_parsers(sub)
    _report_parser(sub)
    _operations_parsers(sub)
    survey_cli.add_parser(sub, _db_arg)

    p = sub.add_parser("upgrade", help="rebuild the data model over a database built by an earlier version")
    _db_arg(p)

    p = sub.add_parser("prepare", help="work out the board's and funders' protected sets of every whole quarter "
                                       "and year, newest first, and keep them beside the database")
    _db_arg(p)
    p.add_argument("--min-cell", type=int, default=None, metavar="N",
                   help="the smallest count shown (default: the deployment's min_cell)")

    p = sub.add_parser("serve", help="serve the dashboard (streamlit run dashboard.py)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default=None, help="address to listen on (default: 127.0.0.1, this machine only, from .streamlit/config.toml; "
                        "0.0.0.0 listens on every interface: configure sign-in first)")
    return parser


def _demo_parser(sub) -> None:
    p = sub.add_parser("demo", help="build the synthetic demo community")
    _db_arg(p)
    p.add_argument("--csv", type=Path, metavar="DIR", help="also write the import-contract CSV files to DIR")
    p.add_argument("--profile", choices=tuple(demo.PROFILES), default="dense",
                   help="dense (default): about 150 agencies and 150,000 referrals; continuum: an ordinary "
                        "continuum of care, about 60 agencies, 10,000 referrals and 2,000 exits a year")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--referrals", type=int, help="referrals over the three years (default: the profile's)")
    p.add_argument("--agencies", type=int, help="agencies (default: the profile's)")
    p.add_argument("--prepare", action="store_true",
                   help="also work out the board's and funders' protected sets (`prepare`; by default the server "
                        "does it in the background when it starts)")


def _import_parser(sub) -> None:
    p = sub.add_parser("import", help="validate a folder of contract files (or an HSDS directory, or an HMIS "
                                      "export) and load it (all or nothing)")
    p.add_argument("directory", type=Path, metavar="PATH",
                   help="a folder; with --format hmis, the export's zip file or its folder")
    _db_arg(p)
    p.add_argument("--format", choices=("contract", "hsds", "hmis"), default="contract",
                   help="contract files (default), an Open Referral HSDS 3 directory, or a HUD HMIS CSV export")
    p.add_argument("--mapping", type=Path, metavar="FILE",
                   help="with --format hsds or hmis: a mapping file over atlas/ingest/formats/hsds_mapping.toml or "
                        "atlas/ingest/formats/hmis/hmis_mapping.toml")
    p.add_argument("--columns", type=Path, action="append", default=[], metavar="MAPPING",
                   help="a column mapping (.toml, saved on the Data page) for a file of the folder in its own "
                        "columns; repeatable")
    p.add_argument("--append", action="store_true",
                   help="add the files to the current data (rows matched by id) instead of replacing it")
    p.add_argument("--on-conflict", choices=("refuse", "update"), default="refuse",
                   help="with --append, when a file row differs from the stored one: refuse the import "
                        "(default) or let the file's values win")
    p.add_argument("--accept-dropped", action="store_true",
                   help="with --format hmis: import even when more than 5%% of a file's rows are left out")
    p.add_argument("--dropped-report", type=Path, metavar="FILE",
                   help="with --format hmis: write every row left out or read by a rule to FILE (CSV), "
                        "whether the import goes ahead or stops")
    p.add_argument("--prepare", action="store_true",
                   help="then work out the board's and funders' protected sets of every period (`prepare`; by "
                        "default the server does it in the background when it first meets the new data)")


def _query_parsers(sub) -> None:
    p = sub.add_parser("query", help="run a named query and print its result")
    p.add_argument("name")
    _db_arg(p)
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a query parameter (repeatable), e.g. --param start=2024-01-01")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    sub.add_parser("queries", help="list the named queries with their documentation")


def _report_parser(sub) -> None:
    p = sub.add_parser("report", help="write the funder pack (an HTML report, its PDF and a CSV of the tables), "
                                      "or with --board the board pack (HTML and PDF)")
    _db_arg(p)
    p.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="where to write it: FILE.html, FILE.pdf and FILE.csv (any .html/.pdf/.csv suffix is replaced)")
    p.add_argument("--board", action="store_true",
                   help="the board pack: the network maps, scores, formal versus real and partnership quality for "
                        "one whole reporting period, with the board's protections (FILE.html and FILE.pdf)")
    p.add_argument("--period", metavar="LABEL",
                   help="with --board: the reporting period, e.g. '2025 Q3' or '2025' (default: the latest that has "
                        "ended)")
    p.add_argument("--funder", metavar="NAME", help="one funder's programs (programs.funder); default: the whole network")
    p.add_argument("--start", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="first day of the period (default: 12 months before the data's last referral day)")
    p.add_argument("--end", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="last day of the period (default: the data's last referral day)")


def _operations_parsers(sub) -> None:
    """The commands that run a deployment month after month (docs/operations.md)."""
    p = sub.add_parser("refresh", help="import the newest export dropped in INBOX (all or nothing), then move it "
                                       "to INBOX/done/ (or INBOX/failed/ with its report)")
    p.add_argument("inbox", type=Path, metavar="INBOX")
    _db_arg(p)
    p.add_argument("--append", action="store_true", help="add the export to the current data instead of replacing it")
    p.add_argument("--settle", type=float, default=60.0, metavar="SECONDS",
                   help="leave an export changed less than this long ago for the next refresh (default 60)")
    p.add_argument("--no-prepare", action="store_true",
                   help="do not work out the board's and funders' protected sets after the refresh (the server then "
                        "works them out in the background, or run `prepare`)")

    p = sub.add_parser("deliver", help="e-mail the board pack and the funder pack of the last whole reporting "
                                       "period to [delivery] board and funders (once per period)")
    _db_arg(p)
    p.add_argument("--as-of", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="deliver the last whole period that ended before this day (default: today)")
    p.add_argument("--dry-run", action="store_true", help="list what would go to whom, and send nothing")

    p = sub.add_parser("backup", help="a consistent copy of the database and what is kept beside it, into DIR")
    p.add_argument("folder", type=Path, metavar="DIR", help="a new (or empty) folder")
    _db_arg(p)
    p = sub.add_parser("restore", help="bring a backup made by `backup` back as the database (and what is kept "
                                       "beside it)")
    p.add_argument("folder", type=Path, metavar="DIR")
    _db_arg(p)

    p = sub.add_parser("status", help="one line for a monitor: data as of, last refresh, last delivery, size; "
                                      "exit 1 when the last refresh failed or the data is too old")
    _db_arg(p)
    p.add_argument("--max-age", type=int, default=45, metavar="DAYS",
                   help="the data's age (days since its last activity) past which it is a problem (default 45)")


def _bar() -> Progress:
    """A job's progress, drawn on standard error (a bar on a terminal, a line per step in a log)."""
    return Progress(TextBar())


def cmd_demo(args) -> int:
    database = args.db or config.database_path()
    key = config.hmac_key(required=False)
    if key is None:
        # The demo's client ids are invented, so a throwaway key is enough; it is never stored.
        key = secrets.token_hex(32).encode()
        print("No HMAC key configured: the demo's invented client ids are pseudonymised with a one-off key.")
    started = time.perf_counter()
    progress = _bar()
    try:
        tables = demo.generate(seed=args.seed, referrals=args.referrals, agencies=args.agencies,
                               profile=args.profile, progress=progress.part(0.0, 0.3))
    except ValueError as error:  # a size the story cannot be told at
        raise UsageError(str(error)) from None
    files = {name: f"{name} (demo)" for name in tables}
    progress.report(0.3, "Checking the demo's rows against the import contract")
    errors = [p for p in validate.check(tables, files) if p.severity == "error"]
    if errors:  # the generator broke the contract: a bug, reported rather than loaded
        print(format_report(errors), file=sys.stderr)
        return 1
    if args.csv:
        progress.report(0.35, f"Writing the contract files to {args.csv}")
        written = contract_files.write_folder(tables, args.csv)
        print(f"Wrote {len(written)} contract files to {args.csv}")
    counts = importer.build_database(
        tables, database, key, source=f"demo seed={args.seed}", files=files,
        checksum=importer.frames_checksum(tables), progress=progress.part(0.4, 1.0),
        release=True,  # the tables are not needed once written: their memory is free for the model's build
    )
    progress.finish("Built")
    from atlas.survey import demo as survey_demo

    rounds = survey_demo.write(database, args.seed)
    took = time.perf_counter() - started
    print(f"Built demo database {database} in {took:.1f} s: "
          + ", ".join(f"{n:,} {name}" for name, n in counts.items()))
    print("Wrote the demo's closed survey rounds beside it: "
          + ", ".join(f"{r} ({members} members, {rows} answer rows)" for r, members, rows in rounds))
    return _prepare(database) if args.prepare else 0


def cmd_import(args) -> int:
    from atlas.ingest import archive
    from atlas.ingest.formats import columns

    database = args.db or config.database_path()
    mode = "append" if args.append else "replace"
    column_maps, mapping = _import_settings(args)
    try:
        result, report = _import(args, database, mode, mapping, column_maps)
    except archive.ArchiveRefused as refused:
        print(format_report([refused.problem]), file=sys.stderr)
        print(f"\nThe archive was not read. {database} is unchanged.", file=sys.stderr)
        return 1
    except importer.ImportRejected as rejected:
        for column_map in column_maps:
            rejected.problems = columns.located(column_map, rejected.problems, args.directory)
        report = getattr(rejected, "report", None)
        if report is not None:
            print(report.text(), file=sys.stderr)
            print(file=sys.stderr)
            _dropped_report(args, report, sys.stderr)
        print(format_report(rejected.problems), file=sys.stderr)
        print(f"\n{rejected} {database} is unchanged.", file=sys.stderr)
        return 1
    if report is not None:
        print(report.text() + "\n")
        _dropped_report(args, report, sys.stdout)
    if result.warnings:
        print(format_report(result.warnings))
    if not result.written:
        print(f"Nothing new: every row is already in {database}, which is unchanged.")
    elif mode == "append":
        print(f"Added to {database}: " + ", ".join(
            f"{c.added:,} new and {c.updated:,} updated {name}" for name, c in result.changes.items()))
    else:
        print(f"Imported into {database}: "
              + ", ".join(f"{n:,} {name}" for name, n in result.row_counts.items()))
    if not args.prepare:
        # left to the server's background thread by default: at millions of referrals a year's protection takes
        # long, and an interactive import should not hold the terminal for it (the nightly refresh does it)
        print("The board's and funders' protected sets will be worked out by the server in the background, or "
              f"now with `python -m atlas prepare --db {database}`.")
        return 0
    return _prepare(database)


def _dropped_report(args, report, out) -> None:
    """With --dropped-report FILE: every row of an HMIS export left out or read by a rule, written to FILE."""
    if args.dropped_report is not None:
        args.dropped_report.write_bytes(report.affected_csv())
        print(f"Every affected row ({len(report.affected):,}) is listed in {args.dropped_report}.\n", file=out)


def _import_settings(args) -> tuple[list, dict | None]:
    """The import's column mappings and format mapping, loaded; UsageError for a path, option or mapping that
    does not fit the format."""
    from atlas.ingest import archive
    from atlas.ingest.formats import columns, hmis, hsds

    if args.format == "hmis":
        if not args.directory.is_dir() and not archive.is_zip(args.directory):
            raise UsageError(f"{args.directory} is neither the export's zip file nor its folder")
    elif not args.directory.is_dir():
        raise UsageError(f"{args.directory} is not a folder of contract files")
    if args.mapping and args.format == "contract":
        raise UsageError("--mapping is for --format hsds or --format hmis (a column mapping is --columns)")
    if args.columns and args.format != "contract":
        raise UsageError("--columns is for files in your own columns (the default format)")
    if (args.accept_dropped or args.dropped_report) and args.format != "hmis":
        raise UsageError("--accept-dropped and --dropped-report are for --format hmis")
    try:
        column_maps = [columns.ColumnMapping.load(path) for path in args.columns]
    except (OSError, columns.MappingError) as error:
        raise UsageError(f"column mapping: {error}") from None
    formats = {"hsds": hsds, "hmis": hmis}
    try:
        mapping = formats[args.format].load_mapping(args.mapping) if args.format in formats else None
    except (OSError, hsds.MappingError, hmis.MappingError) as error:
        raise UsageError(f"mapping {args.mapping}: {error}") from None
    return column_maps, mapping


def _import(args, database: Path, mode: str, mapping: dict | None, column_maps: list):
    """Import the path of `args` in its format: the result, and the HMIS export's report (else None)."""
    from atlas.ingest.formats import agency_ids, columns, hmis, hsds

    key = config.hmac_key(required=args.format != "hsds")  # a service directory holds no client id to pseudonymise
    if args.format == "hmis":
        return hmis.import_export(args.directory, database, key, mapping=mapping, mode=mode,
                                  on_conflict=args.on_conflict, accept_dropped=args.accept_dropped, progress=_bar())
    if args.format == "hsds":
        return hsds.import_directory(args.directory, database, key, mapping=mapping, mode=mode,
                                     on_conflict=args.on_conflict, progress=_bar()), None
    if column_maps:
        raw, problems = columns.read_folder(args.directory, column_maps,
                                            importer.REQUIRED_FOR_REPLACE if mode == "replace" else (),
                                            agency_ids.stored_agency_ids(database))
        checksum = importer.checksum_files(sorted(p for p in args.directory.iterdir() if p.is_file()
                                                  and not p.name.startswith(".")))
        return importer.import_tables(raw, problems, database, key, mode=mode, on_conflict=args.on_conflict,
                                      source=f"{args.directory} with column mappings "
                                             + ", ".join(p.name for p in args.columns), checksum=checksum,
                                      progress=_bar()), None
    return importer.import_folder(args.directory, database, key, mode=mode, on_conflict=args.on_conflict,
                                  progress=_bar()), None


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param takes KEY=VALUE, not {pair!r}")
        params[key.strip()] = value
    return params


def _json_value(value):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """The frame as JSON-ready records: nulls as None, dates and timestamps as ISO text."""
    columns = list(frame.columns)
    return [
        {c: _json_value(v) for c, v in zip(columns, row)}
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]


def cmd_query(args) -> int:
    named = catalog.get(args.name)
    params = _params(args.param)
    named.bind(params)  # refuse unknown or malformed parameters before opening anything
    with Atlas(args.db or config.database_path()) as db:
        frame = db.query(args.name, **params)
    if args.format == "json":
        print(json.dumps(records(frame), indent=1))
    elif args.format == "csv":
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
    else:
        with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200):
            print(frame.to_string(index=False) if len(frame) else "(no rows)")
    return 0


def cmd_queries(args) -> int:
    print("\n\n".join(q.describe() for q in catalog.catalog().values()))
    return 0


def cmd_upgrade(args) -> int:
    database = args.db or config.database_path()
    if not Path(database).exists():
        raise DatabaseMissing(f"No database at {database}: nothing to upgrade.")
    try:
        Atlas(database).close()  # a damaged file says so (DatabaseUnreadable), instead of a traceback
    except DatabaseOutdated:
        pass  # what an upgrade is for
    if importer.upgrade(database, _bar()):
        print(f"Rebuilt the data model of {database} over its data.")
    else:
        print(f"{database} is up to date.")
    return 0


def cmd_prepare(args) -> int:
    return _prepare(args.db or config.database_path(), args.min_cell)


def _prepare(database: Path, min_cell: int | None = None) -> int:
    """Work out and store the protected sets of every period the board and funders choose (atlas.protection)."""
    from atlas.protection import prepare, store

    min_cell = config.min_cell() if min_cell is None else min_cell
    if min_cell < 1:
        raise UsageError(f"--min-cell must be 1 or more, not {min_cell}")
    started = time.perf_counter()
    print(f"Preparing the board's and funders' protected sets (min_cell {min_cell}), newest first:", flush=True)
    with Atlas(database) as db:
        # stopped once an import swaps in a new file: what it would work out could no longer be stored
        done = prepare.prepare(db, min_cell, say=lambda line: print(line, flush=True), stop=lambda: not db.is_current())
    worked = sum(not p.stored_before for p in done)
    print(f"Prepared {len(done)} sets ({worked} worked out, {len(done) - worked} already stored) in "
          f"{time.perf_counter() - started:.1f} s: {store.store_path(database)}")
    return 0


def cmd_serve(args) -> int:
    """Run Streamlit on dashboard.py in this process.

    Streamlit treats a `pages/` folder beside the entrypoint as a legacy multipage app until the
    entrypoint first calls st.navigation, so on a fresh server a first visit straight to a page URL
    would run that page alone, without the entrypoint's navigation and filters, for every visitor
    after. Our pages/ only holds st.navigation pages; saying so before the server starts avoids that.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli as streamlit_cli

    PagesManager.uses_pages_directory = False
    argv = ["streamlit", "run", str(config.ROOT / "dashboard.py"), "--server.port", str(args.port)]
    if args.address:
        argv += ["--server.address", args.address]
    if os.environ.get("ATLAS_SECRETS"):  # one secrets file for Streamlit (sign-in) and for Atlas (roles, key)
        argv += ["--secrets.files", str(config.secrets_file())]
    sys.argv = argv
    return streamlit_cli.main()


def cmd_report(args) -> int:
    """The funder pack for a period (default: the last 12 months, as the Outcomes page opens) and,
    optionally, one funder; small numbers suppressed at the deployment's threshold."""
    from atlas.filters import Filters, period_bounds
    from atlas.packs import funder as report
    from atlas.views import outcomes

    if args.board:
        return _board_report(args)
    if args.period:
        raise UsageError("--period chooses the board pack's reporting period: use it with --board (the funder "
                         "pack takes --start and --end)")
    started = time.perf_counter()
    with Atlas(args.db or config.database_path()) as db:
        first, last = _referral_days(db)
        start, end = period_bounds("Last 12 months", first, last)
        start, end = args.start or (None if args.end else start), args.end or end
        if start and end and start > end:
            raise UsageError(f"--start {start} is after --end {end}")
        view = outcomes.build(db, Filters(start, end), funder=args.funder, min_cell=config.min_cell())
    if args.funder and view.funder is None:
        import difflib

        close = difflib.get_close_matches(args.funder, view.funders, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UsageError(f"no program funded by {args.funder!r} has exits in {view.filters.describe()}.{hint} "
                         f"Funders with exits: {', '.join(view.funders) or 'none'}")
    try:
        written = report.write(view, args.out)
    except report.ReportError as error:
        raise UsageError(str(error)) from None
    return _written(f"Funder pack for {view.funder or 'the whole network'}, {view.filters.describe()}", written, started)


def _referral_days(db) -> tuple[dt.date, dt.date]:
    """The data's first and last referral day; a database without referrals has nothing to report."""
    extent = db.query("data_extent").iloc[0]
    if pd.isna(extent["first_referral"]):
        raise UsageError("the database holds no referrals: nothing to report")
    first, last = (pd.Timestamp(extent[k]).date() for k in ("first_referral", "last_referral"))
    return first, last


def _written(what: str, written: dict, started: float) -> int:
    print(f"{what} ({time.perf_counter() - started:.1f} s):")
    for path in written.values():
        print(f"  {path}")
    return 0


def _board_report(args) -> int:
    """The board pack for one whole reporting period (calendar quarter or year, as the board's screen)."""
    from atlas.packs import board

    if args.funder or args.start or args.end:
        raise UsageError("a board pack covers one whole reporting period of the whole network: choose it with "
                         "--period (e.g. '2025 Q3'); --funder, --start and --end belong to the funder pack")
    started = time.perf_counter()
    length = config.reporting_period()
    with Atlas(args.db or config.database_path()) as db:
        first, last = _referral_days(db)
        try:
            filters = board.board_period(first, last, length, args.period)
            pack = board.build(db, filters, min_cell=config.min_cell())
            written = board.write(pack, args.out)
        except board.ReportError as error:
            raise UsageError(str(error)) from None
    return _written(f"Board pack for {filters.describe_period()}", written, started)


def cmd_refresh(args) -> int:
    from atlas.ops import refresh

    if not args.inbox.is_dir():
        raise UsageError(f"{args.inbox} is not a folder: give the inbox folder the exports are dropped in")
    database = args.db or config.database_path()
    code = refresh.run(args.inbox, database, mode="append" if args.append else "replace", settle=args.settle,
                       progress=_bar())
    # prepared after every run, not only an import: a set missing (a new release of the protection, a run
    # stopped halfway) is worked out, and one stored already costs a read
    return code if code or args.no_prepare or not Path(database).exists() else _prepare(database)


def cmd_deliver(args) -> int:
    from atlas.ops import deliver

    return deliver.run(args.db or config.database_path(), args.as_of, dry_run=args.dry_run)


def cmd_backup(args) -> int:
    from atlas.ops import backup

    database = args.db or config.database_path()
    try:
        manifest = backup.backup(database, args.folder)
    except backup.BackupError as error:
        raise UsageError(str(error)) from None
    rows = sum(manifest["tables"].values())
    print(f"Backed up {database} ({len(manifest['tables'])} tables, {rows:,} rows) and what is kept beside it "
          f"into {args.folder}: " + ", ".join(manifest["files"]))
    return 0


def cmd_restore(args) -> int:
    from atlas.ops import backup

    database = args.db or config.database_path()
    try:
        manifest, aside = backup.restore(args.folder, database)
    except backup.BackupError as error:
        raise UsageError(str(error)) from None
    beside = ", ".join(name for name in manifest["files"] if name != "atlas.duckdb") or "nothing beside it"
    print(f"Restored the backup of {manifest['made_at']} as {database}, with {beside}.")
    if aside is not None:
        print(f"What was there before is kept in {aside} (delete it once the restore is checked).")
    if manifest.get("model") != catalog.model_fingerprint():
        print(f"The backup was made by another version: run `python -m atlas upgrade --db {database}`.")
    return 0


def cmd_status(args) -> int:
    from atlas.ops import status

    code, line = status.line(args.db or config.database_path(), args.max_age)
    print(line)
    return code


COMMANDS = {"demo": cmd_demo, "import": cmd_import, "query": cmd_query, "queries": cmd_queries,
            "serve": cmd_serve, "report": cmd_report, "upgrade": cmd_upgrade, "prepare": cmd_prepare, "refresh": cmd_refresh,
            "deliver": cmd_deliver, "backup": cmd_backup, "restore": cmd_restore, "status": cmd_status,
            "survey": survey_cli.run}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, survey_cli.SurveyUsage, catalog.QueryError, config.ConfigError, DatabaseMissing,
            DatabaseOutdated, DatabaseUnreadable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0

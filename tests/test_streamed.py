"""Importing in batches (atlas.ingest.streamed): the same problems and the same rows as a whole-file check,
with progress reported all the way.

The files are a generated community written as contract CSV files; the batches are made small (a few
kilobytes) so that every file is read in many of them, and a rule's rows, a repeated key, blank rows and
the rows before a bad one fall in different batches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import TEST_KEY

from atlas import catalog, demo
from atlas.ingest import importer, sources, streamed, validate
from atlas.ingest.contract_files import write_folder
from atlas.ingest.pseudonym import pads, pseudonymise
from atlas.progress import Progress, Step, TextBar

ROOT = Path(__file__).resolve().parent.parent
SMALL_BLOCKS = 8 << 10  # 8 KiB: the referrals file of 3,000 rows is read in about 40 batches


@pytest.fixture(scope="module")
def community(tmp_path_factory) -> Path:
    tables = demo.generate(seed=3, referrals=3_000, agencies=60, regions=3, start=dt.date(2024, 1, 1), months=12)
    folder = tmp_path_factory.mktemp("community")
    write_folder(tables, folder)
    return folder


def whole_file_problems(folder: Path) -> list[validate.Problem]:
    """What checking the files whole finds (`sources.read_folder` and `validate.validate`)."""
    raw, problems = sources.read_folder(folder, required=importer.REQUIRED_FOR_REPLACE)
    return problems + validate.validate(raw)[1]


def as_rows(problems) -> list[tuple]:
    return sorted((p.file, p.row or 0, p.column or "", p.value or "", p.rule, p.message, p.severity, p.count)
                  for p in problems)


def copied(folder: Path, target: Path) -> Path:
    """A copy of the files of `folder` in the new folder `target`."""
    target.mkdir()
    for path in folder.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def spoil(folder: Path, target: Path) -> Path:
    """A copy of the files with problems spread over the referrals and outcomes: 150 dates in a wrong format
    (more than are listed), a referral id repeated 2,000 rows later, an unknown agency, blank rows in the middle
    and at the end, an unknown column, and a decline without its reason."""
    copied(folder, target)
    lines = (folder / "referrals.csv").read_text().splitlines()
    header = lines[0].split(",")
    at = header.index("referred_at")
    for i in range(10, 1_510, 10):
        cells = lines[i].split(",")
        cells[at] = "03/01/2024"
        lines[i] = ",".join(cells)
    lines[2_200] = lines[200].split(",")[0] + "," + ",".join(lines[2_200].split(",")[1:])  # repeats row 200's id
    cells = lines[900].split(",")
    cells[header.index("from_agency_id")] = "A-NOWHERE"
    lines[900] = ",".join(cells)
    declined = next(i for i in range(1, len(lines)) if lines[i].split(",")[header.index("declined_at")])
    cells = lines[declined].split(",")
    cells[header.index("decline_reason")] = ""
    lines[declined] = ",".join(cells)
    lines.insert(1_200, "")
    lines.insert(1_201, ",".join([" "] * len(header)))  # blank cells
    lines += ["", "", ""]
    (target / "referrals.csv").write_text("\n".join(lines) + "\n")
    outcomes = (folder / "outcomes.csv").read_text().splitlines()
    outcomes[0] += ",notes"
    outcomes[1:] = [line + ",x" for line in outcomes[1:]]
    outcomes[5] = outcomes[5].replace(outcomes[5].split(",")[0], "", 1)  # no client id
    (target / "outcomes.csv").write_text("\n".join(outcomes) + "\n")
    return target


def test_a_folder_read_in_batches_gives_the_problems_a_whole_file_check_gives(community, tmp_path):
    folder = spoil(community, tmp_path / "spoilt")
    with pytest.raises(importer.ImportRejected) as rejected:
        streamed.import_folder(folder, tmp_path / "atlas.duckdb", TEST_KEY, block_bytes=SMALL_BLOCKS)
    found = as_rows(rejected.value.problems)
    assert found == as_rows(whole_file_problems(folder))
    rules = {(p.file, p.rule) for p in rejected.value.problems}
    assert {("referrals.csv", "timestamp_format"), ("referrals.csv", "unique"), ("referrals.csv", "reference"),
            ("referrals.csv", "decline_reason_required"), ("outcomes.csv", "unknown_column"),
            ("outcomes.csv", "required"), ("referrals.csv", "required")} <= rules
    counted = [p for p in rejected.value.problems if p.rule == "timestamp_format" and p.count > 1]
    assert len(counted) == 1 and counted[0].count == 50  # 150 rows: 100 listed, 50 counted on one line
    assert not (tmp_path / "atlas.duckdb").exists()
    assert not list(tmp_path.glob(".atlas.duckdb.*.building*"))


def test_rows_written_in_batches_are_those_a_whole_import_writes(community, tmp_path):
    whole, batched = tmp_path / "whole.duckdb", tmp_path / "batched.duckdb"
    raw, problems = sources.read_folder(community)
    tables, found = validate.validate(raw)
    assert not [p for p in problems + found if p.severity == "error"]
    importer.build_database(tables, whole, TEST_KEY, source="whole", files={}, checksum="-")
    result = streamed.import_folder(community, batched, TEST_KEY, block_bytes=SMALL_BLOCKS)
    assert result.row_counts == {name: len(frame) for name, frame in tables.items()}
    con = duckdb.connect()
    con.execute("attach $p as whole (read_only)", {"p": str(whole)})
    con.execute("attach $p as batched (read_only)", {"p": str(batched)})
    for name in tables:
        same = con.execute(f"select count(*) from (select * from whole.{name} except all select * from batched.{name})"
                           ).fetchone()[0] + con.execute(
            f"select count(*) from (select * from batched.{name} except all select * from whole.{name})").fetchone()[0]
        assert same == 0, f"{name} differs"
    facts = con.execute("select count(*) from batched.journey_facts").fetchone()[0]
    assert facts == con.execute("select count(*) from whole.journey_facts").fetchone()[0] > 0
    # the pseudonyms DuckDB wrote are the keyed HMAC of the raw ids
    raw_ids = tables["referrals"].sort_values("referral_id")["client_id"].head(50)
    stored = con.execute("select client_id from batched.referrals order by referral_id limit 50").fetchall()
    assert [s[0] for s in stored] == [hmac.new(TEST_KEY, r.encode(), hashlib.sha256).hexdigest()[:32] for r in raw_ids]


@pytest.mark.parametrize("key", [b"k", TEST_KEY, b"x" * 100])
def test_duckdb_pseudonyms_are_the_python_ones_for_any_key_length_and_text(key):
    ids = pd.Series(["C0000001", "Zoë-7", "  spaced  ", "客户-42", "x" * 300, None], dtype="string")
    con = duckdb.connect()
    con.execute(catalog.ingest_statement("pseudonym"))
    con.register("ids", pd.DataFrame({"id": ids}))
    got = [r[0] for r in con.execute("select pseudonym(id, $inner_pad, $outer_pad) from ids", pads(key)).fetchall()]
    assert got[:-1] == pseudonymise(ids, key).tolist()[:-1] and got[-1] is None


def test_an_import_reports_its_progress_to_the_end(community, tmp_path):
    steps: list[Step] = []
    progress = Progress(steps.append, every=0)
    streamed.import_folder(community, tmp_path / "atlas.duckdb", TEST_KEY, progress=progress,
                           block_bytes=SMALL_BLOCKS)
    done = [s.done for s in steps]
    assert done == sorted(done) and done[-1] == 1.0 and len(steps) > 40
    rows = sum(1 for _ in (community / "referrals.csv").open()) - 1
    reading = [s for s in steps if "referrals.csv" in s.doing]
    assert reading and max(s.rows for s in reading) >= rows
    assert steps[-1].rules == steps[-1].rules_total > 50
    assert any(s.doing.startswith("Building the model") for s in steps)
    assert any(s.left is not None for s in steps[:-1]) and steps[-1].problems == 0


def test_a_rejected_import_counts_the_problems_it_finds(community, tmp_path):
    steps: list[Step] = []
    with pytest.raises(importer.ImportRejected) as rejected:
        streamed.import_folder(spoil(community, tmp_path / "spoilt"), tmp_path / "atlas.duckdb", TEST_KEY,
                               progress=Progress(steps.append, every=0), block_bytes=SMALL_BLOCKS)
    errors = sum(p.count for p in rejected.value.problems if p.severity == "error")
    assert steps[-1].problems == errors and "nothing was imported" in steps[-1].doing
    assert max(s.done for s in steps) < 1


def test_a_bad_row_late_in_a_file_makes_it_unreadable_with_its_row_number(community, tmp_path):
    folder = copied(community, tmp_path / "bad")
    lines = (folder / "referrals.csv").read_text().splitlines()
    lines[2_500] += ",one too many"
    (folder / "referrals.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(importer.ImportRejected) as rejected:
        streamed.import_folder(folder, tmp_path / "atlas.duckdb", TEST_KEY, block_bytes=SMALL_BLOCKS)
    referrals = [p for p in rejected.value.problems if p.file == "referrals.csv"]
    assert [(p.rule, p.row) for p in referrals] == [("field_count", 2_501)]
    assert as_rows(rejected.value.problems) == as_rows(whole_file_problems(folder))


def test_a_windows_1252_file_is_read_whole_with_its_warning(community, tmp_path):
    folder = copied(community, tmp_path / "cp1252")
    # an accented letter in Windows-1252 near the end of a file that is streamed in batches
    lines = (folder / "outcomes.csv").read_text().splitlines()
    cells = lines[-1].split(",")
    cells[lines[0].split(",").index("outcome")] = "Exited to Ma\xefson"
    lines[-1] = ",".join(cells)
    (folder / "outcomes.csv").write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    with pytest.raises(importer.ImportRejected) as rejected:  # that outcome is not an allowed value
        streamed.import_folder(folder, tmp_path / "atlas.duckdb", TEST_KEY, block_bytes=SMALL_BLOCKS)
    mine = [p for p in rejected.value.problems if p.file == "outcomes.csv"]
    assert {p.rule for p in mine} == {"encoding", "enum"}
    assert any("Ma\xefson" in (p.value or "") for p in mine)
    assert as_rows(rejected.value.problems) == as_rows(whole_file_problems(folder))


def test_the_command_line_shows_the_import_progressing(community, tmp_path):
    env = {**os.environ, "ATLAS_HMAC_KEY": TEST_KEY.decode()}
    env.pop("ATLAS_DB", None)
    done = subprocess.run([sys.executable, "-m", "atlas", "import", str(community), "--db", str(tmp_path / "a.duckdb")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert len(lines) >= 3 and lines[-1].startswith(f"[{'#' * TextBar.WIDTH}] 100%")
    assert any("rows read and checked" in line and "rules checked" in line for line in lines)
    assert "Imported into" in done.stdout


def test_a_text_bar_redraws_one_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    bar = TextBar(out)
    bar(Step(0.5, "Reading and checking referrals.csv", rows=1_250_000, rules=10, rules_total=40, elapsed=10))
    bar(Step(1.0, "Imported 2,500,000 rows", elapsed=20))
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "1,250,000 rows read and checked · 10 of 40 rules checked · about 10 s left" in text

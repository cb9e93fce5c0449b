"""The benchmark's data, built once and cached in bench/cache/ (gitignored).

For each scale: a demo database built by the real `python -m atlas demo` (with the same run's
import-contract CSV files, for timing `python -m atlas import`), and Parquet copies of its tables
(what the plain-pandas peer loads, as a naive app would load its data at startup). The dense scales are
the default profile at a size; `continuum` is the demo's other profile at its own size
(`python -m atlas demo --profile continuum`), where most cells a board member or funder sees are small.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
TABLES = ("agencies", "programs", "partnerships", "referrals", "outcomes", "capacity", "needs", "outcome_kinds")


@dataclass(frozen=True)
class Scale:
    label: str  # as given on the command line: 100k, 1m, 10m, continuum
    referrals: int
    agencies: int
    profile: str = "dense"  # the demo's profile (atlas/demo/data/profiles.toml)

    @property
    def dense(self) -> bool:
        return self.profile == "dense"

    @property
    def name(self) -> str:
        return f"demo_{self.agencies}_{self.referrals}" if self.dense else f"{self.profile}_{self.agencies}_{self.referrals}"

    def demo_args(self) -> list[str]:
        """`python -m atlas demo`'s size options for this scale: a profile other than the default is built at its
        own size, as a user would build it."""
        if self.dense:
            return ["--agencies", str(self.agencies), "--referrals", str(self.referrals)]
        return ["--profile", self.profile]

    @property
    def db(self) -> Path:
        return CACHE / f"{self.name}.duckdb"

    @property
    def csv(self) -> Path:
        return CACHE / f"{self.name}_csv"

    @property
    def parquet(self) -> Path:
        return CACHE / f"{self.name}_parquet"


# 5,000 agencies at 1M and 10M (issue 9); 500 at 100k, a county-sized network (at 100k referrals 5,000
# agencies leave most of them without a flow of 5 referrals a year, a case the network page handles very slowly).
# The continuum (issue 30): an ordinary continuum of care at its profile's own size, read from the file the demo
# reads (not from atlas.demo, whose import would load pandas into every process that imports bench.data).
_CONTINUUM = tomllib.loads((ROOT / "atlas" / "demo" / "data" / "profiles.toml").read_text(encoding="utf-8"))["continuum"]
SCALES = {s.label: s for s in (Scale("100k", 100_000, 500), Scale("1m", 1_000_000, 5_000),
                               Scale("10m", 10_000_000, 5_000),
                               Scale("continuum", _CONTINUUM["referrals"], _CONTINUUM["agencies"], "continuum"))}


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


DEMO_SEED = 7  # python -m atlas demo's default, which built the cached databases


def _answers(database: Path) -> Path:
    from atlas.survey.store import answers_path

    return answers_path(database)


def ensure(scale: Scale) -> Scale:
    """Build what is missing for `scale` (database + CSVs, then Parquet) and upgrade the database's model."""
    import fcntl

    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{scale.name}.lock", "w") as lock:  # one builder at a time; others wait for it
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _ensure(scale)


def _ensure(scale: Scale) -> Scale:
    if not (scale.db.exists() and (scale.csv / "referrals.csv").exists()):
        building_db = CACHE / f".{scale.name}.building.duckdb"
        building_csv = CACHE / f".{scale.name}.building_csv"
        building_db.unlink(missing_ok=True)
        shutil.rmtree(building_csv, ignore_errors=True)
        _log(f"building the demo database at {scale.label} (once; cached in {CACHE})")
        subprocess.run([sys.executable, "-m", "atlas", "demo", "--db", str(building_db), "--csv", str(building_csv),
                        *scale.demo_args()], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(scale.csv, ignore_errors=True)
        building_csv.rename(scale.csv)
        building_db.rename(scale.db)
        _answers(building_db).rename(_answers(scale.db))  # the demo's survey rounds, written beside the database
        shutil.rmtree(scale.parquet, ignore_errors=True)
    # a database cached by an earlier version of the data model is rebuilt over the same rows
    subprocess.run([sys.executable, "-m", "atlas", "upgrade", "--db", str(scale.db)], cwd=ROOT, check=True,
                   capture_output=True)
    if not _answers(scale.db).exists():  # cached before the demo wrote survey rounds: the Survey page needs them
        _log(f"writing the demo's survey rounds at {scale.label}")
        from atlas.survey import demo as survey_demo

        survey_demo.write(scale.db, DEMO_SEED)
    missing = [t for t in TABLES if not (scale.parquet / f"{t}.parquet").exists()]
    if missing:
        _log(f"exporting {', '.join(missing)} to Parquet at {scale.label} (for the pandas peer)")
        export_parquet(scale.db, scale.parquet, missing)
    return scale


def export_parquet(database: Path, directory: Path, tables=TABLES) -> Path:
    """Each stored table of the database as `<table>.parquet` in `directory` (each file swapped in whole)."""
    import duckdb

    directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database), read_only=True)
    try:
        for table in tables:
            building = directory / f".{table}.building.parquet"
            con.execute(f"copy (select * from {table}) to '{building}' (format parquet)")
            building.rename(directory / f"{table}.parquet")
    finally:
        con.close()
    return directory


if __name__ == "__main__":  # python -m bench.data 10m: build one scale ahead of a run
    for label in sys.argv[1:] or list(SCALES):
        ensure(SCALES[label])

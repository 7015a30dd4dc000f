"""Splink (Fellegi-Sunter on DuckDB) against the SQL rules of ``transforms.matching``, on the labeled sets.

Both see the same normalized keys (``res_records``: name, street, venue, city keys, postal code, rooftop
coordinates, conference room, audience) and the same blocking (fellowship + one strong key + ±30 min);
Splink learns match weights without labels (u by random sampling, m by EM), the rules are fixed. Splink
is not a project dependency, so this runs in two steps and two environments:

    .venv/bin/python bench/splink_compare.py export /tmp/splink-eval       # project venv
    python3 -m uv venv /tmp/splinkenv
    VIRTUAL_ENV=/tmp/splinkenv python3 -m uv pip install splink duckdb pandas pyarrow
    /tmp/splinkenv/bin/python bench/splink_compare.py compare /tmp/splink-eval
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.evalset import labeled_scores, pairwise  # noqa: E402  (after the path: runs in a bare venv)

LABELS = REPO / "tests" / "fixtures" / "dedup" / "sanjose_2019_2021_labels.csv"
KEY_COLUMNS = ("rid", "source_id", "source_key", "fellowship", "wm", "name_key", "street_key", "house", "venue_key",
               "city_key", "postal", "lat", "lon", "room", "dial_room", "audience")  # fmt: skip
THRESHOLDS = (0.5, 0.9, 0.99, 0.999)


def export(out: Path) -> None:
    """Matching keys, truth and the rules' meeting ids of the perturbed set and of the San Jose pair."""
    from datetime import UTC, datetime

    from bench import evalset
    from foundation.model import FIELD_NAMES
    from tests.transforms import realdata
    from transforms import matching
    from transforms.normalize import normalize
    from transforms.resolve import resolve
    from warehouse.db import migrate

    out.mkdir(parents=True, exist_ok=True)
    versions = normalize(realdata.staging(), realdata.SOURCES).versions
    perturbed = evalset.build(evalset.base_meetings(versions), seed=7).records
    sanjose = duckdb.sql(
        "SELECT *, NULL::VARCHAR AS truth FROM versions WHERE source_id IN ('sanjose-wp', 'sanjose-aa') "
        "QUALIFY row_number() OVER (PARTITION BY source_id, source_key) = 1"
    ).to_arrow_table()
    for name, table in (("perturbed", perturbed), ("sanjose", sanjose)):
        con = duckdb.connect()
        migrate(con)
        con.register("labeled", table)
        con.execute(f"INSERT INTO core.meeting_versions BY NAME SELECT {', '.join(FIELD_NAMES)} FROM labeled")
        con.execute("INSERT INTO ops.source_state (source_id, current_fetch_id) "
                    "SELECT DISTINCT source_id, fetch_id FROM labeled")  # fmt: skip
        sources = [row[0] for row in con.sql("SELECT source_id FROM ops.source_state").fetchall()]
        con.execute("CREATE TEMP VIEW current_versions AS SELECT * FROM core.meeting_versions")
        matching.prepare(con)
        con.execute(f"CREATE TABLE keys AS SELECT {', '.join(KEY_COLUMNS)} FROM res_records")
        resolve(con, sources, datetime(2026, 1, 1, tzinfo=UTC))
        con.sql(
            """SELECT k.*, l.truth, m.meeting_id AS rules_meeting FROM keys k
               JOIN labeled l USING (source_id, source_key)
               JOIN core.meeting_links m USING (source_id, source_key)"""
        ).write_parquet(str(out / f"{name}.parquet"))
        con.close()


def _model(splink: Any) -> tuple[Any, list[str]]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def levels(column: str, label: str, conditions: list[tuple[str, str]]) -> Any:
        return cl.CustomComparison(
            output_column_name=label,
            comparison_levels=[cll.NullLevel(column),
                               *[cll.CustomLevel(sql, name) for sql, name in conditions], cll.ElseLevel()],
        )  # fmt: skip

    dt = "least(abs(wm_l - wm_r), 10080 - abs(wm_l - wm_r))"
    km = ("2 * 6371 * asin(sqrt(pow(sin(radians(lat_r - lat_l) / 2), 2) + cos(radians(lat_l)) * cos(radians(lat_r))"
          " * pow(sin(radians(lon_r - lon_l) / 2), 2)))")  # fmt: skip
    # One place comparison: street, coordinates, postal code and venue agree together, and Fellegi-Sunter
    # would count that one fact several times if they were separate comparisons.
    place = cl.CustomComparison(
        output_column_name="place",
        comparison_levels=[
            cll.CustomLevel("street_key_l IS NULL AND lat_l IS NULL OR street_key_r IS NULL AND lat_r IS NULL",
                            "no place").configure(is_null_level=True),
            cll.CustomLevel("street_key_l = street_key_r", "same street"),
            cll.CustomLevel(f"{km} <= 0.075", "≤ 75 m"),
            cll.CustomLevel("house_l = house_r AND jaro_winkler_similarity(street_key_l, street_key_r) >= 0.9",
                            "similar street"),
            cll.CustomLevel(f"{km} <= 0.3", "≤ 300 m"),
            cll.CustomLevel("jaro_winkler_similarity(venue_key_l, venue_key_r) >= 0.93 AND city_key_l = city_key_r",
                            "same venue name and city"),
            cll.CustomLevel("postal_l = postal_r", "same postal code"),
            cll.ElseLevel(),
        ],
    )  # fmt: skip
    comparisons = [
        cl.JaroWinklerAtThresholds("name_key", [0.97, 0.9, 0.8]).configure(term_frequency_adjustments=True),
        levels("wm", "time", [(f"{dt} = 0", "same time"), (f"{dt} <= 15", "≤ 15 min"), (f"{dt} <= 30", "≤ 30 min")]),
        place,
        levels("room", "conference", [("room_l = room_r", "same room"), ("room_l <> room_r", "other room")]),
        levels("audience", "audience", [("audience_l = audience_r", "same audience")]),
    ]
    window = f"l.fellowship = r.fellowship AND {dt.replace('wm_l', 'l.wm').replace('wm_r', 'r.wm')} <= 30"
    blocking = [f"{window} AND l.{key} = r.{key}" for key in ("room", "dial_room", "postal", "street_key")] + [
        f"{window} AND l.house = r.house AND l.city_key = r.city_key",
        f"{window} AND l.venue_key = r.venue_key AND l.city_key = r.city_key",
        f"{window} AND l.name_key = r.name_key",
    ]
    settings = splink.SettingsCreator(
        link_type="link_only", unique_id_column_name="rid", comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking, retain_matching_columns=False,
    )  # fmt: skip
    return settings, blocking


def splink_clusters(path: Path) -> dict[float, dict[int, int]]:
    """Splink's cluster of every record at each threshold (link_only across sources: no within-source pairs)."""
    import pandas as pd
    import splink
    from splink.backends.duckdb import DuckDBAPI

    frame = pd.read_parquet(path)
    db_api = DuckDBAPI()
    tables = [db_api.register(part.drop(columns=["truth", "rules_meeting"]), dataset_display_name=f"s{i}")
              for i, (_, part) in enumerate(frame.groupby("source_id"))]  # fmt: skip
    settings, _ = _model(splink)
    linker = splink.Linker(tables, settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        ["l.fellowship = r.fellowship AND l.name_key = r.name_key AND l.wm = r.wm AND l.street_key = r.street_key"],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    rules = ["l.street_key = r.street_key AND l.fellowship = r.fellowship", "l.name_key = r.name_key AND l.wm = r.wm"]
    if frame.dropna(subset=["room"])["source_id"].nunique() > 1:
        rules.append("l.room = r.room AND l.wm = r.wm")
    for rule in rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=min(THRESHOLDS))
    out = {}
    for threshold in THRESHOLDS:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
        out[threshold] = dict(clusters.as_pandas_dataframe()[["rid", "cluster_id"]].itertuples(index=False))
    return out


def _scores(frame: Any, cluster_of: dict[int, Any], sanjose: bool) -> dict[str, float]:
    con = duckdb.connect()
    table = frame.assign(predicted=[str(cluster_of.get(r, f"single-{r}")) for r in frame["rid"]])
    con.register("scored", table)
    if not sanjose:
        return pairwise(con, "scored", "predicted")
    pairs = set(
        con.sql(
            """SELECT w.source_key, s.source_key FROM scored w JOIN scored s
               ON s.predicted = w.predicted AND s.source_id = 'sanjose-aa' WHERE w.source_id = 'sanjose-wp'"""
        ).fetchall()
    )
    with LABELS.open(newline="") as f:
        return labeled_scores(pairs, list(csv.DictReader(f)))


def compare(folder: Path) -> None:
    import pandas as pd

    print(f"{'set':<10} {'method':<22} {'P':>7} {'R':>7} {'F1':>7}")
    for name in ("sanjose", "perturbed"):
        frame = pd.read_parquet(folder / f"{name}.parquet")
        results = {"SQL rules": _scores(frame, dict(zip(frame["rid"], frame["rules_meeting"], strict=True)),
                                        name == "sanjose")}  # fmt: skip
        for threshold, cluster_of in splink_clusters(folder / f"{name}.parquet").items():
            results[f"Splink p ≥ {threshold}"] = _scores(frame, cluster_of, name == "sanjose")
        for method, s in results.items():
            f1 = 2 * s["precision"] * s["recall"] / (s["precision"] + s["recall"] or 1)
            print(f"{name:<10} {method:<22} {s['precision']:>7.4f} {s['recall']:>7.4f} {f1:>7.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("export", "compare"))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    export(args.folder) if args.step == "export" else compare(args.folder)


if __name__ == "__main__":
    main()

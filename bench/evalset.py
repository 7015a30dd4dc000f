"""A labeled evaluation set for resolution, built from real meetings (``make bench-dedupe``, tests).

Real normalized meetings are the truth: each is one entity. A share of them is re-published through
perturbed overlapping sources, the way an intergroup's meetings reappear in a district site and a national
finder: other slugs, "St"/"Street" and "Saint"/"St." spellings, typos, a unit or room number, missing or
re-geocoded coordinates, missing postal codes, start times a few minutes off, other end times, dropped or
shuffled types, Zoom links without the password or dropped for the phone number, other update stamps.
Hard negatives are added as entities of their own, each next to a real meeting it must not join: same
venue and day at another time, the same name on another day, the same name an hour later, another
fellowship at the same place and time, another meeting in the same room at the same time, the same Zoom
room at another time, the same name at another venue of the city.

The set is made of canonical rows (what resolution reads): time-format variants ("7 PM", "19:00:00") are
normalization's to undo, so here they appear as what survives it — minutes of difference and other end
times. Everything is seeded: the same base and seed give the same set.
"""

from __future__ import annotations

import csv
import hashlib
import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from foundation.model import FIELD_NAMES
from transforms.matching import street_key_sql
from transforms.refdata import data_rows

REPUBLISHERS = (("district", 0.35, 1.0), ("finder", 0.25, 2.0))
"""(suffix, share of the base source's meetings re-published, perturbation strength)."""
HARD_NEGATIVE_SHARE = 0.03
"""Per kind of hard negative, the share of base meetings that get one."""
BASE_EXCLUDED = ("sanjose-wp", "nepa-aa-2022", "sanjose-template")
"""Real files that are earlier editions of another base source: their meetings are not distinct entities."""


@dataclass(frozen=True)
class EvalSet:
    records: pa.Table
    """Canonical versions (``foundation.model.FIELD_NAMES``) plus ``truth``: same truth = same meeting."""


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()


@cache
def _expansions() -> dict[str, list[str]]:
    """USPS abbreviation → the words sources spell out ("st" → ["street", "str"])."""
    spelled: dict[str, list[str]] = {}
    for row in data_rows("street_abbreviations.csv"):
        if row["word"] != row["abbreviation"].lower() and len(row["word"]) > 2:
            spelled.setdefault(row["abbreviation"].lower(), []).append(row["word"])
    return spelled


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.5 else w[:j] + w[j + 1 :]
    return " ".join(words)


def _spell_out(rng: random.Random, street: str) -> str:
    words = street.split(" ")
    for i, w in enumerate(words):
        options = _expansions().get(w.lower().rstrip("."))
        if options and i > 0 and rng.random() < 0.7:
            words[i] = rng.choice(options).title()
    return " ".join(words)


_NAME_VARIANTS: tuple[tuple[str, str], ...] = (
    (r"\bSaint\b", "St."), (r"\bSt\.? ", "Saint "), (r" and ", " & "), (r" & ", " and "),
    (r"\bMeeting\b", "Mtg"), (r"\bGroup\b", "Grp"), (r"^The ", ""), (r"\bStep\b", "Steps"),
)  # fmt: skip


def _name(rng: random.Random, name: str, strength: float) -> str:
    variants = [(pattern, replacement) for pattern, replacement in _NAME_VARIANTS if re.search(pattern, name)]
    if variants and rng.random() < 0.5 * strength:
        pattern, replacement = rng.choice(variants)
        name = re.sub(pattern, replacement, name, count=1)
    roll = rng.random()
    if roll < 0.1 * strength:
        name = _typo(rng, name)
    elif roll < 0.15 * strength:
        name = name.upper()
    elif roll < 0.22 * strength and not name.endswith("Group"):
        name += " Group"
    return name


def _shift_m(rng: random.Random, lat: float, lon: float, low: float, high: float) -> tuple[float, float]:
    distance, bearing = rng.uniform(low, high), rng.uniform(0, 2 * math.pi)
    return (
        lat + distance * math.cos(bearing) / 111_320,
        lon + distance * math.sin(bearing) / (111_320 * max(0.2, math.cos(math.radians(lat)))),
    )


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _at(minutes: int) -> time:
    minutes %= 1440
    return time(minutes // 60, minutes % 60)


def perturb(rng: random.Random, row: dict[str, Any], strength: float) -> dict[str, Any]:
    """The same meeting as another site would list it."""
    r = dict(row)
    p = min(1.0, strength)
    r["name"] = _name(rng, r["name"], strength)
    if r["venue_name"]:
        if rng.random() < 0.3 * p:
            r["venue_name"] = re.sub(r"\bSt\.? ", "Saint ", r["venue_name"]) if "St" in r["venue_name"] else (
                re.sub(r"\bSaint\b", "St.", r["venue_name"]))  # fmt: skip
        if rng.random() < 0.08 * p:
            r["venue_name"] = None
    if r["address_line"]:
        if rng.random() < 0.5 * p:
            r["address_line"] = _spell_out(rng, r["address_line"])
        if rng.random() < 0.1 * p:
            r["address_line"] += rng.choice([" #2", ", Room 8", " Suite 100", ", Bldg K"])
        if rng.random() < 0.05 * p:
            r["address_line"] = _typo(rng, r["address_line"])
    if r["city"] and rng.random() < 0.1 * p:
        r["city"] = r["city"].upper()
    if r["postal_code"] and rng.random() < 0.1 * p:
        r["postal_code"] = None
    if r["latitude"] is not None:
        roll = rng.random()
        if roll < 0.25 * p and r["address_line"]:
            r["latitude"] = r["longitude"] = None
            r["geo_precision"] = "none"
        elif roll < 0.6 * p:
            r["latitude"], r["longitude"] = _shift_m(rng, r["latitude"], r["longitude"], 5, 60)
    start = _minutes(r["start_time"])
    if rng.random() < 0.08 * p:
        start += rng.choice([-15, -10, -5, 5, 10, 15])
        r["weekday"] = (r["weekday"] - 1 + start // 1440) % 7 + 1
        r["start_time"] = _at(start)
    if rng.random() < 0.3 * p:
        r["duration_min"] = rng.choice([60, 75, 90])
    r["end_time"] = _at(start + (r["duration_min"] or 60))
    types = list(r["types"] or [])
    rng.shuffle(types)
    if types and rng.random() < 0.3 * p:
        types.pop()
    r["types"] = types
    r["source_types"] = list(types)
    if r["conference_id"]:
        roll = rng.random()
        if roll < 0.08 * p and r["conference_phone"]:
            r["conference_url"] = r["conference_provider"] = r["conference_id"] = None
        elif roll < 0.4 * p:
            r["conference_url"] = (r["conference_url"] or "").split("?")[0] or None
    if rng.random() < 0.5 * p:
        r["notes"] = None
    r["source_updated_at"] = datetime(2020, 1, 1) + timedelta(days=rng.randrange(2000))
    return r


_STOPWORDS = frozenset({"the", "a", "an", "of", "and", "group", "grp", "meeting", "mtg", "aa", "na"})


def _tokens(text: str | None) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", (text or "").lower())) - _STOPWORDS


def _other_name(rng: random.Random, pool: list[dict[str, Any]], row: dict[str, Any]) -> str | None:
    """The name of another real meeting of the source sharing no word with this one's (unambiguous)."""
    mine = _tokens(row["name"])
    for _ in range(50):
        other = rng.choice(pool)["name"]
        if _tokens(other) and not _tokens(other) & mine:
            return other
    return None


class _Slots:
    """Where and when the base meetings are, to keep a hard negative from being a real meeting's twin."""

    def __init__(self, rows: list[dict[str, Any]]):
        self._at: dict[tuple[Any, ...], list[tuple[int, frozenset[str]]]] = {}
        for r in rows:
            for key in self._keys(r):
                self._at.setdefault(key, []).append((_minutes(r["start_time"]), _tokens(r["name"])))

    @staticmethod
    def _keys(r: dict[str, Any]) -> list[tuple[Any, ...]]:
        street = " ".join(re.findall(r"[a-z0-9]+", re.split(r"[,#]", (r["address_line"] or "").lower())[0]))
        keys = [(r["fellowship"], r["weekday"], "street", street)] if street else []
        return keys + ([(r["fellowship"], r["weekday"], "room", r["conference_id"])] if r["conference_id"] else [])

    def taken(self, r: dict[str, Any]) -> bool:
        """Within 30 min on that day, the Zoom room is in use, or a meeting at the street shares a name word."""
        start, words = _minutes(r["start_time"]), _tokens(r["name"])
        return any(
            min(abs(start - m), 1440 - abs(start - m)) <= 30 and (key[2] == "room" or words & other or not words)
            for key in self._keys(r)
            for m, other in self._at.get(key, [])
        )


def _hard_negatives(
    rng: random.Random, row: dict[str, Any], pool: list[dict[str, Any]], slots: _Slots
) -> list[dict[str, Any]]:
    """Meetings that share a place, a time, a name or a Zoom room with ``row`` and are not it."""
    start = _minutes(row["start_time"])
    offline = {"conference_url": None, "conference_provider": None, "conference_id": None, "conference_phone": None}
    placed = row["address_line"] is not None and row["attendance"] != "online"
    other = _other_name(rng, pool, row)
    kinds: dict[str, Any] = {
        "same_venue_other_time": placed and other and {
            **offline, "name": other, "start_time": _at(start + rng.choice([-120, -90, -60, -45, 45, 60, 90, 120]))},
        "same_name_other_day": placed and {**offline, "weekday": row["weekday"] % 7 + 1},
        "same_name_later": placed and {**offline, "start_time": _at(start + rng.choice([60, 90, 120, 180]))},
        "other_fellowship_same_slot": placed and {
            **offline, "fellowship": rng.choice([f for f in ("NA", "AL-ANON", "CA", "OA") if f != row["fellowship"]])},
        "same_room_same_slot": placed and other and {**offline, "name": other, "types": ["women"]},
        "same_zoom_other_time": row["conference_id"] and other and {
            "name": other, "start_time": _at(start + rng.choice([60, 90, 120, 180]))},
        "same_name_other_venue": placed and row["latitude"] is not None and {
            **offline, "venue_name": "Community Hall", "address_line": f"{rng.randrange(100, 9999)} Elm St",
            "postal_code": None,
            **dict(zip(("latitude", "longitude"), _shift_m(rng, row["latitude"], row["longitude"], 1500, 6000),
                       strict=True))},
    }  # fmt: skip
    out = []
    for kind, changes in kinds.items():
        if changes and rng.random() < HARD_NEGATIVE_SHARE:
            negative = {**row, **changes, "notes": None, "_kind": kind}
            negative["end_time"] = _at(_minutes(negative["start_time"]) + (negative["duration_min"] or 60))
            if not slots.taken(negative):
                out.append(negative)
    return out


def base_meetings(versions: pa.Table) -> pa.Table:
    """Distinct real meetings with their ``entity_key``.

    Real feeds list some meetings twice (a typo fixed in one copy, a second slug, the same Zoom room in two
    intergroups' feeds): such copies would be true matches labeled as different meetings. The base keeps
    one record per source, weekday, 30-minute window and place (normalized street or conference id), and
    one per conference id and time across sources; earlier editions of a source are left out.
    """
    con = duckdb.connect()
    try:
        con.register("v", versions)
        con.execute(
            f"""
            CREATE TABLE base AS
            SELECT *, {street_key_sql("address_line")} AS street,
                   (weekday - 1) * 1440 + hour(start_time) * 60 + minute(start_time) AS wm
            FROM v WHERE source_id NOT IN ({", ".join(repr(s) for s in BASE_EXCLUDED)})
            QUALIFY row_number() OVER (PARTITION BY source_id, source_key ORDER BY fetch_id) = 1
            """
        )
        return con.sql(
            """
            SELECT * EXCLUDE (street, wm), source_key AS entity_key FROM base b
            WHERE NOT EXISTS (
                SELECT 1 FROM base o
                WHERE (o.source_id, o.source_key) < (b.source_id, b.source_key)
                  AND least(abs(o.wm - b.wm), 10080 - abs(o.wm - b.wm)) <= 30
                  AND ((o.source_id = b.source_id
                        AND (o.street = b.street OR (abs(o.latitude - b.latitude) < 0.0015
                                                     AND abs(o.longitude - b.longitude) < 0.0015)))
                       OR (o.conference_id = b.conference_id AND o.conference_provider = b.conference_provider)))
            ORDER BY source_id, source_key
            """
        ).to_arrow_table()
    finally:
        con.close()


def build(base: pa.Table, seed: int = 7) -> EvalSet:
    """Base meetings plus their perturbed re-publications and hard negatives."""
    rng = random.Random(seed)
    rows = base.to_pylist()
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        row["truth"] = f"{row['source_id']}/{row.pop('entity_key')}"
        by_source.setdefault(row["source_id"], []).append(row)
    out = list(rows)
    slots = _Slots(rows)
    for source_id, pool in sorted(by_source.items()):
        for suffix, share, strength in REPUBLISHERS:
            derived = f"{source_id}-{suffix}"
            for row in pool:
                if rng.random() < share:
                    out.append(_republished(rng, perturb(rng, row, strength), derived, row["truth"]))
        for row in pool:
            for negative in _hard_negatives(rng, row, pool, slots):
                republisher = f"{source_id}-{rng.choice(REPUBLISHERS)[0]}"
                entity = f"{negative.pop('_kind')}/{_digest(row['truth'], len(out))[:12]}"
                out.append(_republished(rng, perturb(rng, negative, 0.5), republisher, entity))
    return EvalSet(pa.Table.from_pylist(out, schema=_schema(base)))


def _republished(rng: random.Random, row: dict[str, Any], source_id: str, entity: str) -> dict[str, Any]:
    key = _digest(source_id, entity, rng.random())
    return {
        **row,
        "source_id": source_id,
        "source_key": f"m{int(key[:8], 16)}" if source_id.endswith("finder") else f"d-{key[:10]}",
        "fetch_id": f"{source_id}@eval",
        "source_url": None,
        "record_hash": key,
        "truth": entity,
    }


def _schema(base: pa.Table) -> pa.Schema:
    fields = [base.schema.field(name) for name in FIELD_NAMES]
    return pa.schema([*fields, pa.field("truth", pa.string())])


REPLICA_SQL = """
SELECT * REPLACE (
    CASE WHEN r = 0 THEN source_id ELSE source_id || '~' || r END AS source_id,
    CASE WHEN r = 0 THEN fetch_id ELSE fetch_id || '~' || r END AS fetch_id,
    CASE WHEN r = 0 THEN postal_code ELSE r || '-' || postal_code END AS postal_code,
    CASE WHEN r = 0 THEN address_line WHEN regexp_matches(address_line, '^[0-9]')
         THEN regexp_replace(address_line, '^([0-9]+)', r || '0\\1') ELSE r || ' ' || address_line END AS address_line,
    CASE WHEN r = 0 THEN city ELSE city || ' ' || r END AS city,
    CASE WHEN r = 0 THEN venue_name ELSE venue_name || ' ' || r END AS venue_name,
    CASE WHEN r = 0 OR address_line IS NOT NULL THEN name ELSE 'Region ' || r || ' ' || name END AS name,
    latitude + (r % 40) * 0.37 AS latitude,
    longitude + (r // 40) * 0.53 AS longitude,
    CASE WHEN r = 0 THEN conference_id ELSE conference_id || r END AS conference_id,
    CASE WHEN r = 0 THEN conference_phone
         ELSE regexp_replace(conference_phone, '([,;]+)[0-9]{3}', '\1' || (100 + r)) END AS conference_phone,
    CASE WHEN r = 0 THEN truth ELSE truth || '~' || r END AS truth
)
FROM evalset, range($copies) AS t(r)
"""


def replicate(evalset: EvalSet, copies: int) -> EvalSet:
    """``copies`` disjoint copies of the set, as if the same mix of sources existed in other regions.

    Each copy gets its own sources, postal codes, house numbers, cities, coordinates and Zoom ids; names
    of meetings with a street stay (real names repeat from region to region), names of meetings without
    one get "Region <copy>" in front (a copy of an online meeting with no place is not another meeting otherwise).
    Used to measure resolution at 100k and 1M records.
    """
    con = duckdb.connect()
    try:
        con.register("evalset", evalset.records)
        return EvalSet(con.sql(REPLICA_SQL, params={"copies": copies}).to_arrow_table())
    finally:
        con.close()


def pairwise(con: duckdb.DuckDBPyConnection, table: str, predicted: str, entity: str = "truth") -> dict[str, float]:
    """Pairwise precision, recall and F1 of the ``predicted`` clusters against ``entity`` (the true meeting)."""
    tp, pred, true = con.sql(
        f"""
        SELECT (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) n FROM {table}
                                                             GROUP BY {predicted}, {entity})),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) n FROM {table} GROUP BY {predicted})),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) n FROM {table} GROUP BY {entity}))
        """
    ).fetchall()[0]
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": int(true), "predicted_pairs": int(pred),
            "correct_pairs": int(tp)}  # fmt: skip


def labeled_scores(predicted: set[tuple[str, str]], labels: list[dict[str, str]]) -> dict[str, float]:
    """Precision and recall of predicted (left key, right key) pairs against hand labels of a sample.

    ``labels``: rows of ``tests/fixtures/dedup/sanjose_2019_2021_labels.csv`` (``wp_key``, ``sheets_key``,
    ``label``). Pairs of sampled left records count; ``unsure`` pairs count neither way; a predicted pair of
    a sampled record that is not labeled ``match`` is a false positive.
    """
    sample = {row["wp_key"] for row in labels}
    truth = {(row["wp_key"], row["sheets_key"]) for row in labels if row["label"] == "match"}
    unsure = {(row["wp_key"], row["sheets_key"]) for row in labels if row["label"] == "unsure"}
    judged = {pair for pair in predicted if pair[0] in sample and pair not in unsure}
    correct = len(judged & truth)
    return {
        "precision": correct / len(judged) if judged else 1.0,
        "recall": correct / len(truth) if truth else 1.0,
        "predicted_pairs": len(judged),
        "true_pairs": len(truth),
        "unsure_merged": len({pair for pair in predicted if pair in unsure}),
    }


REAL_PAIRS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dedup" / "demo_real_pairs.csv"
"""The labelled real pairs of the demo data (``bench/label_real_pairs.py`` says how they were labelled)."""


def real_pairs() -> list[dict[str, str]]:
    with REAL_PAIRS.open(newline="") as f:
        return list(csv.DictReader(f))


def real_pair_scores(labels: list[dict[str, str]], meeting_of: dict[str, str]) -> dict[str, Any]:
    """Pairwise precision and recall of a resolution on the labelled real pairs.

    ``meeting_of``: ``"source_id/source_key"`` → meeting id. ``unsure`` pairs count neither way; a pair whose
    listing is no longer current counts as not merged. Also: hard negatives merged, and recall per source pair.
    """
    merged = correct = true = hard = 0
    per_pair: dict[str, list[int]] = {}
    for row in labels:
        if row["decision"] == "unsure":
            continue
        a, b = meeting_of.get(row["a"]), meeting_of.get(row["b"])
        together = a is not None and a == b
        if row["decision"] == "match":
            key = " ↔ ".join(sorted({row["a"].split("/", 1)[0], row["b"].split("/", 1)[0]}))
            counts = per_pair.setdefault(key, [0, 0])
            counts[1] += 1
            true += 1
            if together:
                counts[0] += 1
                correct += 1
        if together:
            merged += 1
            hard += row["decision"] == "no_match" and row["kind"] == "hard_negative"
    return {
        "precision": correct / merged if merged else 1.0,
        "recall": correct / true if true else 1.0,
        "true_pairs": true,
        "merged_pairs": merged,
        "hard_negatives_merged": hard,
        "recall_by_source_pair": {k: (v[0], v[1]) for k, v in sorted(per_pair.items())},
    }

"""Which source records describe the same real meeting: keys, blocking, scoring and rules, set-based in DuckDB.

Every step is one SQL statement over all records, so a million records cost seconds, not a Python loop per
pair. Blocking joins records that share a strong key — conference id (or the meeting id dialled after a
Zoom number), postal code, normalized street, house number and locality, venue name and locality, street name
and a distinctive meeting name, a ~1 km cell of rooftop coordinates, an identifier that travels between
sources (NA World Services' group id, a Meeting Guide slug), or for meetings with no place their exact name
when it is distinctive — within the same fellowship and ±30 minutes of the week. Many listings have no ZIP
code and no coordinates, and name the city differently ("Manhattan" for "New York"): the locality of a US
listing is the Postal Service's name for its city (``gazetteer.postal_city``), else its city as written.
Scoring compares name, venue, street, distance, time and types;
explicit rules decide, because a false merge hides a meeting from someone looking for help (the dedup
traps):

- different fellowships never meet (fellowship is part of every blocking key);
- one source lists a meeting once: two records of the same source never match, unless the source lists one
  meeting twice — the same ``record_hash``, the same group id (world id) on the same day within 30 minutes,
  or the same everything (time, place, venue, types, languages, attendance, conference, notes, and the name or
  one name inside the other — "Uno y los que Siguen" and "Grupo Uno y los que Siguen"): ``duplicate_listing``
  edges, which publish one meeting and are counted on the source's report line; concurrent meetings of one
  group at one place (a beginners' meeting beside the main one) differ in their formats or notes and stay;
- the same church hosts many meetings: a shared place needs the time to agree (±15–30 min) *and* the name
  (a listing's group name stands for its name when the two names are alike: "Citikorp" of the "CITY GROUP");
  a street name without the house number needs the locality, the same minute and a distinctive, equal name;
- identifiers that travel: the same world id on the same day within 15 minutes is one meeting; the same slug
  (two feeds of one intergroup) within 15 minutes at the same place, venue or locality, or 30 at one place —
  never for meetings without a place (other intergroups' online meetings share generic slugs);
- online meetings match on the conference id, which also vetoes a match when both ids differ.

``explain_pairs`` answers for one pair what blocking, the comparisons, the vetoes and the rules say.
"""

from __future__ import annotations

import sys
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from foundation.versions import files_digest
from transforms.gazetteer import postal_city
from transforms.refdata import data_rows

MAX_DT_MIN = 30
"""Widest start-time difference two listings of one meeting may have (sources disagree by 15–30 min)."""
WEEK_MIN = 7 * 1440
BUCKET_MIN = MAX_DT_MIN
GEO_CELL_DEG = 0.01
"""Blocking grid (~1 km cells) of rooftop coordinates: finds listings whose postal code and street both differ."""
NEAR_M = 75
"""Two rooftop coordinates this close are the same building (geocoders differ by tens of metres)."""
AROUND_M = 300
"""Within this distance, the same name at the same minute is the same meeting (a re-geocoded address)."""
FAR_M = 1000
"""The same street line this far apart, or in another city without the same postal code, is another town's."""
GROUP_NAME_JW = 0.7
"""A listing's group name equal to the other's meeting name stands for the name only when the two names are
alike this much (NY Intergroup's page: "Citikorp" of the "CITY GROUP"); a group's other meeting in the same
room at the same time has a name of its own."""
DISTINCT_NAME_MAX_TIMES = 7
"""A name held at more distinct week times than a daily meeting has is generic ("Big Book Study")."""

_EXTRA_WORDS = {
    "saint": "st", "mount": "mt", "fort": "ft", "and": "", "the": "",
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
    "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th", "eleventh": "11th",
    "twelfth": "12th",
}  # fmt: skip
_MEN = ("men", "man", "guys", "brothers", "dudes", "hombres", "gentlemen")
_WOMEN = ("women", "woman", "ladies", "sisters", "gals", "mujeres", "diva")
_NAME_WORDS = {"mtg": "meeting", "grp": "group", "saint": "st", "steps": "step", "mens": "men", "womens": "women"}
_NAME_STOPWORDS = ("the", "a", "an", "of", "and", "group", "grp", "meeting", "mtg", "aa", "na",
                   "in person", "online", "hybrid", "virtual", "zoom")  # fmt: skip


@cache
def _word_map() -> str:
    """A DuckDB MAP literal: street words → the abbreviation both sides of a comparison use."""
    words = {r["word"]: r["abbreviation"].lower() for r in data_rows("street_abbreviations.csv")}
    words.update(_EXTRA_WORDS)
    return "MAP {" + ", ".join(f"'{w}': '{a}'" for w, a in sorted(words.items())) + "}"


def _clean(expr: str) -> str:
    """Lower case, no accents, apostrophes dropped (O'Connor = OConnor), other punctuation → one space."""
    text = f"regexp_replace(lower(strip_accents({expr})), '[\u2019\u2018\uff07`''.]', '', 'g')"
    text = f"regexp_replace({text}, '([0-9])-([0-9])', '\\1\\2', 'g')"
    return f"trim(regexp_replace(replace({text}, '&', ' and '), '[^a-z0-9]+', ' ', 'g'))"


def _mapped(expr: str, words: str | None = None) -> str:
    return (
        f"nullif(trim(regexp_replace(array_to_string(list_transform(string_split({expr}, ' '), "
        f"lambda w: coalesce({words or _word_map()}[w], w)), ' '), '\\s+', ' ', 'g')), '')"
    )


def street_key_sql(expr: str) -> str:
    """Street line → matching key: unit, floor and room dropped, suffixes/directionals/ordinals abbreviated.

    "1555 South Seventh Street, Bldg K" and "1555 S 7th St" give the same key.
    """
    unitless = (
        f"regexp_replace(lower({expr}), '\\s*(,|#|\\b(apt|suite|ste|unit|rm|room|bldg|building|fl|floor|"
        f"lot|space|lower level|upstairs|downstairs|basement)\\b).*$', '')"
    )
    return _mapped(_clean(unitless))


def venue_key_sql(expr: str) -> str:
    return _mapped(_clean(expr))


def name_key_sql(expr: str) -> str:
    """Meeting name → matching key: stop words ("the", "group", "meeting", "AA") dropped unless nothing is left."""
    stop = "|".join(_NAME_STOPWORDS)
    words = "MAP {" + ", ".join(f"'{w}': '{a}'" for w, a in sorted(_NAME_WORDS.items())) + "}"
    full = _mapped(_clean(expr), words)
    stripped = f"trim(regexp_replace(regexp_replace({full}, '\\b({stop})\\b', ' ', 'g'), '\\s+', ' ', 'g'))"
    return f"coalesce(nullif({stripped}, ''), {full})"


def _has_any(tokens: str, words: tuple[str, ...]) -> str:
    return f"list_has_any({tokens}, [{', '.join(repr(w) for w in words)}])"


VERSIONS_SQL = """
CREATE OR REPLACE TEMP TABLE res_versions AS
SELECT row_number() OVER (ORDER BY v.source_id, v.source_key)::INTEGER - 1 AS rid, s.src, v.*
FROM current_versions v
JOIN (SELECT source_id, row_number() OVER (ORDER BY source_id)::INTEGER - 1 AS src
      FROM (SELECT DISTINCT source_id FROM current_versions)) s USING (source_id)
"""

# Keys are computed once per distinct value (names, streets and venues repeat across days and sources).
RECORDS_SQL = """
CREATE OR REPLACE TEMP TABLE res_records AS
WITH names AS (
    SELECT name, coalesce({name_key}, '') AS name_key FROM (SELECT DISTINCT name FROM res_versions)
), groups AS (
    SELECT group_name, {group_key} AS group_key FROM (SELECT DISTINCT group_name FROM res_versions)
), streets AS (
    SELECT address_line, {street_key} AS street_key FROM (SELECT DISTINCT address_line FROM res_versions)
), venues AS (
    SELECT venue_name, {venue_key} AS venue_key FROM (SELECT DISTINCT venue_name FROM res_versions)
), cities AS (
    SELECT l.city, l.region_code, l.country, coalesce(l.locality, nullif({city_key}, '')) AS city_key
    FROM res_localities l
), base AS (
    SELECT v.rid, v.src, v.source_id, v.source_key, v.fellowship, v.record_hash, v.attendance,
           ((v.weekday - 1) * 1440 + hour(v.start_time) * 60 + minute(v.start_time))::INTEGER AS wm,
           n.name_key, nullif(g.group_key, n.name_key) AS group_key, s.street_key, u.venue_key, c.city_key,
           nullif(trim(v.postal_code), '') AS postal,
           coalesce(v.country, '') AS country,
           v.region_code, v.timezone, w.world_id,
           hash(v.notes, v.location_notes, v.frequency, v.weeks_of_month) AS detail_hash,
           CASE WHEN regexp_full_match(v.source_key, '{slug}') AND NOT regexp_full_match(v.source_key, '{hashed}')
                THEN regexp_replace(v.source_key, '-[0-9]+$', '') END AS slug,
           CASE WHEN v.geo_precision = 'rooftop' AND v.attendance <> 'online'
                     AND (v.address_line IS NOT NULL OR v.venue_name IS NOT NULL) THEN v.latitude END AS lat,
           CASE WHEN v.geo_precision = 'rooftop' AND v.attendance <> 'online'
                     AND (v.address_line IS NOT NULL OR v.venue_name IS NOT NULL) THEN v.longitude END AS lon,
           v.conference_provider || ':' || v.conference_id AS room,
           'zoom:' || nullif(regexp_extract(v.conference_phone, '^[+0-9]+[,;]+([0-9]{{9,11}})#', 1), '') AS dial_room,
           coalesce(v.types, []) AS types,
           coalesce(v.languages, []) AS languages
    FROM res_versions v
    JOIN names n ON n.name IS NOT DISTINCT FROM v.name
    JOIN groups g ON g.group_name IS NOT DISTINCT FROM v.group_name
    JOIN streets s ON s.address_line IS NOT DISTINCT FROM v.address_line
    JOIN venues u ON u.venue_name IS NOT DISTINCT FROM v.venue_name
    JOIN cities c ON c.city IS NOT DISTINCT FROM v.city AND c.region_code IS NOT DISTINCT FROM v.region_code
                 AND c.country IS NOT DISTINCT FROM v.country
    LEFT JOIN res_world_ids w ON w.fetch_id = v.fetch_id AND w.source_key = v.source_key
), distinct_names AS (
    SELECT fellowship, name_key, count(DISTINCT wm) <= {distinct_times} AS distinct_name
    FROM base GROUP BY fellowship, name_key
)
SELECT b.*,
       list_distinct(string_split(b.name_key, ' ')) AS name_tokens,
       list_sort(list_distinct(regexp_extract_all(b.name_key, '[0-9]+'))) AS name_numbers,
       regexp_extract(b.street_key, '^([0-9]+)', 1) AS house,
       nullif(regexp_replace(b.street_key, '^[0-9]+[a-z]? ', ''), b.street_key) AS street_name,
       b.street_key IS NOT NULL OR b.lat IS NOT NULL AS has_place,
       CASE WHEN (list_contains(b.types, 'men') OR {men}) AND NOT (list_contains(b.types, 'women') OR {women})
            THEN 'men'
            WHEN (list_contains(b.types, 'women') OR {women}) AND NOT (list_contains(b.types, 'men') OR {men})
            THEN 'women' END AS audience,
       d.distinct_name
FROM base b JOIN distinct_names d ON d.fellowship IS NOT DISTINCT FROM b.fellowship AND d.name_key = b.name_key
"""

KEY_TEXT_SQL = """
SELECT rid, src, wm, fellowship, 'c:' || room AS k FROM res_records WHERE room IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'c:' || dial_room FROM res_records WHERE dial_room IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'p:' || country || ':' || postal
FROM res_records WHERE has_place AND postal IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 's:' || street_key FROM res_records WHERE street_key IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'h:' || house || ':' || coalesce(city_key, postal, '')
FROM res_records WHERE house <> ''
UNION ALL
SELECT rid, src, wm, fellowship, 'v:' || venue_key || ':' || city_key
FROM res_records WHERE has_place AND venue_key IS NOT NULL AND city_key IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'sn:' || street_name || ':' || name_key || ':' || city_key
FROM res_records WHERE street_name IS NOT NULL AND distinct_name AND city_key IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'w:' || world_id FROM res_records WHERE world_id IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'l:' || slug || ':' || coalesce(city_key, postal, '')
FROM res_records WHERE slug IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'g:' || floor(lat / {cell})::BIGINT || ':' || floor(lon / {cell})::BIGINT
FROM res_records WHERE lat IS NOT NULL
UNION ALL
SELECT rid, src, wm, fellowship, 'n:' || name_key FROM res_records WHERE NOT has_place AND distinct_name
"""
"""Every blocking key of every record, as text: ``c:`` conference room, ``p:`` postal code, ``s:`` street line,
``h:`` house number and locality, ``v:`` venue and locality, ``sn:`` street name, distinctive name and
locality, ``w:`` world id, ``l:`` slug and locality (generic slugs such as "big-book-study" repeat from feed to
feed across the country), ``g:`` coordinate cell, ``n:`` distinctive name of a meeting without a place."""

KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE res_keys AS
SELECT rid, src, wm, hash(fellowship, k) AS k FROM ({key_text})
"""

CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE res_candidates AS
SELECT DISTINCT least(a.rid, b.rid) AS a, greatest(a.rid, b.rid) AS b, a.src = b.src AS same_source
FROM (SELECT rid, src, wm, k, ((wm // {bucket}) + d + {buckets}) % {buckets} AS bucket
      FROM res_keys, (VALUES (-1), (0), (1)) AS shift(d) WHERE {changed}) a
JOIN (SELECT rid, src, wm, k, wm // {bucket} AS bucket FROM res_keys) b
  ON a.k = b.k AND a.bucket = b.bucket AND {pair}
WHERE least(abs(a.wm - b.wm), {week} - abs(a.wm - b.wm)) <= {max_dt}
"""
"""Pairs sharing a blocking key within ``MAX_DT_MIN`` of the week, ``a`` < ``b``. A full pass pairs every record
with the later ones (``changed`` TRUE, ``pair`` ``a.rid < b.rid``); an incremental one pairs the changed
records with all others (``a.rid <> b.rid``): the same pairs, less those of two unchanged records."""

# Cheap comparisons for every candidate; pairs that no rule could accept stop here, the rest get the
# costly name comparisons (edit distance only where Jaro-Winkler says the names are close at all).
FEATURES_SQL = """
CREATE OR REPLACE TEMP TABLE res_features AS
WITH pairs AS (
    SELECT c.a, c.b,
           least(abs(x.wm - y.wm), {week} - abs(x.wm - y.wm)) AS dt,
           x.street_key = y.street_key AS same_street,
           x.house = y.house AND x.house <> '' AS same_house,
           x.street_name = y.street_name AS same_street_name,
           x.world_id = y.world_id AS same_world_id,
           x.slug = y.slug AS same_slug,
           CASE WHEN x.lat IS NOT NULL AND y.lat IS NOT NULL THEN
               2 * 6371000 * asin(sqrt(pow(sin(radians(y.lat - x.lat) / 2), 2)
                   + cos(radians(x.lat)) * cos(radians(y.lat)) * pow(sin(radians(y.lon - x.lon) / 2), 2)))
           END AS dist_m,
           jaro_winkler_similarity(x.venue_key, y.venue_key) AS venue_sim,
           x.postal = y.postal AS same_postal,
           x.city_key = y.city_key AS same_city,
           x.region_code IS NOT DISTINCT FROM y.region_code AND x.timezone IS NOT DISTINCT FROM y.timezone
               AS same_region,
           x.has_place AND y.has_place AS both_placed,
           NOT x.has_place AND NOT y.has_place AS both_unplaced,
           x.distinct_name AND y.distinct_name AS distinct_name,
           x.room = y.room OR x.dial_room = y.dial_room OR x.room = y.dial_room OR x.dial_room = y.room
               AS same_conference,
           x.room <> y.room AS different_conference,
           split_part(coalesce(x.room, y.room, x.dial_room), ':', 1) AS provider,
           x.audience <> y.audience AS audience_conflict,
           len(x.name_numbers) > 0 AND len(y.name_numbers) > 0 AND x.name_numbers <> y.name_numbers
               AS number_conflict,
           len(x.languages) > 0 AND len(y.languages) > 0 AND NOT list_has_any(x.languages, y.languages)
               AS language_conflict,
           CASE WHEN x.group_key = y.name_key OR x.name_key = y.group_key
                THEN jaro_winkler_similarity(x.name_key, y.name_key) >= {group_name_jw} ELSE FALSE END
               AS same_group_name,
           x.name_key AS x_name, y.name_key AS y_name, x.name_tokens AS x_tokens, y.name_tokens AS y_tokens,
           x.street_key AS x_street, y.street_key AS y_street, x.types AS x_types, y.types AS y_types
    FROM res_candidates c
    JOIN res_records x ON x.rid = c.a
    JOIN res_records y ON y.rid = c.b
    WHERE NOT c.same_source OR {every_pair}
)
SELECT * EXCLUDE (x_name, y_name, x_tokens, y_tokens, x_street, y_street, x_types, y_types),
       jaro_winkler_similarity(x_name, y_name) AS name_jw,
       CASE WHEN x_name = y_name OR same_group_name THEN 1.0
            WHEN name_jw >= 0.8 THEN 1 - damerau_levenshtein(x_name, y_name) / greatest(length(x_name), length(y_name))
            ELSE 0.0 END AS name_edit,
       greatest(name_edit, len(list_intersect(x_tokens, y_tokens)) / least(len(x_tokens), len(y_tokens)))
           AS name_sim,
       coalesce(same_house AND jaro_winkler_similarity(x_street, y_street) >= 0.9, FALSE) AS similar_street,
       CASE WHEN len(x_types) = 0 OR len(y_types) = 0 THEN NULL
            ELSE len(list_intersect(x_types, y_types)) / len(list_distinct(list_concat(x_types, y_types)))
       END AS type_overlap
FROM pairs
WHERE {every_pair} OR coalesce(same_conference OR same_world_id OR same_slug, FALSE) OR both_unplaced
   OR (both_placed AND coalesce(same_street OR same_house OR same_street_name OR dist_m <= {around}
                                OR (venue_sim >= 0.93 AND (same_city OR same_postal)), FALSE))
"""

# Rules in order of strength; the first that holds names the link. Vetoes come first.
RULES_SQL = """
CREATE OR REPLACE TEMP TABLE res_scored AS
WITH judged AS (
    SELECT *,
        coalesce(same_street OR similar_street OR dist_m <= {near}, FALSE)
            AND NOT coalesce(dist_m > {far}, FALSE)
            AND NOT (coalesce(NOT same_city, FALSE) AND NOT coalesce(same_postal, FALSE)) AS same_place,
        coalesce(venue_sim >= 0.93 AND (same_city OR same_postal), FALSE) AS same_venue_name,
        coalesce(dist_m <= {around}, FALSE) AS nearby,
        coalesce(same_city OR same_postal, FALSE) AS same_locality,
        CASE
            WHEN different_conference THEN 'different_conference_id'
            WHEN audience_conflict THEN 'men_vs_women'
            WHEN language_conflict THEN 'different_language'
            WHEN number_conflict AND NOT coalesce(same_conference, FALSE) THEN 'different_number'
        END AS veto
    FROM res_features
)
SELECT *,
    CASE
        WHEN veto IS NOT NULL THEN NULL
        WHEN same_conference AND dt <= 15 THEN 'same_conference_id'
        WHEN same_conference AND name_sim >= 0.8 THEN 'same_conference_id'
        WHEN same_world_id AND dt <= 15 THEN 'same_world_id'
        WHEN same_slug AND dt <= 15
             AND (same_place OR same_venue_name OR nearby OR (same_locality AND name_sim >= 0.5)) THEN 'same_slug'
        WHEN same_slug AND both_placed AND same_place THEN 'same_slug'
        WHEN both_placed AND same_place AND dt <= 15 AND name_sim >= 0.75 THEN 'same_place'
        WHEN both_placed AND same_place AND name_edit >= 0.85 THEN 'same_place'
        WHEN both_placed AND same_venue_name AND dt = 0 AND name_edit >= 0.85 THEN 'same_venue_name'
        WHEN both_placed AND nearby AND dt = 0 AND name_edit >= 0.9 THEN 'nearby'
        WHEN both_placed AND same_street_name AND same_locality AND NOT coalesce(dist_m > {far}, FALSE)
             AND distinct_name AND dt = 0 AND name_edit >= 0.9 THEN 'same_street_and_name'
        WHEN both_unplaced AND distinct_name AND same_region AND coalesce(same_city, TRUE) AND dt = 0
             AND name_edit >= 0.9 AND different_conference IS NULL THEN 'same_distinct_name'
    END AS rule
FROM judged
"""

SCORE_SQL = """
round(least(1.0, 0.42 * name_sim + 0.23 * (1 - dt / {max_dt}) + 0.05 * coalesce(type_overlap, 0.5)
      + CASE WHEN same_conference OR same_world_id THEN 0.3 WHEN same_place THEN 0.3
             WHEN same_venue_name OR same_slug THEN 0.2 WHEN nearby THEN 0.15 ELSE 0.1 END), 3)
"""
"""A link's score, 0–1: name, time, formats and the strongest shared evidence (a tie-break between links)."""

# A source that lists one meeting twice: the same bytes, the same group id (world id) on the same day within
# 30 minutes, or the same everything a listing says about the meeting. Its listings become one meeting.
# The reasons read from two listings alone (one name inside the other, the world id) are pairs, kept between
# runs like the scored links; the others group a whole source's listings and are found again every run.
DUPLICATE_PAIRS_SQL = """
CREATE OR REPLACE TEMP TABLE res_duplicate_pairs AS
SELECT c.a, c.b, 'duplicate_listing: same everything, one name inside the other' AS reasons, 3 AS duplicate_rank
FROM (SELECT a, b FROM res_candidates WHERE same_source) c
JOIN res_records x ON x.rid = c.a JOIN res_records y ON y.rid = c.b
WHERE x.wm = y.wm AND x.street_key IS NOT NULL
  AND x.street_key = y.street_key AND x.city_key IS NOT DISTINCT FROM y.city_key
  AND x.venue_key IS NOT DISTINCT FROM y.venue_key AND list_sort(x.types) = list_sort(y.types)
  AND (x.languages = y.languages OR len(x.languages) = 0 OR len(y.languages) = 0)
  AND x.attendance = y.attendance
  AND x.room IS NOT DISTINCT FROM y.room AND x.dial_room IS NOT DISTINCT FROM y.dial_room
  AND x.detail_hash = y.detail_hash
  AND (list_has_all(x.name_tokens, y.name_tokens) OR list_has_all(y.name_tokens, x.name_tokens))
UNION ALL
SELECT c.a, c.b, 'duplicate_listing: same world id ' || x.world_id || ', Δt=' || abs(x.wm - y.wm), 4
FROM (SELECT a, b FROM res_candidates WHERE same_source) c
JOIN res_records x ON x.rid = c.a JOIN res_records y ON y.rid = c.b
WHERE x.world_id = y.world_id AND x.wm // 1440 = y.wm // 1440
  AND abs(x.wm - y.wm) <= {max_dt}
  AND NOT coalesce(x.room <> y.room OR x.audience <> y.audience, FALSE)
  AND NOT (len(x.languages) > 0 AND len(y.languages) > 0 AND NOT list_has_any(x.languages, y.languages))
"""

DUPLICATES_SQL = """
CREATE OR REPLACE TEMP TABLE res_duplicates AS
SELECT a, b, arg_min(reasons, duplicate_rank) AS reasons FROM (
    SELECT min(rid) OVER (PARTITION BY src, record_hash) AS a, rid AS b, 'exact_duplicate' AS reasons,
           1 AS duplicate_rank
    FROM res_records WHERE record_hash IS NOT NULL
    UNION ALL
    SELECT min(rid) OVER (PARTITION BY src, fellowship, wm, name_key, street_key, city_key, venue_key,
                                       list_sort(types), languages, room, dial_room, attendance, detail_hash) AS a,
           rid AS b, 'duplicate_listing: same everything' AS reasons, 2 AS duplicate_rank
    FROM res_records
    UNION ALL
    SELECT a, b, reasons, duplicate_rank FROM res_pairs WHERE same_listing
)
WHERE a <> b
GROUP BY a, b
"""

PAIRS_SQL = """
CREATE OR REPLACE TEMP TABLE res_pairs AS
SELECT a, b, {score} AS score,
    concat_ws(', ',
        CASE WHEN same_conference THEN 'same_' || coalesce(provider, 'conference') || '_id' END,
        CASE WHEN same_world_id THEN 'same_world_id' END,
        CASE WHEN same_slug THEN 'same_slug' END,
        CASE WHEN rule = 'same_place' AND same_street THEN 'same_street'
             WHEN rule = 'same_place' AND similar_street THEN 'similar_street'
             WHEN rule IN ('same_venue_name', 'nearby', 'same_distinct_name', 'same_street_and_name') THEN rule END,
        printf('name≈%.2f', name_sim),
        CASE WHEN same_group_name THEN 'same_group_name' END,
        'Δt=' || dt,
        CASE WHEN dist_m IS NOT NULL THEN round(dist_m)::BIGINT || ' m' END,
        CASE WHEN type_overlap IS NOT NULL THEN printf('types≈%.2f', type_overlap) END) AS reasons,
    FALSE AS same_listing, NULL::TINYINT AS duplicate_rank
FROM res_scored WHERE rule IS NOT NULL
UNION ALL
SELECT a, b, 1.0, reasons, TRUE, duplicate_rank FROM res_duplicate_pairs
UNION ALL
SELECT x.rid, y.rid, p.score, p.reasons, p.same_listing, p.duplicate_rank
FROM core.match_pairs p
JOIN res_fingerprints x ON x.source_id = p.a_source_id AND x.source_key = p.a_source_key AND NOT x.changed
JOIN res_fingerprints y ON y.source_id = p.b_source_id AND y.source_key = p.b_source_key AND NOT y.changed
WHERE {incremental}
"""
"""The links of two records: this run's (pairs with a changed record, or every pair in a full pass) and, in an
incremental pass, the last run's between two records that did not change — a link depends on its two records
alone, so it is what a full pass would find again."""

EDGES_SQL = """
SELECT a, b, score, reasons, FALSE AS same_listing FROM res_pairs WHERE NOT same_listing
UNION ALL
SELECT a, b, 1.0, reasons, TRUE FROM res_duplicates
"""

FINGERPRINTS_SQL = """
CREATE OR REPLACE TEMP TABLE res_fingerprints AS
WITH f AS (SELECT rid, source_id, source_key, hash(*COLUMNS(* EXCLUDE (rid, src)), $code) AS fingerprint
           FROM res_records)
SELECT f.*, {full} OR m.fingerprint IS DISTINCT FROM f.fingerprint AS changed
FROM f LEFT JOIN core.match_records m USING (source_id, source_key)
"""
"""Each record's fingerprint (everything matching reads of it, and the matching code) and whether it changed
since the last run (new records and every record of a full pass have)."""


# NA World Services' group id travels with a group between BMLT servers and across re-listings on one server;
# the canonical model does not carry it, so it is read from the record the source sent (staging keeps it).
# "G00234053" and "00234053" are one id.
WORLD_IDS_SQL = """
CREATE OR REPLACE TEMP TABLE res_world_ids AS
SELECT fetch_id, source_key, 'G' || lpad(any_value(digits), 8, '0') AS world_id FROM (
    SELECT fetch_id, source_key,
           regexp_replace(upper(trim(raw->>'worldid_mixed')), '^G?0*', '') AS digits
    FROM staging.source_records
    WHERE fetch_id IN (SELECT DISTINCT fetch_id FROM res_versions) AND raw->>'worldid_mixed' IS NOT NULL
)
WHERE regexp_full_match(digits, '[0-9]{3,}')
GROUP BY ALL
"""
SLUG = "[a-z][a-z0-9]*(-[a-z0-9]+)+"
"""A Meeting Guide slug as a source key ("gay-lesbian-sober-experience"; "-<n>" suffixes of split days and of
WordPress's repeated names are dropped before comparing); two feeds of one intergroup keep their slugs."""
HASHED_KEY = "h-[a-z0-9]{16}"
"""What ``ids.hashed_source_key`` gives a record whose source has no id: not a slug."""


@cache
def code_version() -> str:
    """The matching code and what it runs on (this module, the gazetteer, ``transforms/data``, the ZIP table,
    DuckDB's string functions, Python's Unicode tables): fingerprints, links and localities kept from a run of
    other code are stale, so that run re-matches everything."""
    here = Path(__file__).parent
    seed = f"zipcodes {version('zipcodes')} duckdb {version('duckdb')} python {sys.version}"
    return files_digest(seed, [here / "matching.py", here / "gazetteer.py", *(here / "data").glob("*.csv")])


def _localities(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    """``res_localities``: each distinct (city, region, country) → the Postal Service's name of a US city.

    Names found by an earlier run of the same code come from ``core.match_localities``; only new places go
    through the gazetteer (loading it alone costs more than a quiet night's matching), every place in a
    ``full`` pass."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE res_localities AS
        SELECT p.city, p.region_code, p.country, c.locality, c.code IS NOT NULL AS known
        FROM (SELECT DISTINCT city, region_code, country FROM res_versions) p
        LEFT JOIN (SELECT * FROM core.match_localities WHERE code = $code AND NOT $full) c
          ON c.city IS NOT DISTINCT FROM p.city AND c.region_code IS NOT DISTINCT FROM p.region_code
         AND c.country IS NOT DISTINCT FROM p.country
        """,
        {"code": code_version(), "full": full},
    )
    places = con.sql("SELECT city, region_code, country FROM res_localities WHERE NOT known").fetchall()
    if not places:
        return
    found = [(*place, (postal_city(*place) or "").lower() or None) for place in places]
    con.execute(
        """
        UPDATE res_localities l SET locality = f.p.locality, known = TRUE
        FROM (SELECT unnest($found) AS p) f
        WHERE l.city IS NOT DISTINCT FROM f.p.city AND l.region_code IS NOT DISTINCT FROM f.p.region_code
          AND l.country IS NOT DISTINCT FROM f.p.country
        """,
        {"found": [dict(zip(("city", "region_code", "country", "locality"), row, strict=True)) for row in found]},
    )


def prepare(con: duckdb.DuckDBPyConnection, full: bool = False) -> int:
    """``res_versions`` (the ``current_versions`` view with a record id ``rid`` and a source number ``src``)
    and ``res_records`` (one row per record with its matching keys). ``full``: look every locality up again."""
    con.execute(VERSIONS_SQL)
    _localities(con, full)
    con.execute(WORLD_IDS_SQL)
    con.execute(
        RECORDS_SQL.format(
            slug=SLUG,
            hashed=HASHED_KEY,
            name_key=name_key_sql("name"),
            group_key=name_key_sql("group_name"),
            street_key=street_key_sql("address_line"),
            venue_key=venue_key_sql("venue_name"),
            city_key=_clean("city"),
            men=_has_any("string_split(b.name_key, ' ')", _MEN),
            women=_has_any("string_split(b.name_key, ' ')", _WOMEN),
            distinct_times=DISTINCT_NAME_MAX_TIMES,
        )
    )
    return con.sql("SELECT count(*) FROM res_records").fetchall()[0][0]


def _features(con: duckdb.DuckDBPyConnection, every_pair: bool) -> None:
    flag = "TRUE" if every_pair else "FALSE"
    con.execute(FEATURES_SQL.format(week=WEEK_MIN, around=AROUND_M, group_name_jw=GROUP_NAME_JW, every_pair=flag))
    con.execute(RULES_SQL.format(near=NEAR_M, around=AROUND_M, far=FAR_M))


def remembered(con: duckdb.DuckDBPyConnection) -> bool:
    """The fingerprints and links kept are this code's and whole, as ``remember`` left them: an incremental
    pass can trust them (otherwise it must be full)."""
    state = con.sql(
        """SELECT code, records = (SELECT count(*) FROM core.match_records),
                  pairs = (SELECT count(*) FROM core.match_pairs) FROM core.match_state"""
    ).fetchall()
    return len(state) == 1 and state[0] == (code_version(), True, True)


def match(con: duckdb.DuckDBPyConnection, full: bool = False) -> pa.Table:
    """Matching pairs (``a``, ``b`` record ids, ``score`` 0–1, ``reasons`` text, ``same_listing``: two
    listings of one meeting in one source) of the prepared records.

    Incremental unless ``full``: only pairs with a record whose fingerprint changed since the last run are
    scored; the other links are the last run's (``core.match_pairs``). The result is the same either way (a
    test runs nights both ways); a full pass re-scores every pair. The caller makes the pass full when the
    kept links cannot be trusted (``remembered``). ``remember`` keeps this run's fingerprints and links.
    """
    con.execute(FINGERPRINTS_SQL.format(full="TRUE" if full else "FALSE"), {"code": code_version()})
    con.execute(KEYS_SQL.format(key_text=KEY_TEXT_SQL.format(cell=GEO_CELL_DEG)))
    changed = "TRUE" if full else "rid IN (SELECT rid FROM res_fingerprints WHERE changed)"
    con.execute(
        CANDIDATES_SQL.format(bucket=BUCKET_MIN, buckets=WEEK_MIN // BUCKET_MIN, week=WEEK_MIN, max_dt=MAX_DT_MIN,
                              changed=changed, pair="a.rid < b.rid" if full else "a.rid <> b.rid")
    )  # fmt: skip
    _features(con, every_pair=False)
    con.execute(DUPLICATE_PAIRS_SQL.format(max_dt=MAX_DT_MIN))
    con.execute(PAIRS_SQL.format(score=SCORE_SQL.format(max_dt=MAX_DT_MIN), incremental="FALSE" if full else "TRUE"))
    con.execute(DUPLICATES_SQL)
    edges = con.sql(EDGES_SQL).to_arrow_table()
    for table in ("res_keys", "res_candidates", "res_features", "res_scored", "res_duplicate_pairs", "res_duplicates"):
        con.execute(f"DROP TABLE {table}")
    return edges


def remember(con: duckdb.DuckDBPyConnection) -> None:
    """Keep this run's fingerprints, links and localities for the next run's ``match`` (in the caller's
    transaction: they must describe the links the run wrote)."""
    con.execute("DELETE FROM core.match_records")
    con.execute("INSERT INTO core.match_records SELECT source_id, source_key, fingerprint FROM res_fingerprints")
    con.execute("DELETE FROM core.match_pairs")
    con.execute(
        """
        INSERT INTO core.match_pairs
        SELECT x.source_id, x.source_key, y.source_id, y.source_key, p.score, p.reasons, p.same_listing,
               p.duplicate_rank
        FROM res_pairs p JOIN res_records x ON x.rid = p.a JOIN res_records y ON y.rid = p.b
        """
    )
    con.execute("DELETE FROM core.match_state")
    con.execute(
        "INSERT INTO core.match_state SELECT $code, (SELECT count(*) FROM core.match_records), "
        "(SELECT count(*) FROM core.match_pairs)",
        {"code": code_version()},
    )
    con.execute("DELETE FROM core.match_localities")
    con.execute(
        "INSERT INTO core.match_localities SELECT city, region_code, country, locality, $code FROM res_localities",
        {"code": code_version()},
    )


def explain_pairs(con: duckdb.DuckDBPyConnection, pairs: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Why each pair of prepared records (``rid``) is or is not linked: the blocking keys each has and which
    they share, whether blocking makes them candidates (a shared key within ±30 minutes of the week), the
    comparisons, the veto, the rule and the score — computed for the pair even where blocking or the
    cheap filter would have dropped it. Run after ``prepare`` over every current record (whether a name is
    distinctive depends on all of them)."""
    wanted = sorted({rid for pair in pairs for rid in pair})
    con.execute(
        "CREATE OR REPLACE TEMP TABLE res_candidates AS SELECT p.a, p.b, x.src = y.src AS same_source FROM (VALUES "
        + ", ".join(f"({min(a, b)}, {max(a, b)})" for a, b in pairs)
        + ") AS p(a, b) JOIN res_records x ON x.rid = p.a JOIN res_records y ON y.rid = p.b"
    )
    _features(con, every_pair=True)
    keys: dict[int, list[str]] = {rid: [] for rid in wanted}
    text = KEY_TEXT_SQL.format(cell=GEO_CELL_DEG)
    for rid, key in con.sql(f"SELECT rid, k FROM ({text}) WHERE rid IN ({', '.join(map(str, wanted))})").fetchall():
        keys[rid].append(key)
    rows = (
        con.sql(f"SELECT *, {SCORE_SQL.format(max_dt=MAX_DT_MIN)} AS score FROM res_scored")
        .to_arrow_table()
        .to_pylist()
    )
    by_pair = {(r["a"], r["b"]): r for r in rows}
    out = []
    for a, b in pairs:
        row = by_pair[(min(a, b), max(a, b))]
        shared = sorted(set(keys[a]) & set(keys[b]))
        out.append({"keys_a": sorted(set(keys[a])), "keys_b": sorted(set(keys[b])), "shared_keys": shared,
                    "candidate": bool(shared) and row["dt"] <= MAX_DT_MIN, **row})  # fmt: skip
    return out

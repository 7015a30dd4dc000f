"""Round trip: every real feed in → ``meeting-guide.json`` out, field by field, for single-source meetings.

Every real Meeting Guide feed of the repository (the eight in ``sources/snapshots/mg``), the BMLT exports (GNY
with its formats and service bodies, Berlin) and the TSML exports (New York Intergroup TSV, the San Jose
template) run through ``clearinghouse run``; editions of one intergroup run in separate homes, so their
meetings stay single-source. For each published meeting backed by one record, the source item is read again
here with plain ``json``/``csv`` and each field the source gave must come back equal up to the normalizations
the data dictionary documents (text hygiene and redaction, "HH:MM", E.164 dial-ins, provider allowlist,
ISO country codes, USPS street abbreviations, floor/room details moved to ``location_notes``, a monthly line
in front of the notes). ``updated`` must be the source's own stamp. A key the source did not give may appear
only when the dictionary documents it as derived (``warehouse.exporters.meeting_guide.DERIVED``); coordinates
and end times never do.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from clearinghouse.cli import main
from extractors import tsml_csv
from extractors.records import iso_weekday_from_name
from foundation.ids import hashed_source_key
from foundation.timeparse import parse_timestamp, schedule
from tests.conftest import SNAPSHOTS
from tests.support import serve
from tests.transforms.realdata import BERLIN, FIXTURES, berlin_formats
from transforms.conference import normalize_phone, parse_conference_url
from transforms.crosswalk import classify
from transforms.geo import country_code, known_region, locate, valid_timezone, zip_info
from transforms.privacy import redact
from transforms.refdata import data_rows
from transforms.text import clean_text
from warehouse.exporters.meeting_guide import DERIVED, spec_codes

pytestmark = pytest.mark.slow
JSON = "application/json"
MG = SNAPSHOTS / "mg"
ABSENT = object()
"""Expected: the key is not in the output (the source did not give it, or gave something unusable)."""
PLACE_KEYS = {"location", "address", "city", "state", "postal_code", "country", "formatted_address",
              "location_notes", "latitude", "longitude"}  # fmt: skip
_ABBREVIATIONS: dict[str, set[str]] = {}
_SPELLED: dict[str, set[str]] = {}
for _row in data_rows("street_abbreviations.csv"):
    _ABBREVIATIONS.setdefault(_row["abbreviation"].lower(), set()).add(_row["word"].lower())
    _SPELLED.setdefault(_row["word"].lower(), set()).add(_row["abbreviation"].lower())


@dataclass(frozen=True)
class Feed:
    source_id: str
    family: str
    fellowship: str
    routes: dict[str, tuple[int, bytes, str]]
    """Path (under the test server) → response; the first path is the registry URL (BMLT: its root)."""
    items: Callable[[], dict[str, dict[str, Any]]]
    """Source key → the source's item, read independently of the extractors."""
    timezone: str | None = None
    country: str = "US"


def _mg_items(path: Path) -> Callable[[], dict[str, dict[str, Any]]]:
    def read() -> dict[str, dict[str, Any]]:
        keyed = {}
        for position, item in enumerate(json.loads(path.read_bytes())):
            slug = str(item.get("slug") or item.get("id") or "").strip() or f"position-{position}"
            days = item["day"] if isinstance(item.get("day"), list) else [item.get("day")]
            for day in days:  # a repeated key: the first copy is published (dq:source_key_unique_within_fetch)
                if day is not None:
                    keyed.setdefault(slug if len(days) == 1 else f"{slug}-{day}", {**item, "day": int(day)})
        return keyed

    return read


def _mg(source_id: str, name: str, timezone: str, fellowship: str = "AA") -> Feed:
    body = (MG / name).read_bytes()
    return Feed(source_id, "meeting_guide", fellowship, {f"/{source_id}.json": (200, body, JSON)},
                _mg_items(MG / name), timezone)  # fmt: skip


def _bmlt(source_id: str, search: Path, formats: bytes, bodies: bytes, timezone: str, country: str = "US") -> Feed:
    root = f"/{source_id}/client_interface/json/?switcher="
    routes = {f"/{source_id}/": (404, b"", "text/plain"),
              root + "GetSearchResults&get_used_formats=1": (200, search.read_bytes(), JSON),
              root + "GetFormats": (200, formats, JSON), root + "GetServiceBodies": (200, bodies, JSON)}  # fmt: skip
    entities = {b["id"]: b for b in json.loads(bodies)}

    def read() -> dict[str, dict[str, Any]]:
        items = {}
        for raw in json.loads(search.read_bytes()):
            m = {k: v for k, v in raw.items() if v not in ("", None)}
            body = entities.get(m.get("service_body_bigint"), {})
            street, venue = m.get("location_street"), m.get("location_text")
            if street is None and venue and re.match(r"^\d+\S*\s+\S", venue):  # the street in the venue field
                street, venue = venue, None
            items[raw["id_bigint"]] = {
                "name": m.get("meeting_name"), "day": (int(m["weekday_tinyint"]) - 1) % 7, "time": m.get("start_time"),
                "duration": m.get("duration_time"), "timezone": m.get("time_zone"), "location": venue,
                "address": street, "city": m.get("location_municipality") or m.get("location_city_subsection"),
                "state": m.get("location_province"), "postal_code": m.get("location_postal_code_1"),
                "country": m.get("location_nation"), "latitude": m.get("latitude"), "longitude": m.get("longitude"),
                "conference_url": m.get("virtual_meeting_link"),
                "conference_url_notes": m.get("virtual_meeting_additional_info"),
                "conference_phone": m.get("phone_meeting_number"), "notes": m.get("comments"),
                "location_notes": m.get("location_info"), "entity": body.get("name"), "entity_url": body.get("url"),
                "entity_phone": body.get("helpline"), "types": [],
            }  # fmt: skip
        return items

    return Feed(source_id, "bmlt", "NA", routes, read, timezone, country)


def _tsml(source_id: str, path: Path, timezone: str | None) -> Feed:
    def read() -> dict[str, dict[str, Any]]:
        text, _ = tsml_csv.decode(path.read_bytes())
        delimiter = "\t" if "\t" in text.lstrip().splitlines()[0] else ","
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(r)]
        header = [tsml_csv._slug(h) for h in rows[0]]
        items: dict[str, dict[str, Any]] = {}
        seen: Counter[tuple[Any, ...]] = Counter()
        for row in rows[1:]:
            cell = {k: v.strip() for k, v in zip(header, row, strict=False) if v.strip() not in ("", "NULL")}
            days = [d.strip() for d in cell.get("day", "").split(",") if d.strip()] or [None]
            for day in days:
                if cell.get("slug"):  # the export's own key, as the plugin writes it
                    base = cell["slug"] if len(days) == 1 else f"{cell['slug']}-{tsml_csv._slug(day or '')}"
                    seen[(base,)] += 1
                    key = base if seen[(base,)] == 1 else f"{base}#{seen[(base,)]}"
                else:  # no key column: the identity hash the registry documents for tsml_csv
                    identity = (cell.get("name"), day, cell.get("time"), cell.get("address"), cell.get("city"))
                    seen[identity] += 1
                    key = hashed_source_key(*identity, seen[identity])
                if day is not None:
                    items[key] = {**cell, "day": (iso_weekday_from_name(day) or 0) % 7,
                                  "types": tsml_csv._types(cell.get("types"))}  # fmt: skip
        return items

    return Feed(source_id, "tsml_csv", "AA", {f"/{source_id}.{path.suffix[1:]}": (200, path.read_bytes(), "text/csv")},
                read, timezone)  # fmt: skip


GNY = SNAPSHOTS / "gny-na"
RUNS: dict[str, list[Feed]] = {
    "current": [
        _mg("oc-aa", "oc-aa_orange-county-ca_2023-08-31.json", "America/Los_Angeles"),
        _mg("nepa-aa", "aaintergroupnepa_ne-pennsylvania_2026-03-20.json", "America/New_York"),
        _mg("sussex-aa", "sussexaa_sussex-county-de_2022-09-01.json", "America/New_York"),
        _mg("alanon-ma", "alanonma_massachusetts_al-anon_2023-08-22.json", "America/New_York", "AL-ANON"),
        _mg("sepia-aa", "aasepia_se-pennsylvania_2022-10-14.json", "America/New_York"),
        _mg("sanjose-aa", "aasanjose-sheets_santa-clara-county-ca_2021-10.json", "America/Los_Angeles"),
        _bmlt("gny-na", GNY / "GetSearchResults.json", (GNY / "GetFormats.json").read_bytes(),
              (GNY / "GetServiceBodies.json").read_bytes(), "America/New_York"),
        _bmlt("berlin-na", BERLIN, berlin_formats(), b"[]", "Europe/Berlin", "DE"),
        _tsml("nyc-aa", FIXTURES / "tsml_csv" / "nyintergroup_2015-10.tsv", "America/New_York"),
    ],
    "earlier": [
        _mg("nepa-aa-2022", "aaintergroupnepa_ne-pennsylvania_2022-11-01.json", "America/New_York"),
        _mg("sanjose-wp", "aasanjose-wp_santa-clara-county-ca_2019-07-26.json", "America/Los_Angeles"),
    ],
    "template": [_tsml("sanjose-template", FIXTURES / "tsml_csv" / "tsml_template_san_jose.csv", None)],
}  # fmt: skip
"""One home per run: editions of the same intergroup (NEPA 2022/2026, San Jose 2019/2021/template) apart."""
FEEDS = {feed.source_id: feed for feeds in RUNS.values() for feed in feeds}


@dataclass(frozen=True)
class Published:
    meeting: dict[str, Any]
    """The Meeting Guide object."""
    source_key: str
    coordinates_conflict: bool = False
    """The source's coordinates contradict its address: documented, they are not published as its point."""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Published]]:
    """Source id → its single-source meetings in ``meeting-guide.json``."""
    out: dict[str, list[Published]] = {}
    for run, feeds in RUNS.items():
        home = tmp_path_factory.mktemp(run) / "home"
        routes = {path: reply for feed in feeds for path, reply in feed.routes.items()}
        with serve(routes) as base, pytest.MonkeyPatch.context() as mp:
            mp.setenv("CLEARINGHOUSE_HOME", str(home))
            mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
            entries = [{"id": f.source_id, "name": f.source_id, "fellowship": f.fellowship, "kind": f.family,
                        "url": base + next(iter(f.routes)), "country": f.country}
                       | ({"timezone": f.timezone} if f.timezone else {}) for f in feeds]  # fmt: skip
            registry = home.parent / "sources.yaml"
            registry.write_text(yaml.safe_dump({"sources": entries}))
            assert main(["run", "--sources", str(registry)]) == 0
        release = home / "published" / "latest"
        feed = {m["slug"]: m for m in json.loads((release / "meeting-guide.json").read_text())}
        columns = ["meeting_id", "sources", "coordinates_conflict"]
        for row in pq.read_table(release / "meetings.parquet", columns=columns).to_pylist():
            if len(row["sources"]) == 1:
                source = row["sources"][0]
                out.setdefault(source["source_id"], []).append(
                    Published(feed[row["meeting_id"]], source["source_key"], row["coordinates_conflict"])
                )
    return out


# --- the documented normalizations --------------------------------------------------------------------------


def _text(value: Any, multiline: bool = False, phone: Any = None) -> str | None:
    return redact(clean_text(None if value is None else str(value), multiline=multiline),
                  keep_phone=None if phone is None else str(phone))  # fmt: skip


def _url(value: Any, schemes: tuple[str, ...] = ("http://", "https://")) -> Any:
    text = clean_text(None if value is None else str(value))
    return text if text and text.lower().startswith(schemes) and " " not in text else ABSENT


def _hhmm(minutes: int | None) -> Any:
    return ABSENT if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _or_absent(value: Any) -> Any:
    return ABSENT if value in (None, "", []) else value


def expected(item: dict[str, Any], feed: Feed) -> dict[str, Any]:
    """The output each key must have, for the keys the source decides (``ABSENT``: the key must be missing)."""
    phone = item.get("conference_phone")
    start, end, _, end_source = schedule(*(None if item.get(k) is None else str(item[k])
                                           for k in ("time", "end_time", "duration")))  # fmt: skip
    country = country_code(item.get("country")) or feed.country
    position = locate(*(None if item.get(k) is None else str(item[k]) for k in ("latitude", "longitude")), country)
    stamp = parse_timestamp(None if item.get("updated") is None else str(item["updated"]))
    conference = parse_conference_url(None if item.get("conference_url") is None else str(item["conference_url"]))
    entity_email = clean_text(None if item.get("entity_email") is None else str(item["entity_email"]))
    return {
        "name": _text(item.get("name")),
        "day": item["day"],
        "time": _hhmm(start),
        "end_time": _hhmm(end) if end_source != "none" else ABSENT,
        "group": _or_absent(_text(item.get("group"))),
        "group_notes": _or_absent(_text(item.get("group_notes"), True, phone)),
        "district": _or_absent(clean_text(item.get("district"))),
        "website": _url(item.get("website")),
        "conference_url": _or_absent(conference.url),
        "conference_url_notes": _or_absent(_text(item.get("conference_url_notes"), True, phone)),
        "conference_phone": _or_absent(normalize_phone(None if phone is None else str(phone), country)),
        "conference_phone_notes": _or_absent(_text(item.get("conference_phone_notes"), True, phone)),
        "entity": _or_absent(clean_text(item.get("entity"))),
        "entity_url": _url(item.get("entity_url") or item.get("entity_website_url")),
        "entity_email": entity_email if entity_email and "@" in entity_email else ABSENT,
        "entity_phone": _or_absent(clean_text(item.get("entity_phone"))),
        "entity_location": _or_absent(clean_text(item.get("entity_location"))),
        "feedback_url": _url(item.get("feedback_url"), ("http://", "https://", "mailto:")),
        "url": _url(item.get("url")),
        "updated": ABSENT if stamp is None else stamp.strftime("%Y-%m-%d %H:%M:%S"),
        "latitude": ABSENT if position.latitude is None else position.latitude,
        "longitude": ABSENT if position.longitude is None else position.longitude,
    }


def _words(text: str) -> set[str]:
    """Lowercase words; a direction glued to a numbered street is two words ("West165th", as normalized)."""
    text = re.sub(r"(?i)\b(north|south|east|west)(\d)", r"\1 \2", text)
    return {w for w in re.split(r"[^a-z0-9#]+", text.lower()) if w}


def _street_words_come_from(street: str, source: str) -> bool:
    """Every word of ``street`` is a word of the source's place text, or its USPS abbreviation (either way)."""
    words = _words(source)
    return all(w in words or _ABBREVIATIONS.get(w, set()) & words or _SPELLED.get(w, set()) & words
               for w in _words(street))  # fmt: skip


def _location_kept(location: str, out: dict[str, Any]) -> bool:
    """The source's ``location`` is published as written, or as the data dictionary documents: room and entrance
    details moved to ``location_notes``, and a location that only repeats the street left to ``address``."""
    published = out.get("location")
    if published == location:
        return True
    street = out.get("address")
    moved = _words(location) - _words(published or "") - _words(out.get("location_notes") or "")
    if not moved or (street and _street_words_come_from(" ".join(moved), street)):
        return True  # details in location_notes ("On the Beach …"), a copy of the street left to `address`
    return published is None and bool(street) and location.split()[0] == street.split()[0]  # the house again


def place_problems(item: dict[str, Any], out: dict[str, Any], feed: Feed) -> list[str]:
    """The address came from what the source wrote, lost nothing of the street, and invented no part."""
    given = [str(item[k]) for k in ("formatted_address", "address", "location", "city", "state", "postal_code",
                                    "country") if item.get(k) not in (None, "")]  # fmt: skip
    source = ", ".join(given)
    problems = []
    if out.get("address") and not _street_words_come_from(out["address"], source):
        problems.append(f"street {out['address']!r} is not the source's {source!r}")
    zips = re.findall(r"\b\d{5}\b", source) or re.findall(r"\b\d{4}\b", source)
    if "postal_code" in out and not any(out["postal_code"].lstrip("0") == z.lstrip("0") for z in zips):
        problems.append(f"postal code {out['postal_code']!r} is not in {source!r}")
    via_zip = zip_info(out.get("postal_code"), out.get("country"))
    if "city" in out and out["city"].lower() not in source.lower() and not (via_zip and via_zip.city == out["city"]):
        problems.append(f"city {out['city']!r} is not in {source!r}")
    states = {known_region(w, out.get("country")) for w in re.split(r",\s*|\s+(?=\d)", source)} | set(
        re.findall(r"\b[A-Z]{2}\b", source)
    )
    if ("state" in out and out["state"] not in states and out["state"].lower() not in source.lower()
            and not (via_zip and via_zip.region_code == out["state"])):  # fmt: skip
        problems.append(f"state {out['state']!r} is not in {source!r}")
    street_given = re.search(r"(?:^|,\s*)\d+[A-Za-z]?(?:-\d+)?\s+[A-Za-z]", ", ".join(
        str(item[k]) for k in ("formatted_address", "address") if item.get(k)))  # fmt: skip
    if street_given and "address" not in out and out.get("formatted_address") is None:
        problems.append(f"the street of {source!r} is lost")
    return problems


def type_problems(item: dict[str, Any], out: dict[str, Any], feed: Feed) -> list[str]:
    """Spec codes only, and every attribute the source's codes carry is still said by a published code."""
    codes = item.get("types") or []
    codes = codes if isinstance(codes, list) else [c.strip() for c in str(codes).split(",")]
    wanted = classify([str(c) for c in codes], "meeting_guide" if feed.family != "bmlt" else "bmlt", feed.fellowship)
    tokens = {*(f"t:{t}" for t in wanted.types), *(f"a:{a}" for a in wanted.accessibility),
              *(f"l:{lang}" for lang in wanted.languages)}  # fmt: skip
    said = {token for token, code in spec_codes().items() if code in (out.get("types") or [])}
    missing = {t for t in tokens if t in spec_codes()} - said
    invalid = set(out.get("types") or []) - set(spec_codes().values()) - {"TC"}
    return [f"types {out.get('types')} lose {sorted(missing)}"] * bool(missing) + [f"not spec codes: {invalid}"] * bool(
        invalid
    )


def meeting_problems(item: dict[str, Any], out: dict[str, Any], feed: Feed, conflict: bool = False) -> list[str]:
    want = expected(item, feed)
    if conflict:  # coordinates that contradict the address are not the meeting's point (regions/README.md)
        want["latitude"] = want["longitude"] = ABSENT
    problems = []
    for key, value in want.items():
        if value is ABSENT:
            if key in out:
                problems.append(f"{key}: {out[key]!r} published, the source gave none")
        elif isinstance(value, float):
            if not math.isclose(out.get(key, math.nan), value, abs_tol=1e-6):
                problems.append(f"{key}: {out.get(key)!r} ≠ {value!r}")
        elif out.get(key) != value:
            problems.append(f"{key}: {out.get(key)!r} ≠ {value!r}")
    notes = _text(item.get("notes"), True, item.get("conference_phone"))
    published_notes = out.get("notes")
    rest = published_notes
    if (published_notes or "").startswith("Monthly: "):  # the documented monthly line, then the source's notes
        rest = published_notes.partition("\n")[2] or None
    if rest != notes:
        problems.append(f"notes: {published_notes!r} ≠ {notes!r}")
    location_notes = _text(item.get("location_notes"), True, item.get("conference_phone"))
    place_text = " ".join(str(item[k]) for k in ("formatted_address", "address", "location") if item.get(k))
    for line in (out.get("location_notes") or "").split("\n"):
        if line and line not in (location_notes or "") and not _words(line) <= _words(place_text):
            problems.append(f"location_notes line {line!r} is neither the source's notes nor its address")
    if location_notes and location_notes not in (out.get("location_notes") or ""):
        problems.append(f"location_notes {out.get('location_notes')!r} lost {location_notes!r}")
    if item.get("location") and not _location_kept(clean_text(str(item["location"])), out):
        problems.append(f"location: {out.get('location')!r} ≠ {item['location']!r}")
    if item.get("attendance_option") and out.get("attendance_option") != item["attendance_option"]:
        problems.append(f"attendance_option: {out.get('attendance_option')!r} ≠ {item['attendance_option']!r}")
    if item.get("timezone") and valid_timezone(str(item["timezone"])) and out["timezone"] != item["timezone"]:
        problems.append(f"timezone: {out['timezone']!r} ≠ {item['timezone']!r}")
    extra = set(out) - set(want) - set(DERIVED) - PLACE_KEYS - {"slug", "notes"}
    problems += [f"{key}: published, but nothing the source gave says it" for key in sorted(extra)]
    return problems + place_problems(item, out, feed) + type_problems(item, out, feed)


def _pairs(published: dict[str, list[Published]], source_id: str) -> Iterator[tuple[dict, dict]]:
    items = FEEDS[source_id].items()
    for p in published[source_id]:
        yield items[p.source_key], p.meeting


@pytest.mark.parametrize("source_id", list(FEEDS))
def test_every_field_the_source_gave_comes_back(published: dict[str, list[Published]], source_id: str) -> None:
    feed = FEEDS[source_id]
    items = feed.items()  # read once: the feed is parsed again on every call
    compared, problems = 0, []
    for p in published[source_id]:
        item, out = items[p.source_key], p.meeting
        compared += 1
        problems += [f"{out['slug']} ({item.get('slug') or item.get('name')}): {problem}"
                     for problem in meeting_problems(item, out, feed, p.coordinates_conflict)]  # fmt: skip
    assert compared >= 0.9 * len(items), f"only {compared} of {len(items)} records compared"
    assert not problems, f"{len(problems)} problems, first: " + "\n".join(problems[:15])


def test_updated_is_the_sources_own_stamp(published: dict[str, list[Published]]) -> None:
    """≥ 99 % of single-source Meeting Guide meetings carry their source's ``updated``, never the release time."""
    stamped = same = 0
    for source_id, feed in FEEDS.items():
        if feed.family != "meeting_guide":
            continue
        for item, out in _pairs(published, source_id):
            if (stamp := parse_timestamp(str(item.get("updated") or ""))) is not None:
                stamped += 1
                same += out.get("updated") == stamp.strftime("%Y-%m-%d %H:%M:%S")
    assert stamped > 5000 and same >= 0.99 * stamped


def test_no_end_time_is_invented(published: dict[str, list[Published]]) -> None:
    for source_id in FEEDS:
        for item, out in _pairs(published, source_id):
            if item.get("end_time") is None and item.get("duration") is None:
                assert "end_time" not in out, (source_id, out["slug"])

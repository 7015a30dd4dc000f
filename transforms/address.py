"""Postal addresses: venue split from street, US street standardization, city/region/postal/country cleaned.

Sources give either separate fields (BMLT, some feeds) or one line ("3186 Pullman St, Costa Mesa, CA
92626, USA"), often with the venue glued in front ("St. Mark's Church, 100 Main Street") and room or entrance
details around the street ("Dunshee House, 303 17th Ave E, Back Room, 98112", "555 Northgate Wy 98125, enter
from east lot"). The same place must come out the same way from every source, because venues and meetings are
matched on it later, and nothing the source said is lost: what is neither venue nor address is returned as
``details`` (normalization adds it to the meeting's location notes).

A line is read from the right: country, then a ZIP only where a ZIP stands (at the end of a part, after the
street, a city or a state — "1504 Club" is a club, never ZIP 01504), then state and city, then the street
(a house number, an intersection, or a road name such as "Old Glenn Hwy") and the venue before it. The state
the source gives, else the source's registry ``region``, decides: a ZIP of another state is not this
address's ZIP, and a city the source gives is kept (only spelled out when it abbreviates the ZIP's town:
"B'vue 98007" → Bellevue). A city without ZIP or state is taken only when it is a known town of the
source's state ("Center for Wooden Boats, 1010 Valley St, Seattle").
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from transforms.geo import ZipInfo, city_names, clean_postal_code, country_code, known_region, region_code, zip_info
from transforms.refdata import data_rows

_HOUSE_NUMBER = re.compile(r"^\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?$")
_HYPHENATED_HOUSE = re.compile(r"\b(\d+)-(\d+(?:st|nd|rd|th))\b", re.IGNORECASE)
"""Seattle's "21428-44th Ave W" is house 21428 on 44th Ave W (Queens' "118-01 14th Ave" is one number)."""
_GLUED_ORDINAL = re.compile(r"\b(North|South|East|West)(\d+(?:st|nd|rd|th))\b", re.IGNORECASE)
_PARENTHESIS = re.compile(r"\(([^()]*)\)?")
_TRAILING_COUNTRY = re.compile(r"\s(?:USA|U\.S\.A\.?|United States(?: of America)?)$", re.IGNORECASE)
_ZIP_AT_END = re.compile(r"(?:^|(?<=\s)|(?<=,))(?P<zip>\d{5})(?:-(?P<ext>\d{4}))?$")
_CA_POSTAL_AT_END = re.compile(r"(?:^|\s)(?P<zip>[A-Z]\d[A-Z] ?\d[A-Z]\d)$")
_LEADING_POSTAL = re.compile(r"^(?P<postal>\d{4,5})\s+(?P<rest>\D.*)$")
"""European "10115 Berlin": a postal code before the town (never in the US, where it is a house number)."""
_EMBEDDED_NUMBER = re.compile(
    r"^(?P<venue>.*?[A-Za-z].*?[^\d\s,&])(?:[\s,]+|-(?=\d))(?P<street>\d+[A-Za-z]?\s+[A-Za-z0-9].*)$"
)
_INTERSECTION = re.compile(r"\s(?:&|and|@|at)\s", re.IGNORECASE)
_CROSS_STREET = re.compile(r"\s(?:@|at)\s.*$", re.IGNORECASE)
"""A cross street after a numbered street: "1215 Thomas at Pontius", "701 W 168th St @ Fort Washington Ave"."""
_DASH_DETAIL = re.compile(r"\s*(?:\s-\s?|-\s)(?P<detail>.+)$")
_UNIT = re.compile(r"^(?:#\s*\w[\w-]*|(?:ste|suite|apt|unit|bldg|building)\.?\s*#?\s*\w[\w-]*)$", re.IGNORECASE)
"""A unit that belongs to the street line (USPS secondary unit): "Ste 8", "#480", "Suite 100"."""
_UNIT_WORD = re.compile(r"ste|suite|apt|unit|bldg|building", re.IGNORECASE)
_DETAIL_WORDS = re.compile(
    r"\b(?:basement|bsmt|floor|flr|room|rooms|rm|upstairs|downstairs|level|lvl|lobby|lounge|library|libr|kitchen|"
    r"entrance|entry|ent|enter|door|side|rear|back|behind|between|betw|btw|near|across|corner|portable|wing|"
    r"parking|elevator|cafeteria|auditorium|gym|suite|ste|end\s+of|btwn)s?\b|^(?:(?:in|use|off)\b|@|&\s*\d)",
    re.IGNORECASE,
)
"""Words of a room, floor or entrance ("Back Room", "(in back)", "OT ent"), not of a place's name."""
_NOT_A_PLACE = re.compile(
    r"\b(?:no fixed location|varies|on request|call|tba|tbd|to be announced|study)\b", re.IGNORECASE
)
"""A venue column that holds a note ("No Fixed Location - Varies Weekly", "Closed step on request")."""
_ROOM_FIRST = re.compile(r"(?:suite|ste|room|rm|basement|floor|flr|upstairs|downstairs)\b", re.IGNORECASE)
"""A venue column that holds only the room ("Suite 100", "Basement")."""
_ROUTE = re.compile(r"^(?:[A-Z]{1,3}-\d+[A-Z]?|(?:Route|Rte|Rt|Hwy|Highway|SR|US)\.?\s+\d+[A-Z]?)$", re.IGNORECASE)
"""A numbered road alone: "NY-17B", "Route 6", "Hwy 99"."""
_NUMBER_AFTER = re.compile(
    r"^[^\W\d][\w.'-]*(?:\s[^\W\d][\w.'-]*)*(?:str\.|straße|strasse|weg|gasse|platz|allee|ring|damm)\s+\d+[a-z]?$",
    re.IGNORECASE,
)
"""A European street before its number ("Hauptstr. 5", "Am Ring 3")."""
_DIRECTIONS = frozenset({"N", "S", "E", "W", "NE", "NW", "SE", "SW"})


class Address(NamedTuple):
    venue_name: str | None
    address_line: str | None
    city: str | None
    region_code: str | None
    postal_code: str | None
    postal_code_ext: str | None
    country: str | None
    details: str | None = None
    """Room, floor, entrance or cross-street text found among the address parts ("Back Room")."""


class _Line(NamedTuple):
    venue: str | None
    street: str | None
    city: str | None
    region: str | None
    postal: str | None
    postal_ext: str | None
    country: str | None
    details: list[str]


@cache
def _words(kind: str) -> frozenset[str]:
    """``transforms/data/address_words.csv``: suffixes that make a part a road ("Hwy"; not "Park" or
    "Center", which name places as often) and words of places' names ("Club", "Hall")."""
    return frozenset(row["word"] for row in data_rows("address_words.csv") if row["kind"] == kind)


@cache
def _abbreviations() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {"suffix": {}, "directional": {}}
    for row in data_rows("street_abbreviations.csv"):
        table[row["kind"]][row["word"]] = row["abbreviation"]
    return table


def _word(token: str) -> str:
    return token.rstrip(".,").lower()


def standardize_street(street: str) -> str:
    """USPS-style abbreviations in a US street line: "7 West 55th Street" → "7 W 55th St".

    Only the street's own tokens change: a directional right after the house number (when a name
    follows), the last suffix word (when a name precedes it) and a trailing directional. "Avenue A",
    "Avenue of the Americas" and "St. Mark's Place" keep their words.
    """
    head, sep, tail = street.partition(",")
    tokens = head.split()
    if len(tokens) < 2 or not _HOUSE_NUMBER.match(tokens[0]):
        return street
    directional, suffix = _abbreviations()["directional"], _abbreviations()["suffix"]
    last = len(tokens) - 1
    if last >= 3 and _word(tokens[last]) in directional and _word(tokens[last - 1]) in suffix:
        tokens[last] = directional[_word(tokens[last])]
        last -= 1
    if last >= 2 and _word(tokens[last]) in suffix:
        tokens[last] = suffix[_word(tokens[last])]
        last -= 1
    if last >= 2 and _word(tokens[1]) in directional:
        tokens[1] = directional[_word(tokens[1])]
    return " ".join(tokens) + sep + tail


def _is_numbered_street(part: str) -> bool:
    """A house number and a street name ("1010 Valley St"; not "1504 Club"), or an intersection with a numbered
    or named road on one side ("136th & Ambaum", "Hwy 19 & Oddfellow Ln"; not "12 & 12 Fellowship")."""
    tokens = part.split()
    if len(tokens) >= 2 and _HOUSE_NUMBER.match(tokens[0]):
        rest = [_word(t) for t in tokens[1:]]
        return rest[0] not in ("&", "and") and not (len(rest) == 1 and rest[0] in _words("venue"))
    if _INTERSECTION.search(part):
        return any(re.search(r"\d(?:st|nd|rd|th)\b", side, re.IGNORECASE) or _ends_in_road(side)
                   for side in _INTERSECTION.split(part, maxsplit=1))  # fmt: skip
    return False


def _ends_in_road(text: str) -> bool:
    """ "Oddfellow Ln", "lst Ave N": a road suffix at the end, or before a final directional."""
    words = [_word(t) for t in text.split()]
    if (words and words[-1] in _abbreviations()["directional"]) or (words and words[-1].upper() in _DIRECTIONS):
        words = words[:-1]
    return bool(words) and words[-1] in _words("road")


def _has_house_number(part: str) -> bool:
    """A street with its number, alone or behind a venue, or a numbered route: never a town."""
    match = _EMBEDDED_NUMBER.match(part)
    return _is_numbered_street(part) or bool(match and _is_numbered_street(match["street"])) or bool(_ROUTE.match(part))


def _is_street(part: str) -> bool:
    """A numbered street or intersection, one glued behind a venue ("VFW Hall 8305 Meadowbrook Way SE"), a road
    named by its suffix ("Old Glenn Hwy", "Highway 19"), a route ("NY-17B"), or a street before its number
    ("Hauptstr. 5")."""
    if not part:
        return False
    if _is_numbered_street(part) or _ROUTE.match(part) or _NUMBER_AFTER.match(part):
        return True
    if (match := _EMBEDDED_NUMBER.match(part)) and _is_numbered_street(match["street"]):
        return True
    tokens = part.split()
    return len(tokens) >= 2 and (_word(tokens[-1]) in _words("road") or _word(tokens[0]) in ("highway", "hwy", "route"))


def _is_detail(text: str) -> bool:
    return _DETAIL_WORDS.search(text) is not None


def _is_detail_note(note: str) -> bool:
    """A parenthetical that is a room, an entrance or a cross street ("& Greene", "at Phinney")."""
    return _is_detail(note) or re.match(r"(?:&|@|at\s)", note, re.IGNORECASE) is not None


def split_venue(street: str) -> tuple[str | None, str]:
    """(venue, street) from a line that may start with a place name: "Fifth Av Church, 7 W 55th St"."""
    parts = [p.strip() for p in street.split(",") if p.strip()]
    for i, part in enumerate(parts):
        if _is_numbered_street(part):
            return (", ".join(parts[:i]) or None), ", ".join(parts[i:])
    if match := _EMBEDDED_NUMBER.match(parts[0] if parts else ""):
        return match["venue"], ", ".join([match["street"], *parts[1:]])
    return None, ", ".join(parts)


def _state_of(text: str, country: str | None) -> str | None:
    """A state or province code when ``text`` names one ("WA", "Washington"; not "Wy", a way), else ``None``."""
    if len(text) == 2 and not text.isupper():
        return None
    if known := known_region(text, country):
        return known
    return text if country not in ("US", "CA") and re.fullmatch(r"[A-Z]{2}", text) else None


def _town_key(name: str) -> str:
    """Lower-case letters and single spaces: how ``transforms.geo.city_names`` keys a town."""
    return " ".join("".join(ch for ch in name.lower() if ch.isalpha() or ch == " ").split())


def _abbreviates(short: str, full: str) -> bool:
    """ "B'vue" abbreviates "Bellevue", "Mtlk Terr" "Mountlake Terrace": word by word, same first letter,
    the short word's letters in order within the long one."""
    short_words, full_words = _town_key(short).split(), _town_key(full).split()
    if not short_words or len(short_words) != len(full_words) or short_words == full_words:
        return False
    if any(len(w) < 2 for w in short_words):
        return False
    for s, f in zip(short_words, full_words, strict=True):
        letters = iter(f)
        if s[:1] != f[:1] or not all(ch in letters for ch in s):
            return False
    return True


def _abbreviates_or_is(short: str, full: str) -> bool:
    return _town_key(short) == _town_key(full) or _abbreviates(short, full)


def _known_city(name: str, region: str | None, country: str | None) -> str | None:
    """The town's name as the ZIP table spells it, when ``name`` is a town of ``region``."""
    if country != "US" or not region or not name or re.search(r"\d", name):
        return None
    return city_names(region).get(_town_key(name))


def _spelled_out(city: str, info: ZipInfo | None) -> str:
    """The source's city, spelled out when it abbreviates a town of its ZIP ("B'vue 98007" → Bellevue,
    "Fed Way 98001" → Federal Way); a town of its own ("Newton", not Newtonville) and any other city the source
    gives are kept as given."""
    if info is None or _town_key(city) in city_names(info.region_code):
        return city
    towns = (info.city, *info.other_cities)
    return next((town for town in towns if _abbreviates(city, town)), city)


def zip_fits(postal: str | None, region: str | None, country: str | None) -> bool:
    """A US ZIP belongs to an address of ``region`` unless the ZIP table puts it in another state."""
    info = zip_info(postal, country)
    return info is None or region is None or info.region_code == region


def _without_parentheses(part: str) -> tuple[str, list[str]]:
    notes = [m[1].strip() for m in _PARENTHESIS.finditer(part) if m[1].strip()]
    return " ".join(_PARENTHESIS.sub(" ", part).split()), notes


def _postal_at_end(part: str, country: str | None, first: bool) -> re.Match[str] | None:
    """A postal code ending ``part``; in the line's first part only after some text (else a house number)."""
    found = (_CA_POSTAL_AT_END if country == "CA" else _ZIP_AT_END).search(part)
    return found if found and (not first or found.start() > 0) else None


def _split_street(part: str, details: list[str]) -> tuple[str | None, str]:
    """(venue glued in front, street) of the street part; a cross street or a dashed remark go to details."""
    venue = None
    if (match := _EMBEDDED_NUMBER.match(part)) and not _is_numbered_street(part):
        venue, part = match["venue"], match["street"]
    if (dash := _DASH_DETAIL.search(part)) and (_is_detail(dash["detail"]) or not _is_street(dash["detail"])):
        details.insert(0, dash["detail"])
        part = part[: dash.start()]
    if part.split() and _HOUSE_NUMBER.match(part.split()[0]):
        rooms = (m for m in _DETAIL_WORDS.finditer(part, len(part.split()[0])) if not _UNIT_WORD.fullmatch(m[0]))
        if (word := next(rooms, None)) and word.start() > len(part.split()[0]) + 1:
            details.insert(0, part[word.start() :].strip())
            part = part[: word.start()]
            tokens = part.split()
            roads = [j for j, t in enumerate(tokens) if _word(t) in _words("road")]
            if roads and roads[-1] + 1 < len(tokens) and _word(tokens[-1]) not in _abbreviations()["directional"]:
                venue = venue or " ".join(tokens[roads[-1] + 1 :])
                part = " ".join(tokens[: roads[-1] + 1])
        if cross := _CROSS_STREET.search(part):
            details.insert(0, cross[0].strip())
            part = part[: cross.start()]
    return venue, part.strip(" ,-")


def parse_line(text: str, country: str | None, region: str | None) -> _Line:
    """Venue, street, city, state, postal code, country and details of one address line, read from the right.

    ``country`` and ``region`` are what is known of the line from elsewhere (separate fields, the source's
    registry entry): they decide how postal codes, states and towns are read.
    """
    text = _GLUED_ORDINAL.sub(r"\1 \2", _HYPHENATED_HOUSE.sub(r"\1 \2", text))
    raw = [p.strip() for p in re.split(r",(?![^(]*\))", text) if p.strip()]
    plain, notes = map(list, zip(*(_without_parentheses(p) for p in raw), strict=True)) if raw else ([], [])
    last_part = plain[-1] if len(plain) > 1 else ""
    two_letters = len(last_part) == 2 and (last_part.upper() in _DIRECTIONS or known_region(last_part, country))
    line_country = country_code(last_part) if last_part and not two_letters else None
    if line_country:
        plain.pop()
    elif plain and (glued := _TRAILING_COUNTRY.search(plain[-1])) and glued.start() > 0:
        line_country, plain[-1] = country_code(glued[0]), plain[-1][: glued.start()].strip()
    country = line_country or country or "US"
    postal = ext = state = city = None
    end = len(plain)
    after: list[str] = []
    for i in range(len(plain) - 1, -1, -1):
        if found := _postal_at_end(plain[i], country, first=i == 0):
            postal, ext = found["zip"], found.groupdict().get("ext")
            after = plain[i + 1 : end]  # "…98125, enter from east lot": what follows the ZIP is a detail
            plain[i], end = plain[i][: found.start()].strip(" ,"), i + 1
            break
    leading = None
    if postal is None and plain and country not in ("US", "CA") and (leading := _LEADING_POSTAL.match(plain[-1])):
        postal, plain[-1] = leading["postal"], leading["rest"]
    while end > 1 and not plain[end - 1]:
        end -= 1
    if end and not leading and not _is_street(plain[end - 1]):
        words = plain[end - 1].split()
        for size in (2, 1):
            if len(words) >= size and (found_state := _state_of(" ".join(words[-size:]), country)):
                state, plain[end - 1] = found_state, " ".join(words[:-size])
                break
    while end and not plain[end - 1] and end - 1 > 0:
        end -= 1
    region = state or region
    details: list[str] = []
    units: list[str] = []
    last = plain[end - 1] if end else ""
    if last and (postal or state or leading) and _UNIT.match(last):
        units.append(last)
        end -= 1
        last = plain[end - 1] if end else ""
    if last and (postal or state or leading) and not _has_house_number(last) and re.search(r"[A-Za-z]{2}", last):
        town = _known_city(last, region, country)
        if town is None and _is_detail(last):
            details.append(last)
            end -= 1
        elif town is not None or not _words("venue") & {_word(w) for w in last.split()} or (end == 1 and postal):
            city, end = last, end - 1
    streets = [i for i in range(end) if _is_street(plain[i])]
    numbered = [i for i in streets if _HOUSE_NUMBER.match(plain[i].split()[0]) and not _is_detail(plain[i])]
    street_at = max(numbered or [i for i in streets if not _is_detail(plain[i])] or streets, default=None)
    if (
        city is None
        and end
        and street_at is not None
        and end - 1 > street_at
        and _known_city(plain[end - 1], region, country)
    ):
        city, end = plain[end - 1], end - 1
    if city is None and postal and street_at == end - 1 and (info := zip_info(postal, country)):
        words = plain[street_at].split()  # "1836 156th Ave NE B'vue 98007": the town glued behind the street
        for size in (3, 2, 1):
            glued = words[-size:]
            street_words = _words("road") | set(_abbreviations()["directional"])
            fits = len(words) > size + 1 and not street_words & {_word(w) for w in glued}
            if fits and _abbreviates_or_is(" ".join(glued), info.city):
                city, plain[street_at] = " ".join(glued), " ".join(words[:-size])
                break
    venue = street = None
    if street_at is not None:
        venue = raw[0] if street_at > 0 else None
        details += raw[1:street_at]
        glued, street = _split_street(plain[street_at], details)
        venue = venue or glued
        details += notes[street_at]
        for k in range(street_at + 1, end):
            if _UNIT.match(plain[k]):
                street = f"{street}, {plain[k]}"
            elif _word(plain[k]) in _abbreviations()["directional"] or plain[k].upper() in _DIRECTIONS:
                street = f"{street} {plain[k]}"
            elif plain[k]:
                details.append(plain[k])
            details += notes[k]
        street = ", ".join([street, *units])
        if venue is None and (
            named := [n for n in notes[street_at] if not re.search(r"[\d&@]", n) and not _is_detail(n)]
        ):
            venue = named[0]  # "2719 E Madison Ste 200 (Sound Mental Health-Madison)": the place's name
    elif end:  # no street: the first part is the place's name (its parentheses judged with the venue) or a note
        intact = plain[0] == _without_parentheses(raw[0])[0]
        first = raw[0] if intact else plain[0]
        if _NOT_A_PLACE.search(first):
            details.append(first)
        else:
            venue = first
        details += ([] if intact else notes[0]) + plain[1:end] + [n for k in range(1, end) for n in notes[k]]
    details += [n for k in range(end, len(notes)) for n in notes[k]] + after
    return _Line(venue or None, street or None, city, state, postal, ext, line_country, [d for d in details if d])


def _clean_venue(venue: str | None, street: str | None) -> tuple[str | None, list[str]]:
    """A venue without its room or entrance details ("Awakening Your Truth, Room 255", "Moravian Church (back
    door)") or a copy of the street ("Newtown United Methodist Church 35 Liberty St"); a venue that is the street,
    an intersection or a note is no venue, its text a detail."""
    if not venue:
        return None, []
    if _NOT_A_PLACE.search(venue) or _ROOM_FIRST.match(venue):
        return None, [venue]
    name, notes = _without_parentheses(venue)
    details = [n for n in notes if _is_detail_note(n)]
    kept = [n for n in notes if not _is_detail_note(n)]
    if (dash := _DASH_DETAIL.search(name)) and _is_detail(dash["detail"]):
        details.insert(0, dash["detail"])
        name = name[: dash.start()].strip()
    parts = [p.strip() for p in name.split(",") if p.strip()] or [name]
    details += [p for p in parts[1:] if _is_detail(p)]
    name = ", ".join([parts[0], *(p for p in parts[1:] if not _is_detail(p))])
    house = street.split()[0] if street else None
    glued = _EMBEDDED_NUMBER.match(name)
    if glued and glued["street"].split()[0] == house and _is_numbered_street(glued["street"]):
        name = glued["venue"]  # the venue column repeats the street after the name
    if street and _is_numbered_street(parts[0]):
        if parts[0].split()[0] == house:  # the street again ("7630 145th Street West, Suite 100")
            return None, [*kept, *details]
        sides = _INTERSECTION.split(parts[0], maxsplit=1)
        roads = [re.search(r"\d(?:st|nd|rd|th)\b", x) or _ends_in_road(x) or _ROUTE.match(x.strip()) for x in sides]
        if len(sides) == 2 and all(roads):
            return None, [name, *details]  # an intersection ("Hwy 19 & Oddfellow Ln")
    return " ".join([name, *(f"({k})" for k in kept)]) or None, details


def clean_address(
    venue: str | None,
    address: str | None,
    city: str | None,
    region: str | None,
    postal: str | None,
    country: str | None,
    formatted: str | None,
    default_country: str | None,
    default_region: str | None = None,
) -> Address:
    """One canonical address from whichever fields the source gave (all inputs already ``clean_text``-ed).

    Separate fields win over what a line says; ``address`` (or ``formatted_address`` when there is no
    ``address``) is read as a line for the street, the venue glued in front of it, and the parts the separate
    fields leave out. ``default_country`` and ``default_region`` are the source's registry ``country`` and
    ``region``, for what the address does not say. The state comes from the record (its field, its line, its
    ZIP) before the registry's; a ZIP of another state than the record's own is dropped (the record's state and
    city stay), and a ZIP read from a line must also fit the registry's state. Missing city/state of a US ZIP
    are filled from the ZIP table.
    """
    country_iso = country_code(country)
    known_country = country_iso or default_country
    default = region_code(default_region, known_country) if known_country == default_country else None
    given = region_code(region, known_country)
    text = address or formatted
    line = parse_line(text, known_country, given or default) if text else None
    if line:
        country_iso = country_iso or line.country
        known_country = country_iso or default_country
    stated = given or (line.region if line else None)
    postal_code, postal_ext = clean_postal_code(postal, known_country)
    if postal_code is None and line and line.postal:
        postal_code, postal_ext = clean_postal_code(line.postal, known_country)
        postal_ext = postal_ext or line.postal_ext
        if not zip_fits(postal_code, stated or default, known_country):
            postal_code = postal_ext = None
    if not zip_fits(postal_code, stated, known_country):
        postal_code = postal_ext = None
    info = zip_info(postal_code, known_country)
    region_final = stated or (info.region_code if info else None)
    if region_final is None and default and (text or venue or city or postal_code):
        region_final = default
    street = line.street if line else None
    if line and street is None and line.venue and (address or venue or (line.postal and line.region)):
        # the source's street field, or a full postal line whose venue is given apart: the rest is the street
        street, line = line.venue, line._replace(venue=None)
    if street and known_country == "US":
        street = standardize_street(street)
    if city and len(city) == 2 and known_region(city, known_country):  # a state in the city column ("PA")
        city = None
    if city and line and line.city and _town_key(line.city) != _town_key(city):
        line.details.append(line.city)  # the source's city field wins; what the line held there is kept
    city_final = city or (line.city if line else None)
    if city_final:
        city_final = _spelled_out(city_final, info)
    elif info:
        city_final = info.city
    venue_final, venue_details = _clean_venue(venue or (line.venue if line else None), street)
    notes = [n for n in [*venue_details, *(line.details if line else [])] if n != venue_final]
    return Address(
        venue_final,
        street,
        city_final,
        region_final,
        postal_code,
        postal_ext,
        known_country,
        "; ".join(dict.fromkeys(n for n in notes if n)) or None,
    )


def parse_formatted(text: str, default_country: str | None) -> _Line | None:
    """A formatted line's parts; ``None`` when it has no postal code, state or country to anchor it."""
    line = parse_line(text, default_country, None)
    return line if (line.postal or line.region or line.country) else None


_PARENTHESES = re.compile(r"\s*\(([^()]*)\)")
_INSIDE = (
    r"(?:basement|bsmt"
    r"|(?:\d+(?:st|nd|rd|th)|ground|main|lower|upper|top|first|second|third)\s+(?:fl(?:oo)?r?\.?|level)"
    r"|floor|flr|(?:rm|room)\b\.?\s*#?\s*[\w/-]+|upstairs|downstairs|lower level|rear entrance|side entrance)"
)
_DASHED_DETAIL = re.compile(rf"^(?P<street>.*?\S)\s*(?:\s-|-\s)\s*(?P<detail>.*\b{_INSIDE}\b.*)$", re.IGNORECASE)
""""275 N 8th Street - basement", "409 E 241st Street- 2nd floor" (a dash inside "39-60 57th St" is not one)."""
_TRAILING_DETAIL = re.compile(rf"^(?P<street>\d\S*\s+\S.*?)\s+(?P<detail>{_INSIDE}\b.*)$", re.IGNORECASE)
""""303 W 42nd St Rm 306": floor or room words after the street, with no separator."""
NO_PLACE_TEXT = re.compile(
    r"^(?:online|virtual|zoom|web|internet|remote|phone|telephone|conference call|tbd|tba|n/?a|none|unknown)"
    r"(?:\s+(?:only|meeting|meetings))?$",
    re.IGNORECASE,
)
"""Place text that names no place at all ("Online Meeting", "TBD"): neither a venue to go to nor an unparsed
address (kept as the source wrote it, but it makes no meeting in person)."""


def split_details(line: str | None, *known: str | None) -> tuple[str | None, str | None]:
    """(street, details): what follows the street after a comma, a dash or sits in parentheses, and floor or
    room words after it, are not part of a postal address but tell people where to go inside ("7 W 55th St,
    5th Floor", "22 Barclay Street (Basement)", "303 W 42nd St Rm 306"); the spec puts them in
    ``location_notes``. Postal unit designators (Suite, #, Unit, Apt) stay: they are part of the address.
    Parts equal to one of ``known`` (the city, state, postal code the record already has) are dropped, not
    moved."""
    if not line:
        return line, None
    head, *rest = (part.strip() for part in line.split(","))
    details = [inner.strip() for inner in _PARENTHESES.findall(head)]
    head = _PARENTHESES.sub("", head).strip()
    if match := _DASHED_DETAIL.match(head) or _TRAILING_DETAIL.match(head):
        head, details = match["street"], [*details, match["detail"]]
    details += rest
    skip = {k.casefold() for k in known if k}
    details = [d.strip(" .") for d in details if d.strip(" .") and d.strip(" .").casefold() not in skip]
    return head or None, ", ".join(details) or None


def _is_known(part: str, address: Address) -> bool:
    """A part of a place line that the parsed address already holds ("Scranton", "PA 18503", "USA")."""
    values = {v.casefold() for v in (address.city, address.region_code, address.postal_code, address.venue_name)
              if v}  # fmt: skip

    def known(word: str) -> bool:
        return (
            word.casefold() in values
            or (address.country is not None and country_code(word) == address.country)
            or (address.region_code is not None and known_region(word, address.country) == address.region_code)
        )

    words = part.rsplit(" ", 1)
    return known(part) or (len(words) == 2 and known(words[0]) and known(words[1]))


def unparsed_place(text: str | None, address: Address) -> str | None:
    """``text`` (the source's own place line) when no street came out of it and it says more than the city,
    state, postal code and country that did: a place we failed to read, kept as the source wrote it."""
    if not text or address.address_line:
        return None
    unknown = [p for p in (p.strip(" .") for p in text.split(",")) if p and not _is_known(p, address)]
    return text if unknown and not all(NO_PLACE_TEXT.match(p) for p in unknown) else None

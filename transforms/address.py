"""Postal addresses: venue split from street, US street standardization, city/region/postal/country cleaned.

Sources give either separate fields (BMLT, some feeds) or one line ("3186 Pullman St, Costa Mesa, CA
92626, USA"), often with the venue glued in front ("St. Mark's Church, 100 Main Street"). The same place
must come out the same way from every source, because venues and meetings are matched on it later.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

import usaddress

from transforms.geo import clean_postal_code, country_code, known_region, region_code, zip_info
from transforms.refdata import data_rows

_HOUSE_NUMBER = re.compile(r"^\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?$")
_TRAILING_POSTAL = re.compile(r"^(?P<rest>.*?)\s*(?P<postal>\d{5}(?:-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d)$")
_LEADING_POSTAL = re.compile(r"^(?P<postal>\d{4,5})\s+(?P<rest>\D.*)$")
_EMBEDDED_NUMBER = re.compile(r"^(?P<venue>.*?[^\d\s,])[\s,]+(?P<street>\d+[A-Za-z]?\s+[A-Za-z].*)$")
_VENUE_LABELS = frozenset({"Recipient", "BuildingName", "LandmarkName", "PlaceName"})


class Address(NamedTuple):
    venue_name: str | None
    address_line: str | None
    city: str | None
    region_code: str | None
    postal_code: str | None
    postal_code_ext: str | None
    country: str | None


class _Formatted(NamedTuple):
    street: str | None
    city: str | None
    region: str | None
    postal: str | None
    country: str | None


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


def split_venue(street: str) -> tuple[str | None, str]:
    """(venue, street) from a line that may start with a place name: "Fifth Av Church, 7 W 55th St"."""
    parts = [p.strip() for p in street.split(",") if p.strip()]
    for i, part in enumerate(parts):
        if _HOUSE_NUMBER.match(part.split()[0]):
            return (", ".join(parts[:i]) or None), ", ".join(parts[i:])
    tagged = usaddress.parse(parts[0]) if parts else []
    labels = [label for _, label in tagged]
    at = labels.index("AddressNumber") if "AddressNumber" in labels else 0
    if at > 0 and all(label in _VENUE_LABELS for label in labels[:at]):
        venue = " ".join(token for token, _ in tagged[:at]).rstrip(",")
        return venue, ", ".join([" ".join(token for token, _ in tagged[at:]), *parts[1:]])
    if match := _EMBEDDED_NUMBER.match(parts[0] if parts else ""):
        return match["venue"], ", ".join([match["street"], *parts[1:]])
    return None, ", ".join(parts)


def _is_region(text: str, country: str | None) -> bool:
    return known_region(text, country) is not None or re.fullmatch(r"[A-Z]{2}", text) is not None


def parse_formatted(text: str, default_country: str | None) -> _Formatted | None:
    """Split "street, city, ST 12345, Country" from the right; ``None`` if no region/postal/country tail."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    country = country_code(parts[-1]) if len(parts) > 1 else None
    if country:
        parts.pop()
    known_country = country or default_country
    region = postal = None
    if parts and (match := _TRAILING_POSTAL.match(parts[-1])):
        rest, postal = match["rest"].strip(), match["postal"]
        if not rest:
            parts.pop()
        elif _is_region(rest, known_country):
            region = region_code(rest, known_country)
            parts.pop()
        else:
            parts[-1] = rest
    elif parts and (match := _LEADING_POSTAL.match(parts[-1])):
        postal, parts[-1] = match["postal"], match["rest"]
    elif len(parts) > 1 and _is_region(parts[-1], known_country):
        region = region_code(parts.pop(), known_country)
    if not (country or region or postal):
        return None
    city = None
    if parts and (len(parts) > 1 or not _HOUSE_NUMBER.match(parts[-1].split()[0])):
        city = parts.pop()
    return _Formatted(", ".join(parts) or None, city, region, postal, country)


def clean_address(
    venue: str | None,
    address: str | None,
    city: str | None,
    region: str | None,
    postal: str | None,
    country: str | None,
    formatted: str | None,
    default_country: str | None,
) -> Address:
    """One canonical address from whichever fields the source gave (all inputs already ``clean_text``-ed).

    Separate fields win over ``formatted_address``; an ``address`` that is really a whole formatted
    line (TSML CSV exports) is split when the city is missing. Missing city/state of a US ZIP are filled
    from the ZIP table; a blank or unknown country falls back to the source's.
    """
    country_iso = country_code(country)
    line = address
    fallback = formatted if address is None else address if city is None and "," in address else None
    if fallback and (parsed := parse_formatted(fallback, country_iso or default_country)):
        line = parsed.street if address is None or parsed.street else address
        city, region, postal = city or parsed.city, region or parsed.region, postal or parsed.postal
        country_iso = country_iso or parsed.country
    country_iso = country_iso or default_country
    venue_from_line = None
    if line:
        venue_from_line, line = split_venue(line)
        if country_iso == "US":
            line = standardize_street(line)
    postal_code, postal_ext = clean_postal_code(postal, country_iso)
    region = region_code(region, country_iso)
    if (city is None or region is None) and (info := zip_info(postal_code, country_iso)):
        city, region = city or info.city, region or info.region_code
    return Address(venue or venue_from_line, line or None, city, region, postal_code, postal_ext, country_iso)


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
_NOT_A_PLACE = re.compile(
    r"^(?:online|virtual|zoom|web|internet|remote|phone|telephone|conference call|tbd|tba|n/?a|none|unknown)"
    r"(?:\s+(?:only|meeting|meetings))?$",
    re.IGNORECASE,
)


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
    return text if unknown and not all(_NOT_A_PLACE.match(p) for p in unknown) else None

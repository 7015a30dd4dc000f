"""Organization-level source families: directories of chapters and affiliates (DBSA chapters, NAMI affiliates)
rather than of meetings.

Such a directory names organizations and the groups they hold, often without a weekly schedule a meeting
record could carry ("second and fourth Tuesdays", "call for times"), so a family here does not produce
``SourceRecord`` meetings. It produces ``Organization`` records, which a release publishes as Open Referral HSDS
``organization`` + ``service`` + ``location`` (``warehouse/exporters/organizations.py``): the chapter, each of
its support groups as a service with the schedule in the source's own words, and the chapter's place.

The interface is the one of the meeting families: a module ``extractors/organizations/<family>.py`` with
``fetch(source, get)`` (the polite crawl of ``extractors.html.base``) and a pure ``parse(snapshot)`` returning
``list[Organization]`` that raises ``LayoutChanged`` when the page no longer looks as it did (never an empty
list from a page that had organizations). Only official contacts of the organization are read (its website,
office phone and e-mail), never members' names.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Group:
    """A support group an organization holds (an HSDS ``service``)."""

    name: str
    schedule: str | None = None
    """When it meets, in the source's own words (not parsed into a weekly schedule it may not be)."""
    place: str | None = None
    """Where it meets, as the source wrote it."""
    url: str | None = None


@dataclass(frozen=True)
class Organization:
    """A chapter or affiliate (an HSDS ``organization`` with a ``location``)."""

    source_key: str
    name: str
    fellowship: str
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country: str = "US"
    groups: tuple[Group, ...] = field(default_factory=tuple)

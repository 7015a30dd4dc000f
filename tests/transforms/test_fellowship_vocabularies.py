"""Per-fellowship vocabularies: a Recovery Dharma feed (constructed, ``tests/fixtures/meeting_guide/constructed``)
maps its own codes, never AA's, and counts the codes no public material documents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors import meeting_guide
from extractors.fetch import Snapshot, SnapshotPart
from extractors.records import to_arrow
from foundation.source import Source
from transforms.crosswalk import OWN_VOCABULARY, lookup
from transforms.normalize import NormalizeResult, normalize

FEED = Path(__file__).resolve().parents[1] / "fixtures" / "meeting_guide" / "constructed" / "recovery-dharma.json"
URL = "https://rd.example.org/wp-admin/admin-ajax.php?action=meetings"


def _normalized(fellowship: str) -> NormalizeResult:
    source = Source(id="rd-constructed", name="constructed", fellowship=fellowship, kind="meeting_guide", url=URL)
    snapshot = Snapshot(source_id=source.id, fetch_id="f1", fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
                        parts=(SnapshotPart(meeting_guide.PART, URL, FEED.read_bytes()),))  # fmt: skip
    records = meeting_guide.parse(snapshot)
    return normalize(to_arrow(source.id, "f1", records), {source.id: source})


@pytest.fixture(scope="module", params=sorted(OWN_VOCABULARY))
def rd(request: pytest.FixtureRequest) -> NormalizeResult:
    return _normalized(request.param)


def _meeting(result: NormalizeResult, key: str) -> dict:
    rows = [r for r in result.versions.to_pylist() if r["source_key"].startswith(key)]
    assert len(rows) == 1, key
    return rows[0]


def test_bb_is_not_a_book_study(rd: NormalizeResult) -> None:
    sunday = _meeting(rd, "sunday-sangha")
    assert "book_study" not in sunday["types"]
    assert sunday["types"] == ["meditation"] and sunday["open_closed"] == "open"
    assert "BB" in sunday["unknown_types"]


def test_undocumented_codes_stay_unknown_and_are_counted(rd: NormalizeResult) -> None:
    counts = {r["code"]: r["count"] for r in rd.unknown_types.to_pylist()}
    assert counts == {"BB": 1, "FDIS": 1, "FBS": 1, "FSPK": 1, "ILGB": 1, "B": 1, "D": 1}


def test_aa_codes_are_not_borrowed(rd: NormalizeResult) -> None:
    queer = _meeting(rd, "queer-sangha")
    assert queer["types"] == [] and queer["languages"] == []  # AA's B = Big Book, D = Discussion not applied
    book = _meeting(rd, "book-study")  # the plugin gives every program the spec's languages: S is Spanish
    assert book["types"] == ["women"] and book["languages"] == ["es"]


def test_own_codes_are_mapped(rd: NormalizeResult) -> None:
    inquiry = _meeting(rd, "inquiry-discussion")
    assert inquiry["types"] == ["book_study"] and inquiry["open_closed"] == "closed"


def test_the_same_codes_in_an_aa_feed_use_aa_meanings() -> None:
    aa = _normalized("AA")
    queer = _meeting(aa, "queer-sangha")
    assert set(queer["types"]) == {"big_book", "discussion"}
    assert lookup("BB", "meeting_guide", "MA") is not None  # Marijuana Anonymous documents its own BB


def test_own_vocabulary_keeps_the_spec_languages_and_attendance() -> None:
    assert lookup("ITA", "meeting_guide", "RD").languages == ("it",)
    assert lookup("TC", "meeting_guide", "RR").attendance == "location_closed"
    assert lookup("D", "meeting_guide", "RD") is None

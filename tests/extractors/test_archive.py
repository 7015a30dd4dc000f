"""The raw archive keeps an identical body once across days: a later day links to the earlier copy."""

from __future__ import annotations

from pathlib import Path

from extractors.archive import Archive
from tests.conftest import SNAPSHOTS

BODY = (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()
URL = "https://sussexaa.org/wp-admin/admin-ajax.php?action=meetings"


def test_the_same_body_on_later_days_is_stored_once(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    paths = [archive.store_body("sussex-aa", day, BODY, "application/json", URL)[1]
             for day in ("2026-12-04", "2026-12-05", "2026-12-06")]  # fmt: skip
    files = [tmp_path / p for p in paths]
    assert [p.parent.name for p in files] == ["2026-12-04", "2026-12-05", "2026-12-06"]  # each day whole
    assert all(f.read_bytes() == BODY for f in files)
    assert len({f.stat().st_ino for f in files}) == 1 and files[0].stat().st_nlink == 3  # one copy on disk
    (tmp_path / paths[0]).unlink()  # pruning the first day frees nothing the later days use
    assert archive.read_body(paths[2]) == BODY


def test_a_changed_body_is_a_new_file(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    _, first = archive.store_body("sussex-aa", "2026-12-05", BODY, "application/json", URL)
    _, second = archive.store_body("sussex-aa", "2026-12-06", BODY + b" ", "application/json", URL)
    assert (tmp_path / first).stat().st_ino != (tmp_path / second).stat().st_ino
    assert (tmp_path / second).stat().st_nlink == 1


def test_a_fetch_record_as_json_is_its_fields_copied_and_reads_back_the_same(tmp_path: Path) -> None:
    from dataclasses import asdict

    from extractors.archive import FetchRecord, PartRecord

    part = PartRecord("meetings", "https://a.example/feed", 304, "ab" * 32, 10, "s/2026-11-01/x.json",
                      etag='"v1"', not_modified=True, redirects=["https://b.example/feed"])  # fmt: skip
    record = FetchRecord("s@1", "s", "2026-11-01T03:00:00+00:00", status="unchanged", parts=[part],
                         off_scope_links=1, off_scope_examples=["https://c.example/"])  # fmt: skip
    data = record.to_json()
    assert data == asdict(record)
    data["parts"][0]["redirects"].append("changed")
    data["off_scope_examples"].clear()
    assert part.redirects == ["https://b.example/feed"] and record.off_scope_examples, "a copy, not the record's"
    archive = Archive(tmp_path / "raw")
    assert archive.read_fetch(archive.write_fetch(record)) == record

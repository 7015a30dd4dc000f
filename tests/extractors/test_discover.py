"""`clearinghouse sources discover bmlt`: the aggregator's real server list (and its real history) into a registry
file, merged without changing ids, and the discovered sources run against recorded root servers."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from clearinghouse.cli import main
from extractors.discovery import DiscoveryError
from extractors.discovery.bmlt import country_from_host, listed_sources, parse_server_list, source_ids
from extractors.discovery.registry_file import merge, read_entries, render
from extractors.registry import load_registry
from tests.conftest import REPO, SNAPSHOTS
from tests.support import serve

LISTS = REPO / "tests" / "fixtures" / "bmlt" / "serverlist"
CURRENT = LISTS / "serverList.json"
BMLT = REPO / "tests" / "fixtures" / "bmlt"


def entries(path: Path) -> dict[str, dict]:
    return {e["id"]: e for e in yaml.safe_load(path.read_text())["sources"]}


def discover(*args: str | Path) -> int:
    return main(["sources", "discover", "bmlt", *map(str, args)])


def test_the_server_list_gives_42_valid_sources_and_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "na.yaml"
    assert discover(CURRENT, "--out", out) == 0
    servers = json.loads(CURRENT.read_text())
    sources = load_registry(out)
    assert len(sources) == len(servers) == 42
    assert {(s.name, s.url) for s in sources} == {(x["name"], x["url"]) for x in servers}
    assert {(s.kind, s.fellowship) for s in sources} == {("bmlt", "NA")}
    assert len({s.id for s in sources}) == 42
    assert main(["sources", "check", "--sources", str(out)]) == 0
    assert "added 42, changed 0" in capsys.readouterr().err

    text = out.read_text()
    assert text.startswith("# NA root servers from the BMLT server list")
    assert f"from {CURRENT} (42 servers) on " in text
    assert discover(CURRENT, "--out", out) == 0  # a refresh with nothing new leaves the file as it was
    assert out.read_text() == text
    assert "no change" in capsys.readouterr().err


def test_ids_come_from_the_host_and_stay_readable():
    ids = dict(
        zip(
            (s.url for s in parse_server_list(CURRENT.read_bytes(), "x")),
            source_ids([s.url for s in parse_server_list(CURRENT.read_bytes(), "x")]),
            strict=True,
        )
    )
    assert ids["https://bmlt.newyorkna.org/main_server/"] == "bmlt-newyorkna-org"
    assert ids["https://www.na.org.au/main_server/"] == "bmlt-na-org-au"
    assert ids["https://bmltadmin.anonimowinarkomani.org/main_server/"] == "bmlt-anonimowinarkomani-org"
    assert ids["https://nacolorado.org/meetingList/main_server/"] == "bmlt-nacolorado-org"
    # No two servers of the real list share a host; when two do, their paths tell them apart.
    assert source_ids(["https://bmlt.eu/eu/main_server/", "https://bmlt.eu/cz/main_server/"]) == [
        "bmlt-bmlt-eu-eu-main-server",
        "bmlt-bmlt-eu-cz-main-server",
    ]
    # Hosts that differ only by the software's label keep their full host.
    assert source_ids(["https://bmlt.x.org/main_server/", "https://www.x.org/bmlt/"]) == [
        "bmlt-bmlt-x-org",
        "bmlt-x-org",
    ]


def test_both_list_formats_read_the_same():
    listed = [(s.name, s.url) for s in parse_server_list(CURRENT.read_bytes(), "serverList.json")]
    roots = [(s.name, s.url) for s in parse_server_list((LISTS / "rootServerList.json").read_bytes(), "root")]
    assert listed == roots


def test_country_comes_only_from_a_country_code_domain():
    countries = {
        e.entry["id"]: e.entry.get("country") for e in listed_sources(parse_server_list(CURRENT.read_bytes(), "x"))
    }
    assert countries["bmlt-narcotics-anonymous-de"] == "DE"
    assert countries["bmlt-na-org-br"] == "BR"
    assert countries["bmlt-na-qom-ir"] == "IR"
    assert countries["bmlt-na-italia-info"] is None  # .info says nothing: the registry default applies
    assert countries["bmlt-newyorkna-org"] is None
    assert sum(c is not None for c in countries.values()) == 11
    assert country_from_host("https://meetings.example.co.uk/") == "GB"
    assert country_from_host("https://bmlt.eu/eu/main_server/") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>not found</html>", "not JSON"),
        (b'{"servers": []}', "non-empty JSON array"),
        (b"[]", "non-empty JSON array"),
        (
            b'[{"id": "1", "name": "A", "url": "https://a.org/main_server/"}, {"id": "2", "name": "B"}]',
            "entry 2 (B) has no http(s) url",
        ),
    ],
)
def test_a_list_that_is_not_one_is_refused_with_where(body: bytes, expected: str, tmp_path: Path):
    with pytest.raises(DiscoveryError, match=re.escape(expected)):
        parse_server_list(body, "list.json")
    bad = tmp_path / "list.json"
    bad.write_bytes(body)
    assert discover(bad, "--out", tmp_path / "na.yaml") == 1
    assert not (tmp_path / "na.yaml").exists()


def test_a_refresh_follows_the_real_history_and_keeps_operator_edits(tmp_path: Path, capsys: pytest.CaptureFixture):
    """October 2025 → December 2025 of the aggregator's list: San Jose dropped its `www.`, Montana moved to another
    host, iran and Brazil were added. An operator had set a time zone, a country, disabled a server and kept a
    hand-written source in the same file."""
    out = tmp_path / "na.yaml"
    assert discover(LISTS / "serverList_2025-10-12.json", "--out", out) == 0
    before = entries(out)
    assert len(before) == 40 and "bmlt-mtrna-org" in before and "bmlt-na-org-br" not in before
    doc = yaml.safe_load(out.read_text())
    for entry in doc["sources"]:
        if entry["id"] == "bmlt-chicagona-org":
            entry["timezone"] = "America/Chicago"
        if entry["id"] == "bmlt-nzna-org":
            entry["country"] = "NZ"
        if entry["id"] == "bmlt-nerna-org":
            entry.update(enabled=False, notes="paused while the region moves servers")
    hand = {
        "id": "sussex-aa",
        "name": "Sussex County Delaware AA",
        "fellowship": "AA",
        "kind": "meeting_guide",
        "url": "https://sussexaa.org/wp-admin/admin-ajax.php?action=meetings",
    }
    doc["sources"].append(hand)
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    capsys.readouterr()

    assert discover(CURRENT, "--out", out) == 0
    report = capsys.readouterr().err
    after = entries(out)
    assert main(["sources", "check", "--sources", str(out)]) == 0
    assert "added 3, changed 1, restored 0, removed 1" in report
    assert set(after) - set(before) == {"bmlt-na-org-br", "bmlt-na-qom-ir", "bmlt-namontana-org", "sussex-aa"}
    assert after["bmlt-sjna-org"]["url"] == "https://sjna.org/main_server/"  # same server, same id
    assert "~ bmlt-sjna-org  url: 'https://www.sjna.org/main_server/' → 'https://sjna.org/main_server/'" in report
    montana = after["bmlt-mtrna-org"]  # the old host: kept, disabled, with a note saying since when
    assert montana["enabled"] is False
    assert montana["notes"] == f"Not in the BMLT server list since {date.today().isoformat()}: disabled by discovery."
    assert after["bmlt-chicagona-org"]["timezone"] == "America/Chicago"
    assert after["bmlt-nzna-org"]["country"] == "NZ"
    assert after["bmlt-nerna-org"]["enabled"] is False
    assert after["sussex-aa"] == hand
    unchanged = set(before) - {
        "bmlt-mtrna-org",
        "bmlt-sjna-org",
        "bmlt-chicagona-org",
        "bmlt-nzna-org",
        "bmlt-nerna-org",
    }
    assert all(after[i] == before[i] for i in unchanged)


def test_a_dropped_server_is_disabled_then_enabled_when_it_comes_back(tmp_path: Path, capsys: pytest.CaptureFixture):
    """The Brazilian Zonal Forum left the list in October 2025 and came back in December."""
    out = tmp_path / "na.yaml"
    assert discover(LISTS / "serverList_2025-05-31.json", "--out", out) == 0
    assert "enabled" not in entries(out)["bmlt-na-org-br"]
    assert discover(LISTS / "serverList_2025-10-12.json", "--out", out) == 0
    dropped = entries(out)["bmlt-na-org-br"]
    assert dropped["enabled"] is False and dropped["notes"].startswith("Not in the BMLT server list since ")
    assert main(["sources", "list", "--sources", str(out)]) == 0
    capsys.readouterr()
    assert discover(CURRENT, "--out", out) == 0
    assert "↺ bmlt-na-org-br" in capsys.readouterr().err
    back = entries(out)["bmlt-na-org-br"]
    assert "enabled" not in back and "notes" not in back


def test_a_server_an_operator_disabled_stays_disabled_when_it_comes_back():
    known = [
        {
            "id": "bmlt-x-org",
            "name": "X",
            "fellowship": "NA",
            "kind": "bmlt",
            "url": "https://x.org/main_server/",
            "enabled": False,
            "notes": "the region asked us to wait",
        }
    ]
    dropped, report = merge(known, [], kind="bmlt", directory="the list", today=date(2026, 1, 2), retire=True)
    assert dropped[0]["notes"] == "Not in the list since 2026-01-02. the region asked us to wait"
    assert [e["id"] for e in report.removed] == ["bmlt-x-org"]
    (listed,) = listed_sources(parse_server_list(b'[{"name": "X", "url": "https://x.org/main_server/"}]', "x"))
    back, report = merge(dropped, [listed], kind="bmlt", directory="the list", today=date(2026, 2, 1), retire=True)
    assert back == known and len(report.restored) == 1
    again, report = merge(back, [listed], kind="bmlt", directory="the list", today=date(2026, 2, 2), retire=True)
    assert again == known and not report.changes and report.unchanged == 1


def test_a_list_that_drops_most_servers_is_not_written_without_consent(tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "na.yaml"
    assert discover(CURRENT, "--out", out) == 0
    text = out.read_text()
    short = tmp_path / "short.json"
    short.write_text(json.dumps(json.loads(CURRENT.read_text())[:5]))
    assert discover(short, "--out", out) == 1
    assert "drops 37 of 42 known servers" in capsys.readouterr().err
    assert out.read_text() == text
    assert discover(short, "--out", out, "--accept-removals") == 0
    assert sum(e.get("enabled") is False for e in entries(out).values()) == 37


def test_dry_run_reports_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "na.yaml"
    assert discover(CURRENT, "--out", out, "--dry-run") == 0
    assert "added 42" in capsys.readouterr().err and not out.exists()


def test_the_rendering_is_stable_and_readable():
    listed = listed_sources(parse_server_list(CURRENT.read_bytes(), "x"))
    merged, _ = merge([], listed, kind="bmlt", directory="d", today=date(2026, 1, 1), retire=True)
    text = render(merged, ["header"])
    assert read_entries(text, "x") == merged
    first = text.split("\n\n")[0].splitlines()
    assert first == [
        "# header",
        "sources:",
        "  - id: bmlt-anonimowinarkomani-org",
        "    name: Polish Region",
        "    fellowship: NA",
        "    kind: bmlt",
        "    url: https://bmltadmin.anonimowinarkomani.org/main_server/",
    ]
    assert (
        render(merge(merged, listed, kind="bmlt", directory="d", today=date(2026, 5, 1), retire=True)[0], ["header"])
        == text
    )


def _root_server(prefix: str, search: Path, formats: bytes, bodies: bytes) -> dict[str, tuple[int, bytes, str]]:
    api = f"/{prefix}/client_interface/json/?switcher="
    kind = "application/json"
    return {
        api + "GetSearchResults&get_used_formats=1": (200, search.read_bytes(), kind),
        api + "GetFormats": (200, formats, kind),
        api + "GetServiceBodies": (200, bodies, kind),
    }


def test_discovered_sources_fetch_from_real_root_servers(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    """A server list at a URL names three root servers on one host (a legacy one, a modern one, the German-speaking
    region's); the registry discovery writes runs against their recorded answers."""
    gny = SNAPSHOTS / "gny-na"
    routes = {
        **_root_server(
            "gny/main_server",
            gny / "GetSearchResults.json",
            (gny / "GetFormats.json").read_bytes(),
            (gny / "GetServiceBodies.json").read_bytes(),
        ),
        **_root_server(
            "latest/main_server",
            BMLT / "recorded" / "meeting-search-42.867970-day2.json",
            (BMLT / "recorded" / "formats.json").read_bytes(),
            (BMLT / "recorded" / "service-bodies.json").read_bytes(),
        ),
        # no GetFormats or GetServiceBodies of this server was saved: empty lists, as a server without any answers
        **_root_server("bmlt", BMLT / "berlin" / "GetSearchResults.json", b"[]", b"[]"),
    }
    with serve(routes) as base:
        servers = [
            {"id": "102", "name": "Greater New York Server", "url": f"{base}/gny/main_server/"},
            {"id": "0", "name": "BMLT latest", "url": f"{base}/latest/main_server/"},
            {"id": "112", "name": "German-Speaking Region", "url": f"{base}/bmlt/"},
        ]
        routes["/serverList.json"] = (200, json.dumps(servers).encode(), "application/json")
        out = tmp_path / "na.yaml"
        assert discover(f"{base}/serverList.json", "--out", out) == 0
        found = entries(out)
        port = base.rsplit(":", 1)[1]
        assert sorted(found) == sorted(
            f"bmlt-127-0-0-1-{port}-{p}" for p in ("gny-main-server", "latest-main-server", "bmlt")
        )
        capsys.readouterr()
        for sid in found:
            assert main(["sources", "test", sid, "--sources", str(out), "--limit", "1"]) == 0, sid
    shown = capsys.readouterr().out
    for count in ("1555", "53", "108"):
        assert count in shown


def test_an_out_file_that_is_not_a_registry_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "notes.yaml"
    out.write_text("- just a list\n")
    assert discover(CURRENT, "--out", out) == 1
    assert "not a registry file" in capsys.readouterr().err and out.read_text() == "- just a list\n"

"""Resolution on the demo data, judged against the labelled real pairs (``tests/fixtures/dedup``): listings
without ZIP code or coordinates, a city named by its borough, two feeds of one intergroup, a source that lists
a meeting twice — and why two look-alike meetings stay apart (``clearinghouse explain A --against B``)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from bench import evalset
from clearinghouse.cli import main
from transforms.explain import explain_against
from warehouse import operator_report

MURRAY_HILL = ("nyig-manhattan-05//meetinglist/getdirections.cfm?meetingid=264", "nyc-aa/h-idm2kj7rgmxaps5b")
"""Mon 18:15, 209 Madison Ave: "Manhattan" with a ZIP code on the page, "New York" without one in the export."""


@pytest.fixture(scope="module")
def links(demo_home: Path) -> dict[str, str]:
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        return dict(con.sql("SELECT source_id || '/' || source_key, meeting_id FROM core.meeting_links").fetchall())


def test_the_labelled_real_pairs_meet_the_targets(links: dict[str, str]) -> None:
    scores = evalset.real_pair_scores(evalset.real_pairs(), links)
    assert scores["true_pairs"] > 600
    assert scores["precision"] >= 0.999
    assert scores["recall"] >= 0.99
    assert scores["hard_negatives_merged"] == 0


def test_the_legacy_manhattan_page_joins_the_intergroup_export(demo_home: Path) -> None:
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        merged, listed = con.sql(
            """SELECT count(*) FILTER (WHERE meeting_id IN (SELECT meeting_id FROM core.meeting_links
                                                            WHERE source_id = 'nyc-aa')), count(*)
               FROM core.meeting_links WHERE source_id = 'nyig-manhattan-05'"""
        ).fetchall()[0]
    assert listed == 120
    assert merged >= 0.95 * listed


def test_murray_hill_is_one_meeting_of_both_listings(links: dict[str, str]) -> None:
    page, export = MURRAY_HILL
    assert links[f"nyig-manhattan-05/{page.split('/', 1)[1]}"] == links[export]


def test_two_feeds_of_one_intergroup_join_on_the_slug(links: dict[str, str]) -> None:
    """ "Gay & Lesbian Sober Experience" (2019) was renamed "LGBTQ+ Sober Experience" (2021), same slug."""
    slug = "gay-lesbian-sober-experience"
    assert links[f"sanjose-aa/{slug}"] == links[f"sanjose-wp-aa/{slug}"]


def test_a_meeting_listed_twice_under_one_world_id_is_published_once_and_reported(demo_home: Path) -> None:
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        twice = {(s, keys): why for s, _, keys, why in operator_report.listed_twice(con)}
        lines = {row[0]: row[-1] for row in operator_report.reconciliation(con)}
        published = con.sql(
            "SELECT count(*) FROM core.meetings m, unnest(m.sources) s(s) "
            "WHERE s.s.source_id = 'gny-na' AND s.s.source_key IN ('1797', '2326')"
        ).fetchall()
    assert twice[("gny-na", "1797, 2326")] == "duplicate_listing: same world id G00234053, Δt=0"
    assert lines["gny-na"] >= 1
    assert published == [(2,)]  # one meeting, both listings as its sources


def test_explain_against_says_why_concurrent_meetings_of_one_group_stay_apart(demo_home: Path) -> None:
    """NY Intergroup lists CITY GROUP's beginners' meeting beside its step meeting, Mon 12:30."""
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        result = explain_against(con, "nyc-aa/h-hwjqbdcliceaarbj", "nyc-aa/h-m75hxm763r7he6it")
    (pair,) = result["pairs"]
    assert not pair["together"]
    assert pair["verdict"].startswith("two listings of one source")
    assert "s:619 lexington ave" in pair["shared_keys"]
    assert pair["compared"]["type_overlap"] == 0


def test_explain_against_on_the_command_line_names_keys_rule_and_score(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(demo_home))
    page, export = MURRAY_HILL
    assert main(["explain", page, "--against", export, "--json"]) == 0
    (pair,) = json.loads(capsys.readouterr().out)["pairs"]
    assert pair["together"]
    assert pair["rule"] == "same_place"
    assert pair["veto"] is None
    assert "s:209 madison ave" in pair["shared_keys"]
    assert pair["compared"]["same_city"] is True  # "Manhattan" and "New York" are one postal city
    assert pair["score"] >= 0.9

"""The type crosswalk table and fellowship names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foundation.model import FELLOWSHIPS, OPEN_CLOSED
from transforms.crosswalk import (
    ATTENDANCE_SIGNALS,
    Classified,
    classify,
    fellowship_code,
    language_codes,
    lookup,
    type_rows,
)
from transforms.refdata import data_rows

SHARED = Path(__file__).resolve().parents[1] / "fixtures" / "normalize"
TSML_PROGRAMS = {"aa": "AA", "al-anon": "AL-ANON", "na": "NA", "ca": "CA", "oa": "OA", "coda": "CODA", "slaa": "SLAA"}


def test_al_anon_y_is_alateen_aa_y_is_young_people() -> None:
    assert classify(["Y"], "meeting_guide", "AL-ANON").types == ["alateen"]
    assert classify(["Y"], "meeting_guide", "AA").types == ["young_people"]
    assert classify(["POA"], "meeting_guide", "AL-ANON").types == ["parents"]
    assert classify(["POA"], "meeting_guide", "AA").types == ["proof_of_attendance"]


def test_closed_wins_over_open() -> None:
    assert classify(["O", "C"], "meeting_guide", "AA").open_closed == "closed"
    assert classify(["OPEN", "CLOSED"], "bmlt", "NA").open_closed == "closed"
    assert classify(["D"], "meeting_guide", "AA").open_closed is None


def test_meeting_guide_codes() -> None:
    assert classify(["O", "W", "X", "S", "ASL", "SP", "12x12", "ONL", "TC"], "meeting_guide", "AA") == Classified(
        "open", ["speaker", "twelve_and_twelve", "women"], ["asl", "wheelchair"], ["es"],
        frozenset({"online_access", "location_closed"}), [],
    )  # fmt: skip


def test_bmlt_world_ids_and_key_strings() -> None:
    """GNY: world ids where GetFormats has one, key strings (SL, WEB, Ag) where it has none."""
    result = classify(["CLOSED", "WCHR", "BEG", "SPK", "STEP", "LANG", "SL", "WEB", "Ag", "ES"], "bmlt", "NA")
    assert result == Classified(
        "closed", ["newcomers", "secular", "speaker", "step"], ["asl", "wheelchair"], ["es"], frozenset({"online"}), []
    )
    assert classify(["HY"], "bmlt", "NA").attendance == {"hybrid"}


def test_spelled_out_names_of_csv_exports() -> None:
    """New York export cells ("B = Beginners meeting": B is *not* Big Book there) and TSML template names."""
    result = classify(
        ["C = Closed Discussion meeting", "B = Beginners meeting", "S = Step meeting", "Sp = Spanish speaking group"],
        "meeting_guide",
        "AA",
    )
    assert (result.open_closed, result.types, result.languages) == (
        "closed",
        ["discussion", "newcomers", "step"],
        ["es"],
    )
    assert classify(["Open", "Wheelchair Access"], "meeting_guide", "AA").accessibility == ["wheelchair"]
    assert classify(["Gay<br>Women"], "meeting_guide", "AA").types == ["gay", "lgbtq", "women"]


def test_unknown_codes_kept_in_order_without_duplicates() -> None:
    assert classify(["ASBI", "O", "D-HOH", "ASBI"], "meeting_guide", "AA").unknown == ["ASBI", "D-HOH"]
    assert lookup("ZZZ", "meeting_guide", "AA") is None


def test_every_spec_code_is_known() -> None:
    spec = json.loads((SHARED / "spec_types.json").read_text())
    assert [code for code in spec if lookup(code, "meeting_guide", "AA") is None] == []


@pytest.mark.parametrize(("program", "fellowship"), sorted(TSML_PROGRAMS.items()))
def test_every_tsml_program_code_is_known(program: str, fellowship: str) -> None:
    codes = json.loads((SHARED / "tsml_program_types.json").read_text())[program]
    assert [code for code in codes if lookup(code, "meeting_guide", fellowship) is None] == []


def test_rows_use_the_documented_vocabulary() -> None:
    vocabulary = {row["code"]: row["group"] for row in data_rows("type_vocabulary.csv")}
    for row in type_rows():
        assert row.open_closed in (None, *OPEN_CLOSED), row
        assert all(vocabulary.get(t) not in (None, "accessibility") for t in row.types), row
        assert all(vocabulary.get(a) == "accessibility" for a in row.accessibility), row
        assert all(len(lang) == 2 and lang.islower() for lang in row.languages), row
        assert row.attendance in (None, *ATTENDANCE_SIGNALS), row
        assert row.fellowship == "*" or row.fellowship in FELLOWSHIPS, row


def test_keys_are_unique() -> None:
    keys = [(r.scheme, r.fellowship, r.code) for r in type_rows()]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    ("value", "code"),
    [("Al-Anon", "AL-ANON"), ("al anon", "AL-ANON"), ("Alateen", "ALATEEN"), ("NA", "NA"),
     ("Narcotics Anonymous", "NA"), ("CoDA", "CODA"), ("Recovery Dharma", "RD"), ("Knitters Anonymous", "OTHER"),
     (None, "AA"), ("", "AA")],
)  # fmt: skip
def test_fellowship_code(value: str | None, code: str) -> None:
    assert fellowship_code(value, "AA") == code


def test_language_codes() -> None:
    assert language_codes(["en", "es-MX", "Spanish", "de_DE", "Klingon"]) == ["de", "en", "es"]

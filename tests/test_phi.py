"""The PHI search the demo-size flow test runs over everything the demo logged
(tests/phi_support.py, tests/flows/test_revenue_cycle.py) really finds PHI where it is, and
only there."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import AS_OF
from tests.phi_support import find_phi, phi_terms


def test_the_search_finds_each_kind_of_phi_where_it_is(small_extract: Path) -> None:
    terms = phi_terms(small_extract, {AS_OF})
    assert all(terms.values()), "the search needs names, dates of birth and member ids"
    patients = (small_extract / "patients.csv").read_text(encoding="utf-8")
    coverages = (small_extract / "coverages.csv").read_text(encoding="utf-8")
    found = find_phi(patients + coverages, terms, "extract")
    assert {f.split(": ")[1] for f in found} == {"a patient name", "a birth date", "a member id"}


def test_the_search_passes_what_a_log_line_may_hold(small_extract: Path) -> None:
    terms = phi_terms(small_extract, {AS_OF})
    line = (
        "loaded 835 835_60054_000000123.x12: 412 rows; claim C0A1B2C3D4E5F6A7B held "
        f"(POINTER_INVALID); 12 claims 1,234.56 billed as of {AS_OF.isoformat()}"
    )
    assert find_phi(line, terms, "log") == []

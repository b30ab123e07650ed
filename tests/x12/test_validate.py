"""pyx12 validation: verdicts on the public samples, located issues, no PHI in messages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from revcycle.x12.validate import (
    REDACTED,
    ValidationIssue,
    ValidationReport,
    format_issue,
    format_report,
    validate_bytes,
    validate_file,
    validate_files,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"
CLEAN_837P = FIXTURES / "837p" / "stupidedi-commercial-health-insurance.edi"

# What pyx12 4.0.0 calls valid among the samples (checked one by one; see PROVENANCE.md).
VALID = [
    "835/pyx12-835_mult_loops.txt",
    "835/stupidedi-dollars-and-data-sent-separate.edi",
    "835/stupidedi-multiple-claims-single-check.edi",
    "835/stupidedi-tertiary-payments.edi",
    "837p/stupidedi-COB-claim-from-billing-provider-to-payer-b.edi",
    "837p/stupidedi-ambulance.edi",
    "837p/stupidedi-anesthesia.edi",
    "837p/stupidedi-commercial-health-insurance.edi",
    "837p/stupidedi-medicare-secondary-payer-COB.edi",
    "837i/stupidedi-out-of-network-repriced-claim.edi",
    "837i/stupidedi-ppo-repriced-claim.edi",
    "ack/imsweb-x12_999_rejected.txt",
]

# Samples pyx12 rejects, with one issue we expect among those it reports.
INVALID: list[tuple[str, str, str | None, str]] = [
    # file, code, segment id, message fragment
    ("malformed/imsweb-x12_ambiguous_loop.txt", "ST-4", "SE", "SE count of 25"),
    ("malformed/imsweb-x12_bad_segment_identifier.txt", "SEG-1", "NM1", "is invalid"),
    ("malformed/imsweb-x12_bad_valid_code.txt", "SEG-1", "NM1", "Segment NM1*117 not found"),
    ("malformed/imsweb-x12_loop_errors1_exceeds_max_1_parent.txt", "SEG-4", "NM1", "2010AA"),
    ("malformed/imsweb-x12_loop_errors3_missing_loops.txt", "SEG-3", "NM1", "(2010AA) missing"),
    ("malformed/imsweb-x12_missing_elements.txt", "ELE-1", "NM1", "(NM102) is missing"),
    ("malformed/imsweb-x12_segment_errors.txt", "SEG-5", "REF", "exceeded max count"),
    ("malformed/imsweb-x12_segments_out_of_order.txt", "SEG-3", "N4", "(N4) missing"),
    ("malformed/imsweb-x12_writer_test.txt", "SEG-SEG1", "HI", "trailing element"),
    ("malformed/imsweb-x12_missing_required_loop_in_one_repeat.txt", "SEG-HL2", "HL", "parent"),
    ("837p/imsweb-x12_valid.txt", "ELE-5", "HI", "(HI02-01) is too long"),
    ("837p/stupidedi-oxygen.edi", "ELE-7", "PWK", "(AD) is not a valid code"),
    ("837i/stupidedi-837-institutional-claim.edi", "ELE-8", "DTP", "invalid date"),
    ("835/lfh-managed-care.835", "SEG-3", "PER", "Payer Technical Contact"),
    ("ack/imsweb-x12_999_accepted.txt", "ISA-001", "IEA", "does not match ISA id"),
]


@pytest.mark.parametrize("rel", VALID)
def test_valid_samples(rel: str) -> None:
    report = validate_file(FIXTURES / rel)
    assert report == ValidationReport(Path(rel).name, True, [])
    assert format_report(report) == [f"{Path(rel).name}: valid"]


@pytest.mark.parametrize(("rel", "code", "segment_id", "fragment"), INVALID)
def test_invalid_samples(rel: str, code: str, segment_id: str | None, fragment: str) -> None:
    report = validate_file(FIXTURES / rel)
    assert not report.is_valid
    assert report.errors
    matching = [
        i
        for i in report.errors
        if i.code == code and i.segment_id == segment_id and fragment in i.message
    ]
    assert matching, [format_issue(report.file_name, i) for i in report.errors]
    # Every located issue names a real segment position; issues come in file order.
    positions = [i.segment_position for i in report.errors if i.segment_position is not None]
    assert positions == sorted(positions)
    assert all(p >= 1 for p in positions)


def test_issue_lines_name_file_segment_and_element() -> None:
    report = validate_file(FIXTURES / "malformed" / "imsweb-x12_missing_elements.txt")
    lines = format_report(report)
    assert len(lines) == len(report.errors)
    assert (
        "imsweb-x12_missing_elements.txt: segment 7 (NM1): element NM102: Mandatory data element "
        '"Entity Type Qualifier" (NM102) is missing [ELE-1]'
    ) in lines


def test_file_starting_at_gs_is_reported_not_crashed() -> None:
    report = validate_file(FIXTURES / "malformed" / "imsweb-x12_no_isa_line.txt")
    assert not report.is_valid
    assert [i.code for i in report.errors] == ["NO_ENVELOPE"]


def test_short_isa_is_reported_as_such() -> None:
    report = validate_file(FIXTURES / "malformed" / "imsweb-x12_bad_first_line.txt")
    assert [i.code for i in report.errors] == ["ISA_NOT_FIXED_WIDTH"]
    # Normalising the layout lets pyx12 judge the content, which has its own errors.
    normalised = validate_file(
        FIXTURES / "malformed" / "imsweb-x12_bad_first_line.txt", normalise=True
    )
    assert not normalised.is_valid
    assert {i.segment_id for i in normalised.errors} >= {"HI", "SE"}


def test_transaction_without_a_pyx12_map() -> None:
    report = validate_file(FIXTURES / "ack" / "lfh-demo.276")
    assert not report.is_valid
    (issue,) = report.errors
    assert issue.code == "ENGINE"
    assert "005010X212" in issue.message
    assert issue.segment_position == 2 and issue.segment_id == "GS"


def test_eligibility_files_are_validated_with_the_derived_5010_maps() -> None:
    # pyx12 4.0.0 has no 5010 270/271 map; revcycle.x12.pyx12_maps derives them from its 4010
    # maps. The guide's 270 example is valid; the 271 example repeats service types in EB03
    # (1^33^...), which pyx12 4.0.0 cannot split, and only that is reported.
    assert validate_file(FIXTURES / "ack" / "lfh-demo.270").is_valid
    report = validate_file(FIXTURES / "ack" / "lfh-demo.271")
    assert not report.is_valid
    assert {(i.segment_id, i.element) for i in report.errors} == {("EB", "EB03")}


def test_layout_quirks_strict_and_normalised() -> None:
    clean = CLEAN_837P.read_bytes()
    indented = "~\r\n    ".join(clean.decode().split("~")).encode()
    strict = validate_bytes(indented, "indented.x12")
    assert not strict.is_valid
    assert {i.message for i in strict.errors} == {"Segment contains a leading space"}
    assert validate_bytes(indented, "indented.x12", normalise=True).is_valid
    text = clean.decode()
    wrapped = "\r\n".join(text[i : i + 80] for i in range(0, len(text), 80)).encode()
    assert [i.code for i in validate_bytes(wrapped, "w.x12").errors] == ["ISA_WRAPPED"]
    assert validate_bytes(wrapped, "w.x12", normalise=True).is_valid
    assert validate_bytes(b"\xef\xbb\xbf" + clean, "bom.x12").is_valid
    assert validate_bytes(clean.replace(b"~", b"~\r\n"), "crlf.x12").is_valid


def test_over_long_composite_does_not_crash() -> None:
    clean = CLEAN_837P.read_bytes()
    broken = clean.replace(b"SV1*HC:99213*", b"SV1*HC:99213:25:26:59:76:77:91:XX:YY:ZZ*", 1)
    report = validate_bytes(broken, "long.x12")
    assert not report.is_valid
    assert report.errors
    assert all(i.segment_position is not None for i in report.errors)


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.x12"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.x12"
    reports = validate_files([empty, missing, CLEAN_837P])
    assert [r.is_valid for r in reports] == [False, False, True]
    assert reports[0].errors[0].code == "READ"
    assert reports[1].errors[0].code == "IO"
    assert format_report(reports[1])[0].startswith("missing.x12: cannot read the file")


# --------------------------------------------------------------------------------------------
# PHI: messages and logs never carry names, dates of birth, member ids or addresses.

SUBSCRIBER_NAME = b"SMITH*JANE"
BIRTH_DATE = b"19430501"


def test_patient_values_stay_out_of_messages_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    clean = CLEAN_837P.read_bytes()
    assert SUBSCRIBER_NAME in clean and BIRTH_DATE in clean
    broken = (
        clean.replace(b"DMG*D8*19430501", b"DMG*D8*19431301")  # invalid date of birth
        .replace(b"N3*236 N MAIN  ST~", b"N3*236 N MAIN  ST~N3*236 N MAIN  ST~")  # repeated N3
        .replace(SUBSCRIBER_NAME, b"SMITH\x01*JANE")  # control character in a name
    )
    assert broken != clean
    with caplog.at_level(logging.DEBUG):
        report = validate_bytes(broken, "phi.x12")
    assert not report.is_valid
    text = "\n".join(format_report(report))
    for secret in ("19431301", "SMITH", "236 N MAIN", "JANE"):
        assert secret not in text
        assert secret not in caplog.text
    assert REDACTED in text
    assert any(i.segment_id == "DMG" and i.element == "DMG02" for i in report.errors)


def test_format_issue_without_position() -> None:
    issue = ValidationIssue(None, None, "PYX12", "rejected", level="file")
    assert format_issue("f.x12", issue) == "f.x12: rejected [PYX12]"

"""The tolerant X12 reader: every public sample, every layout quirk, and arbitrary bytes."""

from __future__ import annotations

import gzip
import pickle
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.x12.read_837 import read_837_claims
from revcycle.x12.reader import (
    Interchange,
    Segment,
    X12ReadError,
    iter_segments,
    iter_transactions,
    read_file,
    read_interchanges,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"
CLEAN_837P = "837p/stupidedi-commercial-health-insurance.edi"


def fixture_bytes(rel: str) -> bytes:
    data = (FIXTURES / rel).read_bytes()
    return gzip.decompress(data) if rel.endswith(".gz") else data


def clean_text() -> str:
    return fixture_bytes(CLEAN_837P).decode("ascii")


def elements_of(interchanges: list[Interchange]) -> list[list[str]]:
    """Every segment's elements, ISA fields stripped of padding: layout-independent content."""
    out: list[list[str]] = []
    for interchange in interchanges:
        assert interchange.isa is not None
        out.append([e.strip() for e in interchange.isa.elements])
        for group in interchange.groups:
            if group.gs is not None:
                out.append(group.gs.elements)
            for transaction in group.transactions:
                out.extend(seg.elements for seg in transaction.segments)
            if group.ge is not None:
                out.append(group.ge.elements)
        if interchange.iea is not None:
            out.append(interchange.iea.elements)
    return out


def codes(interchanges: list[Interchange]) -> set[str]:
    return {w.code for i in interchanges for w in i.all_warnings()}


# --------------------------------------------------------------------------------------------
# Every sample file: envelope counts and claim counts. A few numbers checked by hand with grep:
# 9 CLP in the "multiple claims single check" 835, 820 CLM in one ST of many_claims, 312
# interchanges in multiple_transactions, 3 GS in multiple_gs, 2 ST in complex.

ONE_CLAIM_837 = (1, 1, 1, 1, 0)  # ISA, GS, ST, CLM, CLP

SAMPLES: list[tuple[str, int, int, int, int, int, set[str]]] = [
    # file, ISA, GS, ST, CLM, CLP, warning codes
    ("835/lfh-cob-contractural-adjustment.835", 1, 1, 1, 0, 1, set()),
    ("835/lfh-managed-care.835", 1, 1, 1, 0, 2, set()),
    ("835/lfh-medicare-part-a.835", 1, 1, 1, 0, 2, set()),
    ("835/lfh-secondary-payment.835", 1, 1, 1, 0, 2, set()),
    ("835/lfh-tertiary-payment.835", 1, 1, 1, 0, 1, set()),
    ("835/pyx12-835_mult_loops.txt", 1, 1, 1, 0, 1, set()),
    ("835/stupidedi-dollars-and-data-sent-separate.edi", 1, 1, 1, 0, 2, set()),
    ("835/stupidedi-dollars-and-data-sent-together.edi", 1, 1, 1, 0, 2, set()),
    ("835/stupidedi-era-sample.edi", 1, 1, 1, 0, 1, set()),
    ("835/stupidedi-multiple-claims-single-check.edi", 1, 1, 1, 0, 9, set()),
    ("835/stupidedi-secondary-payment-with-higher-fee-schedule.edi", 1, 1, 1, 0, 1, set()),
    ("835/stupidedi-secondary-payments.edi", 1, 1, 1, 0, 2, set()),
    ("835/stupidedi-tertiary-payments.edi", 1, 1, 1, 0, 1, set()),
    ("837i/imsweb-x223-test.txt", 1, 1, 1, 1, 0, {"SE_COUNT"}),
    ("837i/stupidedi-837-institutional-claim.edi", 1, 1, 1, 1, 0, set()),
    ("837i/stupidedi-automobile-accident.edi", 1, 1, 1, 1, 0, set()),
    ("837i/stupidedi-out-of-network-repriced-claim.edi", 1, 1, 1, 1, 0, set()),
    ("837i/stupidedi-ppo-repriced-claim.edi", 1, 1, 1, 1, 0, set()),
    ("837i/stupidedi-two-claims-for-the-same-provider.edi", 1, 1, 1, 2, 0, set()),
    ("837p/imsweb-x12_complex.txt", 1, 1, 2, 6, 0, {"GE_COUNT", "SE_COUNT"}),
    ("837p/imsweb-x12_many_claims.txt.gz", 1, 1, 1, 820, 0, {"SE_COUNT"}),
    ("837p/imsweb-x12_multiple_gs.txt", 1, 3, 3, 6, 0, {"SE_COUNT", "IEA_COUNT"}),
    ("837p/imsweb-x12_multiple_isa.txt", 2, 2, 2, 4, 0, {"SE_COUNT"}),
    ("837p/imsweb-x12_multiple_st.txt", 1, 1, 2, 4, 0, {"GE_COUNT", "SE_COUNT"}),
    ("837p/imsweb-x12_multiple_transactions.txt.gz", 312, 312, 312, 624, 0, {"SE_COUNT"}),
    ("837p/imsweb-x12_no_errors.txt", 1, 1, 1, 2, 0, {"SE_COUNT"}),
    ("837p/imsweb-x12_valid.txt", 1, 1, 1, 2, 0, {"SE_COUNT"}),
    ("837p/imsweb-x12_valid_different_separators.txt", 1, 1, 1, 2, 0, {"SE_COUNT"}),
    ("837p/stupidedi-COB-claim-from-billing-provider-to-payer-a.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-COB-claim-from-billing-provider-to-payer-b.edi", 1, 1, 1, 1, 0, set()),
    (
        "837p/stupidedi-COB-claim-from-payer-a-to-payer-b-in-payer-to-payer.edi",
        *ONE_CLAIM_837,
        set(),
    ),
    ("837p/stupidedi-ambulance.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-anesthesia.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-chiropractic.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-commercial-health-insurance.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-drug-administered-in-the-physician-office.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-encounter.edi", 1, 1, 1, 1, 0, set()),
    (
        "837p/stupidedi-home-infusion-therapy-pharmacy-adjudicated-with-HCPCS-in-loop-2400-or-NDC"
        "-in-loop-2410.edi",
        *ONE_CLAIM_837,
        set(),
    ),
    (
        "837p/stupidedi-home-infusion-therapy-pharmacy-adjudicated-with-NDC-in-loop-2410.edi",
        *ONE_CLAIM_837,
        set(),
    ),
    ("837p/stupidedi-medicare-secondary-payer-COB.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-out-of-network-repriced-claim.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-oxygen.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-ppo-repriced-claim.edi", 1, 1, 1, 1, 0, set()),
    ("837p/stupidedi-wheelchair.edi", 1, 1, 1, 1, 0, set()),
    ("ack/imsweb-x12_999_accepted.txt", 1, 1, 1, 0, 0, {"IEA_CONTROL"}),
    ("ack/imsweb-x12_999_rejected.txt", 1, 1, 1, 0, 0, set()),
    ("ack/lfh-demo.270", 1, 1, 1, 0, 0, set()),
    ("ack/lfh-demo.271", 1, 1, 1, 0, 0, set()),
    ("ack/lfh-demo.276", 1, 1, 1, 0, 0, set()),
    ("ack/lfh-demo.277", 1, 1, 1, 0, 0, set()),
]

MALFORMED: list[tuple[str, int, set[str]]] = [
    # file, CLM, warning codes: all read, none raises
    ("malformed/imsweb-x12_ambiguous_loop.txt", 1, {"SE_COUNT"}),
    ("malformed/imsweb-x12_bad_first_line.txt", 2, {"ISA_NOT_FIXED_WIDTH", "SE_COUNT"}),
    ("malformed/imsweb-x12_bad_segment_identifier.txt", 2, {"BAD_SEGMENT_ID", "SE_COUNT"}),
    ("malformed/imsweb-x12_bad_valid_code.txt", 2, {"SE_COUNT"}),
    ("malformed/imsweb-x12_loop_errors1_exceeds_max_1_parent.txt", 1, {"SE_COUNT"}),
    ("malformed/imsweb-x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt", 2, {"SE_COUNT"}),
    ("malformed/imsweb-x12_loop_errors3_missing_loops.txt", 1, {"SE_COUNT"}),
    ("malformed/imsweb-x12_missing_elements.txt", 2, {"SE_COUNT"}),
    ("malformed/imsweb-x12_missing_required_loop_in_one_repeat.txt", 2, {"SE_COUNT"}),
    ("malformed/imsweb-x12_missing_required_loops_mult_repeats.txt", 5, {"SE_COUNT"}),
    ("malformed/imsweb-x12_no_isa_line.txt", 2, {"NO_ENVELOPE", "SE_COUNT"}),
    ("malformed/imsweb-x12_segment_errors.txt", 1, {"SE_COUNT"}),
    ("malformed/imsweb-x12_segments_out_of_order.txt", 2, {"SE_COUNT"}),
    ("malformed/imsweb-x12_writer_test.txt", 1, {"SE_COUNT"}),
]


def test_every_sample_file_is_listed() -> None:
    on_disk = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    listed = {row[0] for row in SAMPLES} | {row[0] for row in MALFORMED}
    assert on_disk == listed


@pytest.mark.parametrize(
    ("rel", "isa", "gs", "st", "clm", "clp", "warnings"), SAMPLES, ids=[s[0] for s in SAMPLES]
)
def test_sample_counts(
    rel: str, isa: int, gs: int, st: int, clm: int, clp: int, warnings: set[str]
) -> None:
    interchanges = read_interchanges(fixture_bytes(rel), rel)
    transactions = [t for i in interchanges for t in i.transactions]
    assert len(interchanges) == isa
    assert sum(len(i.groups) for i in interchanges) == gs
    assert len(transactions) == st
    assert sum(t.count("CLM") for t in transactions) == clm
    assert sum(t.count("CLP") for t in transactions) == clp
    assert codes(interchanges) == warnings
    for transaction in transactions:
        assert transaction.st.id == "ST"
        assert transaction.se is not None and transaction.segments[-1] is transaction.se


@pytest.mark.parametrize(("rel", "clm", "warnings"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_samples_read_with_warnings(rel: str, clm: int, warnings: set[str]) -> None:
    interchanges = read_interchanges(fixture_bytes(rel), rel)
    assert sum(t.count("CLM") for i in interchanges for t in i.transactions) == clm
    assert codes(interchanges) == warnings


def test_835_fields_and_positions() -> None:
    rel = "835/stupidedi-multiple-claims-single-check.edi"
    (interchange,) = read_interchanges(fixture_bytes(rel), rel)
    assert interchange.isa is not None and interchange.isa.position == 1
    assert interchange.control_number == "000000195"
    assert interchange.sender_id == "123456789"  # padding stripped
    assert interchange.usage_indicator == "P"
    (group,) = interchange.groups
    assert (group.functional_id, group.version, group.control_number) == (
        "HP",
        "005010X221A1",
        "278",
    )
    (transaction,) = group.transactions
    assert (transaction.transaction_set_id, transaction.implementation_guide) == (
        "835",
        "005010X221A1",
    )
    assert transaction.position == 3
    bpr = next(transaction.find("BPR"))
    assert bpr.get(2) == "810.8"
    # Positions are 1-based segment indexes in the file, counted across the envelope.
    assert [s.position for s in transaction.segments] == list(
        range(3, 3 + len(transaction.segments))
    )
    assert transaction.se is not None
    assert int(transaction.se.get(1)) == len(transaction.segments)


def test_delimiters_come_from_the_isa() -> None:
    rel = "ack/imsweb-x12_999_rejected.txt"  # component separator "|"
    (interchange,) = read_interchanges(fixture_bytes(rel), rel)
    assert interchange.delimiters.component == "|"
    assert interchange.delimiters.repetition == "^"
    (interchange,) = read_interchanges(fixture_bytes("837p/imsweb-x12_valid.txt"), "v")
    # ISA11 "U" (a 4010 habit) is not a separator: no repetition splitting at all.
    assert interchange.delimiters.repetition is None
    assert interchange.version == "00501"


def test_segment_helpers() -> None:
    interchanges = read_interchanges(clean_text(), "clean")
    (transaction,) = interchanges[0].transactions
    clm = next(transaction.find("CLM"))
    assert clm.get(1) == "26463774"
    assert clm.get(99) == ""
    assert clm.get(0) == ""  # element numbering starts at 1
    assert clm.composite(5) == ["11", "B", "1"]
    assert clm.component(5, 3) == "1"
    assert clm.component(5, 9, "x") == "x"
    assert clm.repeats(1) == ["26463774"]
    assert clm.to_text().startswith("CLM*26463774*100*")
    nm1 = next(s for s in transaction.segments if s.id == "NM1" and s.get(1) == "IL")
    assert nm1.get(3) not in repr(nm1)  # reprs never show values (patient names)


# --------------------------------------------------------------------------------------------
# Layout quirks, each built from one clean sample: the content read must not change.


@pytest.fixture(scope="module")
def clean_elements() -> list[list[str]]:
    return elements_of(read_interchanges(clean_text(), "clean"))


def test_other_separators_same_content() -> None:
    standard = read_interchanges(fixture_bytes("837p/imsweb-x12_valid.txt"), "valid")
    other = read_interchanges(
        fixture_bytes("837p/imsweb-x12_valid_different_separators.txt"), "other"
    )
    assert other[0].delimiters.element == "~"
    assert other[0].delimiters.component == "^"
    assert other[0].delimiters.segment == "_"

    # Same content: split every element into components with each file's own separator.
    def components(interchanges: list[Interchange]) -> list[list[list[str]]]:
        sep = interchanges[0].delimiters.component
        return [[e.split(sep) for e in seg] for seg in elements_of(interchanges)[1:]]

    assert components(other) == components(standard)
    assert elements_of(other)[0][:16] == elements_of(standard)[0][:16]  # ISA16 differs
    sv1 = next(other[0].transactions[0].find("SV1"))
    assert sv1.composite(1) == ["HC", "99211", "25"]


def test_crlf_and_indentation(clean_elements: list[list[str]]) -> None:
    data = "~\r\n    ".join(clean_text().split("~")).encode()
    interchanges = read_interchanges(data, "indented")
    assert elements_of(interchanges) == clean_elements
    assert codes(interchanges) == set()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_wrapped_at_80_columns(clean_elements: list[list[str]], newline: str) -> None:
    text = clean_text()
    wrapped = newline.join(text[i : i + 80] for i in range(0, len(text), 80))
    interchanges = read_interchanges(wrapped.encode(), "wrapped")
    assert elements_of(interchanges) == clean_elements
    assert codes(interchanges) == {"ISA_WRAPPED"}


@pytest.mark.parametrize("terminator", ["\n", "\r\n", "\r"])
def test_line_break_as_terminator(clean_elements: list[list[str]], terminator: str) -> None:
    data = clean_text().replace("~", terminator) + terminator * 3
    interchanges = read_interchanges(data.encode(), "lines")
    assert interchanges[0].delimiters.segment == "\n"
    assert elements_of(interchanges) == clean_elements


def test_text_before_isa(clean_elements: list[list[str]]) -> None:
    data = b"From: clearinghouse\r\nSubject: VISA remittance*ISA\r\n\r\n" + clean_text().encode()
    interchanges = read_interchanges(data, "mail")
    assert elements_of(interchanges) == clean_elements
    assert codes(interchanges) == {"TEXT_BEFORE_ENVELOPE"}
    assert interchanges[0].isa is not None and interchanges[0].isa.position == 1


@pytest.mark.parametrize("terminator", ["~", "~\n", "\n"])
def test_no_envelope_starts_at_st(clean_elements: list[list[str]], terminator: str) -> None:
    text = clean_text()
    body = text[text.index("ST*") : text.index("GE*")].replace("~", terminator)
    interchanges = read_interchanges(body.encode(), "bare")
    (interchange,) = interchanges
    assert interchange.isa is None
    (group,) = interchange.groups
    assert group.gs is None
    (transaction,) = group.transactions
    assert [s.elements for s in transaction.segments] == clean_elements[2:-2]
    assert transaction.segments[0].position == 1
    assert codes(interchanges) == {"NO_ENVELOPE"}


def test_no_envelope_starts_at_gs() -> None:
    rel = "malformed/imsweb-x12_no_isa_line.txt"
    (interchange,) = read_interchanges(fixture_bytes(rel), rel)
    assert interchange.isa is None and interchange.iea is not None
    assert interchange.groups[0].version == "005010X222A1"


def test_collapsed_isa_padding(clean_elements: list[list[str]]) -> None:
    text = clean_text()
    isa, rest = text[:106], text[106:]
    fields = isa[:-1].split("*")  # the terminator stays apart; ISA16 is the last field
    collapsed = "*".join(f.strip() for f in fields) + "~"
    assert len(collapsed) < 106
    interchanges = read_interchanges((collapsed + rest).encode(), "collapsed")
    assert elements_of(interchanges) == clean_elements
    assert interchanges[0].delimiters.component == ":"
    assert codes(interchanges) == {"ISA_NOT_FIXED_WIDTH"}


def test_cp1252_byte_in_a_name() -> None:
    data = clean_text().encode().replace(b"*KEY INSURANCE COMPANY*", b"*K\xc9Y INSURANCE COMPANY*")
    interchanges = read_interchanges(data, "cp1252")
    nm1 = next(s for s in interchanges[0].transactions[0].segments if s.get(1) == "40")
    assert nm1.get(3) == "KÉY INSURANCE COMPANY"
    assert codes(interchanges) == {"ENCODING"}


def test_byte_order_mark(clean_elements: list[list[str]]) -> None:
    interchanges = read_interchanges(b"\xef\xbb\xbf" + clean_text().encode(), "bom")
    assert elements_of(interchanges) == clean_elements
    assert codes(interchanges) == set()


def test_two_interchanges_with_different_delimiters() -> None:
    other = fixture_bytes("837p/imsweb-x12_valid_different_separators.txt")
    data = clean_text().encode() + b"\r\n" + other + b"\r\n\r\n"
    first, second = read_interchanges(data, "two")
    assert first.delimiters.element == "*" and second.delimiters.element == "~"
    assert [t.count("CLM") for t in (*first.transactions, *second.transactions)] == [1, 2]
    assert second.isa is not None
    assert second.isa.position == first.transactions[0].segments[-1].position + 3


def test_trailing_garbage_after_iea(clean_elements: list[list[str]]) -> None:
    data = clean_text().encode() + b"\r\n\x1a-- end of report --\r\n"
    interchanges = read_interchanges(data, "trailing")
    assert elements_of(interchanges) == clean_elements
    assert codes(interchanges) == {"TRAILING_DATA"}


# --------------------------------------------------------------------------------------------
# Envelope rules are warnings, unreadable input is X12ReadError.


def test_envelope_rules_are_warnings() -> None:
    text = clean_text()
    broken = (
        text.replace("SE*42*0021~", "SE*40*0022~")
        .replace("GE*1*20213~", "GE*3*9~")
        .replace("IEA*1*000010216~", "IEA*2*000010217~")
    )
    (interchange,) = read_interchanges(broken, "broken")
    assert codes([interchange]) == {
        "SE_COUNT",
        "SE_CONTROL",
        "GE_COUNT",
        "GE_CONTROL",
        "IEA_COUNT",
        "IEA_CONTROL",
    }
    by_code = {w.code: w for w in interchange.all_warnings()}
    assert by_code["SE_COUNT"].message == "SE01 says 40; the transaction has 42 segments"
    assert interchange.transactions[0].se is not None
    assert by_code["SE_COUNT"].position == interchange.transactions[0].se.position


def test_missing_trailers_are_warnings() -> None:
    text = clean_text()
    truncated = text[: text.index("SE*")]  # ends right after a terminator
    (interchange,) = read_interchanges(truncated, "cut")
    assert codes([interchange]) == {"SE_MISSING", "GE_MISSING", "IEA_MISSING"}
    assert interchange.transactions[0].count("CLM") == 1


def test_segments_outside_a_transaction_are_warnings() -> None:
    text = clean_text().replace("GE*1*20213~", "NTE*ADD*NOTE~GE*1*20213~")
    (interchange,) = read_interchanges(text, "stray")
    assert codes([interchange]) == {"OUTSIDE_TRANSACTION"}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "no ISA, GS or ST segment found"),
        (b"   \r\n\r\n", "no ISA, GS or ST segment found"),
        (b"hello world, this is not X12", "no ISA, GS or ST segment found"),
        (b"ISA*00*          *00*      ", "ISA segment is too short or malformed"),
    ],
)
def test_unreadable_input_raises(data: bytes, fragment: str) -> None:
    with pytest.raises(X12ReadError, match=fragment) as info:
        read_interchanges(data, "bad.x12")
    assert info.value.file_name == "bad.x12"
    assert str(info.value).startswith("bad.x12")


def test_data_ending_inside_a_segment_raises_with_position() -> None:
    text = clean_text()
    cut = text[: text.index("SV1*") + 10]
    with pytest.raises(X12ReadError, match="ends inside a SV1 segment") as info:
        read_interchanges(cut, "cut.x12")
    (interchange,) = read_interchanges(text, "whole")
    sv1 = next(interchange.transactions[0].find("SV1"))
    assert info.value.position == sv1.position
    assert info.value.offset == text.index("SV1*")


def test_unterminated_iea_is_a_warning() -> None:
    text = clean_text().rstrip("~")
    assert codes(read_interchanges(text, "no-final-tilde")) == {"UNTERMINATED"}


def test_read_error_is_picklable() -> None:
    error = X12ReadError("f.x12", 7, "boom", offset=42)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - bytes we just made
    assert (copy.file_name, copy.position, copy.offset, copy.message) == ("f.x12", 7, 42, "boom")


# --------------------------------------------------------------------------------------------
# Streaming APIs agree with the whole-file reader.


def test_streaming_matches_whole_file(tmp_path: Path) -> None:
    rel = "837p/imsweb-x12_multiple_gs.txt"
    data = fixture_bytes(rel)
    whole = read_interchanges(data, rel)
    streamed = list(iter_transactions(data, rel))
    assert [t.control_number for _, _, t in streamed] == [
        t.control_number for i in whole for t in i.transactions
    ]
    assert [len(t.segments) for _, _, t in streamed] == [
        len(t.segments) for i in whole for t in i.transactions
    ]
    assert all(not g.transactions for _, g, _ in streamed)  # nothing kept while streaming
    segments = list(iter_segments(data, rel))
    assert [s.position for s in segments] == list(range(1, len(segments) + 1))
    path = tmp_path / "copy.x12"
    path.write_bytes(data)
    assert elements_of(read_file(path)) == elements_of(whole)


def test_big_file_reads_in_linear_time() -> None:
    """A 4 MB 837 (about 140 000 segments) reads in seconds: no quadratic step."""
    text = fixture_bytes("837p/imsweb-x12_many_claims.txt.gz").decode()
    head, _, rest = text.partition("HL*2*1*22*1~")
    body = "HL*2*1*22*1~" + rest[: rest.rindex("SE*")]
    copies = 4_000_000 // len(body) + 1
    data = head + body * copies + "SE*1*987654~\nGE*1*1~\nIEA*1*000000905~\n"
    started = time.perf_counter()
    (interchange,) = read_interchanges(data, "big")
    elapsed = time.perf_counter() - started
    assert interchange.transactions[0].count("CLM") == 820 * copies
    assert elapsed < 10, f"{len(data) / 1e6:.1f} MB took {elapsed:.1f}s"


# --------------------------------------------------------------------------------------------
# Arbitrary input: a result or X12ReadError, never another exception, in bounded time.

_SAMPLE_POOL = [fixture_bytes(row[0]) for row in SAMPLES if not row[0].endswith(".gz")]
_SAMPLE_POOL += [fixture_bytes(row[0]) for row in MALFORMED]


def _read_or_error(data: bytes) -> None:
    started = time.perf_counter()
    try:
        interchanges = read_interchanges(data, "fuzz")
        for _ in iter_transactions(data, "fuzz"):
            pass
        for interchange in interchanges:
            interchange.all_warnings()
            for transaction in interchange.transactions:
                for seg in transaction.segments:
                    assert isinstance(seg, Segment)
                    seg.composite(1)
                    seg.repeats(2)
    except X12ReadError as exc:
        assert exc.file_name == "fuzz"
        assert "unreadable X12" not in exc.message  # that wording means a reader bug
    assert time.perf_counter() - started < 2


@settings(max_examples=300, deadline=timedelta(seconds=5), database=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(data: bytes) -> None:
    _read_or_error(data)


@settings(max_examples=150, deadline=timedelta(seconds=5), database=None)
@given(st.text(alphabet="ISAGSTE*~:^>|_\r\n 0123456789CLM", max_size=2000))
def test_x12_shaped_text(text: str) -> None:
    _read_or_error(text.encode())


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SAMPLE_POOL)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "truncate", "replace", "insert"]))
        n = draw(st.integers(1, 12))
        if action == "delete":
            del data[i : i + n]
        elif action == "duplicate":
            data[i:i] = data[i : i + n]
        elif action == "truncate":
            del data[i:]
        elif action == "replace":
            data[i] = draw(st.integers(0, 255))
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=n))
    return bytes(data)


@settings(
    max_examples=400,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # no .hypothesis/ folder in the repository
)
@given(mutated_samples())
def test_mutated_valid_files(data: bytes) -> None:
    _read_or_error(data)


# --------------------------------------------------------------------------------------------
# 837 claims out of the samples (read_837 on top of the reader).


def test_837p_claim_fields_from_a_sample() -> None:
    rel = "837p/stupidedi-ambulance.edi"
    (claim,) = read_837_claims(fixture_bytes(rel), rel)
    assert (claim.claim_id, claim.total_charge, claim.kind) == (
        "051068",
        Decimal("766.50"),
        "professional",
    )
    assert (claim.facility_code, claim.frequency_code) == ("41", "1")
    assert claim.line_total == claim.total_charge
    assert claim.diagnoses == ("8628", "E8888", "9592", "8540")
    assert [line.line_control_number for line in claim.lines] == ["1001", "1002", "1003", "1004"]
    second = claim.lines[1]
    assert (second.number, second.procedure_code, second.modifiers) == (2, "A0425", ("RH",))
    assert (second.charge, second.units, second.unit_basis) == (Decimal("8.20"), 21, "UN")
    assert second.diagnosis_pointers == (1, 2, 3, 4)
    assert "member" not in repr(claim)  # the member id is kept out of reprs


def test_837p_cob_claim_keeps_the_2000b_payer_and_subscriber() -> None:
    # The 2320/2330 loops after the CLM carry another SBR, NM1*IL and NM1*PR: not ours.
    rel = "837p/stupidedi-COB-claim-from-billing-provider-to-payer-b.edi"
    (claim,) = read_837_claims(fixture_bytes(rel), rel)
    assert (claim.payer_id, claim.payer_name) == ("567890", "GREAT PRAIRIES HEALTH")
    assert claim.subscriber_member_id == "222334444"
    assert claim.payer_responsibility == "S"
    assert claim.has_patient_loop and claim.relationship_code == "19"


def test_837i_claim_fields_from_a_sample() -> None:
    rel = "837i/stupidedi-automobile-accident.edi"
    (claim,) = read_837_claims(fixture_bytes(rel), rel)
    assert claim.kind == "institutional"
    assert claim.bill_type == "131"
    assert claim.total_charge == claim.line_total == Decimal("545")
    assert (claim.statement_from, claim.statement_to) == (date(2005, 10, 31), date(2005, 11, 1))
    assert claim.has_patient_loop and claim.relationship_code == "21"
    assert claim.claim_filing_indicator == "AM"
    assert [(line.revenue_code, line.procedure_code) for line in claim.lines] == [
        ("0450", "98765"),
        ("0360", "26591"),
        ("0312", "86225"),
        ("0360", "99283"),
    ]
    assert claim.diagnoses == ("8842", "8842", "E9750", "E9860")
    assert {h.qualifier for h in claim.health_codes} == {"BK", "PR", "BN"}


def test_837_claims_across_interchanges() -> None:
    rel = "837p/imsweb-x12_multiple_transactions.txt.gz"
    claims = read_837_claims(fixture_bytes(rel), rel)
    assert len(claims) == 624
    assert {c.claim_id for c in claims} == {"A37YH556", "A37YH667"}
    assert read_837_claims(fixture_bytes("835/stupidedi-era-sample.edi"), "835") == []


def test_837_unreadable_amount_is_a_read_error() -> None:
    text = fixture_bytes("837p/stupidedi-ambulance.edi").decode()
    with pytest.raises(X12ReadError, match="CLM02 is not a decimal amount") as info:
        read_837_claims(text.replace("CLM*051068*766.50*", "CLM*051068*7x6.50*"), "bad")
    assert info.value.position == 23

"""835 into the remittance tables: every sample, hand-checked rows, balancing, bad input."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.remits.parse_835 import Remit835Tables, parse_835, parse_835_file
from revcycle.x12.reader import X12ReadError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"
SAMPLES_835 = sorted((FIXTURES / "835").iterdir())
MULTI = FIXTURES / "835" / "stupidedi-multiple-claims-single-check.edi"
SECONDARY = FIXTURES / "835" / "stupidedi-secondary-payments.edi"
WITH_PLB = FIXTURES / "835" / "stupidedi-dollars-and-data-sent-together.edi"


# --------------------------------------------------------------------------------------------
# An independent reading of the raw segments: plain string splitting, no project code.


def raw_segments(data: bytes) -> list[list[str]]:
    """Segments as element lists, delimiters read from the ISA (its 16th element)."""
    text = data.decode("latin-1")
    text = text[text.index("ISA") :]
    element = text[3]
    isa16 = text.split(element, 16)[16]
    terminator = isa16[1]
    body = text.replace("\r", "").replace("\n", "") if terminator not in "\r\n" else text
    return [s.strip().split(element) for s in body.split(terminator) if s.strip()]


@dataclass
class RawTotals:
    claims: int
    charge: Decimal
    paid: Decimal
    patient: Decimal
    cas: Decimal
    plb: Decimal
    bpr: Decimal


def raw_totals(data: bytes) -> RawTotals:
    def amounts(elements: list[str], indexes: Iterable[int]) -> Decimal:
        return sum(
            (Decimal(elements[i]) for i in indexes if i < len(elements) and elements[i]),
            Decimal(0),
        )

    segments = raw_segments(data)
    clp = [s for s in segments if s[0] == "CLP"]
    cas = [s for s in segments if s[0] == "CAS"]
    plb = [s for s in segments if s[0] == "PLB"]
    bpr = [s for s in segments if s[0] == "BPR"]
    return RawTotals(
        claims=len(clp),
        charge=sum((amounts(s, [3]) for s in clp), Decimal(0)),
        paid=sum((amounts(s, [4]) for s in clp), Decimal(0)),
        patient=sum((amounts(s, [5]) for s in clp), Decimal(0)),
        cas=sum((amounts(s, range(3, 20, 3)) for s in cas), Decimal(0)),
        plb=sum((amounts(s, range(4, 15, 2)) for s in plb), Decimal(0)),
        bpr=sum((amounts(s, [2]) for s in bpr), Decimal(0)),
    )


def table_totals(tables: Remit835Tables) -> RawTotals:
    claims = tables.claims
    return RawTotals(
        claims=len(claims),
        charge=sum((c.total_charge_amount for c in claims), Decimal(0)),
        paid=sum((c.paid_amount for c in claims), Decimal(0)),
        patient=sum((c.patient_responsibility_amount or Decimal(0) for c in claims), Decimal(0)),
        cas=sum((a.amount for a in tables.adjustments), Decimal(0)),
        plb=sum((p.amount for p in tables.provider_adjustments), Decimal(0)),
        bpr=sum((p.payment_amount or Decimal(0) for p in tables.payments), Decimal(0)),
    )


def replace_segment(data: bytes, old: str, new: str) -> bytes:
    """Replace one whole segment (``old`` must occur exactly once, terminator included)."""
    text = data.decode("ascii")
    assert text.count(old) == 1, old
    return text.replace(old, new).encode("ascii")


# --------------------------------------------------------------------------------------------
# Every sample


@pytest.mark.parametrize("path", SAMPLES_835, ids=lambda p: p.name)
def test_every_sample_matches_an_independent_sum_of_its_segments(path: Path) -> None:
    data = path.read_bytes()
    tables = parse_835(data, path.name)
    assert table_totals(tables) == raw_totals(data)
    assert len(tables.payments) == sum(1 for s in raw_segments(data) if s[0] == "ST")


@pytest.mark.parametrize("path", SAMPLES_835, ids=lambda p: p.name)
def test_every_sample_has_unique_ids_and_a_check_per_claim_line_and_transaction(
    path: Path,
) -> None:
    tables = parse_835_file(path)
    for table, rows in tables.as_dict().items():
        ids = [row[0] for row in rows]
        if rows and table != "remit_balance_checks":
            assert len(set(ids)) == len(ids)
    checks = tables.balance_checks
    assert sum(c.level == "line" for c in checks) == len(tables.service_lines)
    assert sum(c.level == "claim" for c in checks) == len(tables.claims)
    assert sum(c.level == "transaction" for c in checks) == len(tables.payments)
    claim_ids = {c.claim_payment_id for c in tables.claims}
    line_ids = {line.service_line_id for line in tables.service_lines}
    assert {line.claim_payment_id for line in tables.service_lines} <= claim_ids
    assert {a.claim_payment_id for a in tables.adjustments} <= claim_ids
    assert {a.service_line_id for a in tables.adjustments if a.level == "line"} <= line_ids
    assert all(a.service_line_id is None for a in tables.adjustments if a.level == "claim")


def test_no_names_or_member_ids_in_any_table() -> None:
    path = FIXTURES / "835" / "lfh-managed-care.835"
    tables = parse_835_file(path)
    cells = {str(v) for rows in tables.as_dict().values() for row in rows for v in row}
    for secret in ("BUDD", "WILLIAM", "33344555510", "SETTLE", "SUSAN", "44455666610"):
        assert not any(secret in cell for cell in cells), secret


# --------------------------------------------------------------------------------------------
# Hand-checked rows


def test_a_claim_with_two_lines_and_a_three_triplet_cas_read_by_hand() -> None:
    tables = parse_835_file(SECONDARY)
    (payment,) = tables.payments
    assert payment.payment_amount == Decimal("1222")
    assert (payment.handling_code, payment.credit_debit_flag, payment.payment_method) == (
        "I",
        "C",
        "CHK",
    )
    assert (payment.trace_number, payment.payment_date) == ("0012524965", date(2005, 4, 12))
    assert (payment.payee_id_qualifier, payment.payee_id) == ("FI", "599944521")
    assert payment.interchange_control_number == "000010216"
    assert payment.payment_id == f"{payment.file_sha256[:16]}-0001-3"

    second = next(c for c in tables.claims if c.patient_control_number == "0001000053")
    assert (second.claim_status_code, second.payer_claim_control_number) == ("2", "50630626430")
    assert (second.total_charge_amount, second.paid_amount) == (Decimal("751.50"), Decimal("310"))
    assert second.patient_responsibility_amount == Decimal("220")
    assert second.service_date_from == second.service_date_to == date(2005, 1, 6)

    lines = [
        line for line in tables.service_lines if line.claim_payment_id == second.claim_payment_id
    ]
    assert [(line.procedure_code, line.modifier_1) for line in lines] == [
        ("12345", "26"),
        ("66543", "26"),
    ]
    assert lines[1].revenue_code == "220"
    assert lines[1].allowed_amount == Decimal("500")

    cas = [a for a in tables.adjustments if a.service_line_id == lines[1].service_line_id]
    assert [(a.group_code, a.reason_code, a.amount) for a in cas] == [
        ("PR", "1", Decimal("150")),
        ("PR", "2", Decimal("70")),
        ("CO", "42", Decimal("85")),
    ]
    assert [a.adjustment_id.rsplit("-", 2)[1:] for a in cas] == [
        [str(cas[0].position), "1"],
        [str(cas[0].position), "2"],
        [str(cas[2].position), "1"],
    ]
    assert {a.level for a in cas} == {"line"}

    first = next(c for c in tables.claims if c.patient_control_number == "L0004828311")
    (claim_cas,) = [a for a in tables.adjustments if a.claim_payment_id == first.claim_payment_id]
    assert (claim_cas.level, claim_cas.service_line_id, claim_cas.amount) == (
        "claim",
        None,
        Decimal("9411.64"),
    )
    assert first.coverage_amount == Decimal("912")
    assert (first.facility_type_code, first.claim_frequency_code) == ("11", "1")
    assert all(c.is_balanced for c in tables.balance_checks)


def test_a_provider_level_adjustment_read_by_hand() -> None:
    tables = parse_835_file(WITH_PLB)
    (plb,) = tables.provider_adjustments
    assert (plb.provider_id, plb.fiscal_period_date) == ("6543210903", date(2002, 12, 31))
    assert (plb.reason_code, plb.reference_id, plb.amount) == ("CV", "CP", Decimal("-1.27"))
    payment_id = tables.payments[0].payment_id
    assert plb.provider_adjustment_id == f"{payment_id}-{plb.position}-1"
    # 138018.4 + 11980.33 - (-1.27) = 150000: the negative PLB adds to the payment.
    (check,) = [c for c in tables.balance_checks if c.level == "transaction"]
    assert (check.expected_amount, check.actual_amount) == (Decimal("150000"), Decimal("150000"))
    assert check.is_balanced
    assert tables.payments[0].payer_id == "999"  # REF*2U wins over TRN03
    assert tables.service_lines == []  # claims without SVC
    assert {a.level for a in tables.adjustments} == {"claim"}


def test_remark_codes_units_and_line_dates() -> None:
    tables = parse_835_file(FIXTURES / "835" / "pyx12-835_mult_loops.txt")
    (claim,) = tables.claims
    assert (claim.claim_status_code, claim.paid_amount) == ("4", Decimal("0"))
    assert [line.remark_codes for line in tables.service_lines] == ["N14", "N14", "N14"]
    assert [line.units_paid for line in tables.service_lines] == [
        Decimal("68"),
        Decimal("16"),
        Decimal("36"),
    ]
    first = tables.service_lines[0]
    assert (first.service_date_from, first.service_date_to) == (date(2003, 11, 29),) * 2
    assert tables.payments[0].handling_code == "H"
    assert all(c.is_balanced for c in tables.balance_checks)


def test_a_composite_written_with_another_separator_than_isa16() -> None:
    # ISA16 is ':' but the payer wrote SVC01 as HC>55669 (a public LinuxForHealth sample).
    tables = parse_835_file(FIXTURES / "835" / "lfh-cob-contractural-adjustment.835")
    (line,) = tables.service_lines
    assert (line.procedure_qualifier, line.procedure_code) == ("HC", "55669")
    assert [a.amount for a in tables.adjustments] == [Decimal("516.00"), Decimal("-9.00")]


def test_an_impossible_date_is_null_with_a_warning() -> None:
    tables = parse_835_file(FIXTURES / "835" / "lfh-managed-care.835")  # BPR16 20002316
    assert tables.payments[0].payment_date is None
    (warning,) = tables.warnings
    assert (warning.code, warning.position) == ("BAD_DATE", 4)
    assert "BPR16" in warning.message and "20002316" not in warning.message


REVERSAL_835 = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       *261101*1200*^*00501*"
    "000000042*0*T*:~"
    "GS*HP*PAYER*PROVIDER*20261101*1200*42*X*005010X221A1~"
    "ST*835*0001~"
    "BPR*I*5.00*C*ACH*CCP*01*011000015*DA*1*1512345678**01*021000021*DA*2*20261101~"
    "TRN*1*EFT0001*1512345678~"
    "DTM*405*20261031~"
    "N1*PR*ACME HEALTH PLAN*XV*87726~"
    "N1*PE*CLINIC*XX*1234567893~"
    "LX*1~"
    "CLP*C0001*22*-200.00*-120.00**12*PCN0001*11*8~"
    "CAS*CO*45*-60.00~"
    "CAS*PR*2*-20.00~"
    "DTM*050*20261020~"
    "CLP*C0001*1*200.00*130.00*20.00*12*PCN0002*11*7~"
    "DTM*232*20261001~"
    "AMT*I*1.50~"
    "SVC*HC:99213:25:59:GT:95*200.00*130.00*0450*1.5*HC:99214*2~"
    "DTM*150*20261001~"
    "DTM*151*20261002~"
    "CAS*CO*45*50.00~"
    "CAS*PR*2*20.00~"
    "REF*6R*C0001-1~"
    "LQ*HE*N130~"
    "LQ*HE*M15~"
    "LQ*RX*IGNORED~"
    "CLP*C0002*4*80.00*0**12*PCN0003~"
    "CAS*CO*50*80.00~"
    "PLB*1234567893*20261231*L6*-1.00*WO:C0099*6.00*72:C0098*0.00~"
    "SE*28*0001~"
    "GE*1*42~"
    "IEA*1*000000042~"
)


def test_a_reversal_a_correction_a_denial_and_takebacks() -> None:
    tables = parse_835(REVERSAL_835.encode(), "reversal.835")
    reversal, correction, denial = tables.claims
    assert (reversal.claim_status_code, reversal.total_charge_amount, reversal.paid_amount) == (
        "22",
        Decimal("-200.00"),
        Decimal("-120.00"),
    )
    assert reversal.received_date == date(2026, 10, 20)
    assert reversal.claim_frequency_code == "8"
    reversal_cas = [
        a for a in tables.adjustments if a.claim_payment_id == reversal.claim_payment_id
    ]
    assert [(a.group_code, a.reason_code, a.amount) for a in reversal_cas] == [
        ("CO", "45", Decimal("-60.00")),
        ("PR", "2", Decimal("-20.00")),
    ]
    assert correction.interest_amount == Decimal("1.50")
    assert correction.service_date_from == date(2026, 10, 1)
    assert correction.service_date_to is None
    (line,) = tables.service_lines
    assert (
        line.procedure_code,
        line.modifier_1,
        line.modifier_2,
        line.modifier_3,
        line.modifier_4,
    ) == ("99213", "25", "59", "GT", "95")
    assert (line.revenue_code, line.units_paid, line.original_units) == (
        "0450",
        Decimal("1.5"),
        Decimal("2"),
    )
    assert line.original_procedure_code == "99214"
    assert (line.service_date_from, line.service_date_to) == (date(2026, 10, 1), date(2026, 10, 2))
    assert (line.line_control_number, line.remark_codes) == ("C0001-1", "N130,M15")
    assert denial.patient_responsibility_amount is None
    plb = tables.provider_adjustments
    assert [(p.reason_code, p.reference_id, p.amount) for p in plb] == [
        ("L6", None, Decimal("-1.00")),
        ("WO", "C0099", Decimal("6.00")),
        ("72", "C0098", Decimal("0.00")),
    ]
    assert tables.payments[0].payer_id == "87726"  # N1*PR 04 when there is no REF*2U
    # Paid -120 + 130 + 0, less the PLB (-1 + 6 + 0): 5.00, the BPR02.
    assert tables.unbalanced == []


def test_a_debit_payment_is_negative_in_the_transaction_check() -> None:
    # A 16.00 takeback makes the payment -5.00: BPR02 says 5.00 with BPR03 D (debit).
    data = (
        REVERSAL_835.replace("BPR*I*5.00*C*", "BPR*I*5.00*D*")
        .replace("WO:C0099*6.00", "WO:C0099*16.00")
        .encode()
    )
    tables = parse_835(data, "debit.835")
    assert tables.payments[0].payment_amount == Decimal("5.00")
    assert tables.payments[0].credit_debit_flag == "D"
    transaction = next(c for c in tables.balance_checks if c.level == "transaction")
    assert transaction.actual_amount == Decimal("-5.00")
    assert transaction.is_balanced


def test_six_cas_triplets_and_six_plb_pairs() -> None:
    data = (
        REVERSAL_835.replace(
            "CAS*CO*50*80.00~", "CAS*CO*50*10*1*4*10**5*10*2*6*10**7*10**8*30~"
        ).replace("72:C0098*0.00~", "72:C0098*0.00*FB*1.00*FB*-1.00*CS:X1*0~")
    ).encode()
    tables = parse_835(data, "six.835")
    denial = tables.claims[2]
    cas = [a for a in tables.adjustments if a.claim_payment_id == denial.claim_payment_id]
    assert [a.reason_code for a in cas] == ["50", "4", "5", "6", "7", "8"]
    assert [a.adjustment_id.rsplit("-", 1)[1] for a in cas] == ["1", "2", "3", "4", "5", "6"]
    assert [a.quantity for a in cas] == [Decimal(1), None, Decimal(2), None, None, None]
    assert sum(a.amount for a in cas) == Decimal(80)
    plb = tables.provider_adjustments
    assert [(p.reason_code, p.reference_id) for p in plb] == [
        ("L6", None),
        ("WO", "C0099"),
        ("72", "C0098"),
        ("FB", None),
        ("FB", None),
        ("CS", "X1"),
    ]
    assert [p.provider_adjustment_id.rsplit("-", 1)[1] for p in plb] == list("123456")
    assert tables.unbalanced == []


def test_a_minimal_835_without_envelope_or_optional_segments() -> None:
    tables = parse_835(b"ST*835*1~BPR*I*10*C*CHK~CLP*A1*1*10*10~SE*4*1~", "minimal.835")
    (payment,) = tables.payments
    assert payment.interchange_control_number is None
    assert (payment.trace_number, payment.payer_name, payment.payer_id) == (None, None, None)
    assert (payment.payee_id, payment.production_date, payment.payment_date) == (None,) * 3
    (claim,) = tables.claims
    assert (claim.patient_control_number, claim.patient_responsibility_amount) == ("A1", None)
    assert (claim.service_date_from, claim.payer_claim_control_number) == (None, None)
    assert tables.unbalanced == []
    no_bpr = parse_835(b"ST*835*1~CLP*A1*1*10*10~SE*3*1~", "no-bpr.835")
    (check,) = [c for c in no_bpr.balance_checks if c.level == "transaction"]
    assert (check.actual_amount, check.difference_amount, check.is_balanced) == (None, None, False)


# --------------------------------------------------------------------------------------------
# Balancing


def test_a_balanced_sample_has_every_check_balanced() -> None:
    tables = parse_835_file(MULTI)
    assert len(tables.claims) == 9
    assert len(tables.balance_checks) == 9 + 33 + 1
    assert tables.unbalanced == []
    assert all(c.difference_amount == 0 for c in tables.balance_checks)


def test_a_planted_cent_shows_at_transaction_level() -> None:
    data = replace_segment(MULTI.read_bytes(), "BPR*I*810.8*C*CHK*", "BPR*I*810.81*C*CHK*")
    (check,) = parse_835(data, "cent.edi").unbalanced
    assert (check.level, check.claim_payment_id) == ("transaction", None)
    assert (check.expected_amount, check.actual_amount) == (Decimal("810.8"), Decimal("810.81"))
    assert check.difference_amount == Decimal("0.01")


def test_a_planted_cent_shows_at_claim_level() -> None:
    # The claim says it paid one cent more than its adjustments allow; BPR agrees with it.
    data = replace_segment(
        MULTI.read_bytes(),
        "CLP*7722337*1*348*16.8*44.2*",
        "CLP*7722337*1*348*16.81*44.2*",
    )
    data = replace_segment(data, "BPR*I*810.8*C*CHK*", "BPR*I*810.81*C*CHK*")
    tables = parse_835(data, "cent.edi")
    (check,) = tables.unbalanced
    claim = next(c for c in tables.claims if c.paid_amount == Decimal("16.81"))
    assert (check.level, check.claim_payment_id, check.service_line_id) == (
        "claim",
        claim.claim_payment_id,
        None,
    )
    assert check.difference_amount == Decimal("0.01")
    assert (check.expected_amount, check.actual_amount) == (Decimal("16.80"), Decimal("16.81"))


def test_a_planted_cent_shows_at_line_level() -> None:
    data = replace_segment(MULTI.read_bytes(), "SVC*AD:D0330*92*62~", "SVC*AD:D0330*92*62.01~")
    tables = parse_835(data, "cent.edi")
    (check,) = tables.unbalanced
    assert check.level == "line"
    assert check.difference_amount == Decimal("0.01")
    (line,) = [s for s in tables.service_lines if s.service_line_id == check.service_line_id]
    assert line.procedure_code == "D0330"


def test_the_same_file_twice_gives_identical_rows() -> None:
    data = MULTI.read_bytes()
    first, second = parse_835(data, "a.edi"), parse_835(data, "a.edi")
    assert first.as_dict() == second.as_dict()
    renamed = parse_835(data, "b.edi")  # same content, other name: same ids
    assert [c.claim_payment_id for c in renamed.claims] == [
        c.claim_payment_id for c in first.claims
    ]


def test_several_interchanges_and_transactions_in_one_file() -> None:
    one = MULTI.read_bytes()
    two = SECONDARY.read_bytes()
    tables = parse_835(one + b"\n" + two + two, "many.edi")
    assert len(tables.payments) == 3
    assert len({p.payment_id for p in tables.payments}) == 3
    assert [p.interchange_control_number for p in tables.payments] == [
        "000000195",
        "000010216",
        "000010216",
    ]
    assert len(tables.claims) == 9 + 2 + 2
    assert tables.unbalanced == []
    assert table_totals(tables) == raw_totals(one + two + two)


def test_a_transaction_without_se_and_other_transactions_in_the_file() -> None:
    ack = (FIXTURES / "ack" / "imsweb-x12_999_accepted.txt").read_bytes()
    data = MULTI.read_bytes().replace(b"SE*190*35681~", b"")
    tables = parse_835(ack + data, "mixed.edi")
    assert len(tables.payments) == 1
    assert len(tables.claims) == 9
    assert tables.unbalanced == []


# --------------------------------------------------------------------------------------------
# Values the tables cannot hold: the project's error, with file and position, never the value


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("CLP*7722337*1*221*144**", "CLP*7722337*1*221*1A4**", "CLP04"),
        ("CLP*7722337*1*221*144**", "CLP*7722337*1*221*1e2**", "CLP04"),
        ("CLP*7722337*1*221*144**", "CLP*7722337*1*221*1.445**", "CLP04"),
        ("SVC*AD:D0330*92*62~", "SVC*AD:D0330*NaN*62~", "SVC02"),
        ("SVC*AD:D0330*92*62~", "SVC*AD:D0330*92*62*0330*X~", "SVC05"),
        ("BPR*I*810.8*C*", "BPR*I*8,10*C*", "BPR02"),
    ],
)
def test_a_malformed_amount_is_an_x12_read_error(old: str, new: str, element: str) -> None:
    data = MULTI.read_bytes().decode()
    assert old in data
    bad = data.replace(old, new, 1).encode()
    with pytest.raises(X12ReadError) as caught:
        parse_835(bad, "bad.edi")
    error = caught.value
    assert error.file_name == "bad.edi"
    assert error.position is not None
    assert element in error.message
    assert new.split("*")[4 if element == "CLP04" else 2] not in str(error)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("CAS*CO*131*21~", "CAS*CO*131*~", r"CAS03 \(adjustment amount\) is missing"),
        ("CLP*7722337*1*221*144**", "CLP*7722337*1**144**", "CLP03"),
        ("SVC*AD:D0330*92*62~", "SVC*AD:D0330*92~", "SVC03"),
    ],
)
def test_a_missing_required_amount_is_an_x12_read_error(old: str, new: str, message: str) -> None:
    data = MULTI.read_bytes().decode().replace(old, new, 1).encode()
    with pytest.raises(X12ReadError, match=message):
        parse_835(data, "bad.edi")


def test_structure_errors_and_files_without_an_835() -> None:
    data = MULTI.read_bytes().decode().replace("LX*1~CLP", "LX*1~CAS*CO*45*1~CLP", 1).encode()
    with pytest.raises(X12ReadError, match="CAS outside a claim"):
        parse_835(data, "bad.edi")
    ack = (FIXTURES / "ack" / "imsweb-x12_999_accepted.txt").read_bytes()
    with pytest.raises(X12ReadError, match="no 835 transaction"):
        parse_835(ack, "ack.txt")
    with pytest.raises(X12ReadError):
        parse_835(b"not x12 at all", "junk.txt")


# --------------------------------------------------------------------------------------------
# Whatever the bytes: tables, or X12ReadError from a known path (never an "unexpected" one)

_SAMPLE_POOL = [MULTI.read_bytes(), SECONDARY.read_bytes(), WITH_PLB.read_bytes(), b""]
_SAMPLE_POOL[-1] = REVERSAL_835.encode()
_TOKENS = [b"*", b"~", b":", b">", b"-", b".", b"1", b"99", b"CAS*", b"SVC*", b"CLP*", b"PLB*"]


@st.composite
def mutated_835s(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SAMPLE_POOL)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "truncate", "replace", "token"]))
        n = draw(st.integers(1, 40))
        if action == "delete":
            del data[i : i + n]
        elif action == "duplicate":
            data[i:i] = data[i : i + n]
        elif action == "truncate":
            del data[i:]
        elif action == "replace":
            data[i] = draw(st.integers(0, 255))
        else:
            data[i:i] = draw(st.sampled_from(_TOKENS))
    return bytes(data)


@settings(
    max_examples=400,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # no .hypothesis/ folder in the repository
)
@given(mutated_835s())
def test_mutated_835s_give_tables_or_the_projects_error(data: bytes) -> None:
    try:
        tables = parse_835(data, "mutated.835")
    except X12ReadError as error:
        assert "unexpected" not in error.message, error.message
        return
    assert tables.payments
    for check in tables.balance_checks:
        if check.difference_amount is not None:
            assert check.difference_amount == check.actual_amount - check.expected_amount


def test_the_benchmark_file_is_balanced_and_read_in_full() -> None:
    from bench.bench_835_reader import generate_835

    data = generate_835(600, claims_per_st=250)
    tables = parse_835(data, "bench.835")
    assert (len(tables.payments), len(tables.claims)) == (3, 600)
    assert tables.unbalanced == []
    assert {c.claim_status_code for c in tables.claims} == {"1", "2", "4", "22"}
    assert table_totals(tables) == raw_totals(data)

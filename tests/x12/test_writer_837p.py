"""837P writer: every file written here is validated with pyx12 4.0.0 (zero errors) and an
independent structure check (envelope counts, HL tree, CLM02 = sum of the lines)."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pytest

from revcycle.claims.model import Address, Claim, ClaimDataError, Person, RenderingProvider
from revcycle.x12.envelope import (
    SEGMENT_END,
    ClaimLimitError,
    ClaimTypeError,
    ControlNumberError,
    ControlNumbers,
    SubmitterConfig,
    WriteSummary,
    transaction_sets_needed,
)
from revcycle.x12.read_837 import read_837_claims
from revcycle.x12.text import clean_text, format_amount
from revcycle.x12.writer_837p import write_837p
from tests.claims.support import (
    BILLING,
    DEPENDENT,
    FACILITY,
    NOW,
    RENDERING_NPI,
    SUBMITTER,
    SUBSCRIBER,
    assert_valid,
    institutional_claim,
    line,
    professional_claim,
    segments,
)


def write(
    claims: list[Claim], *, per_st: int = 5000, first_st: int = 1
) -> tuple[str, WriteSummary]:
    out = io.StringIO(newline="")
    count = transaction_sets_needed(len(claims), per_st)
    summary = write_837p(
        out,
        claims,
        submitter=SUBMITTER,
        control=ControlNumbers(
            interchange=123456, group=77, transactions=range(first_st, first_st + count)
        ),
        now=NOW,
        claims_per_transaction=per_st,
    )
    return out.getvalue(), summary


def find(text: str, tag: str, first: str | None = None) -> list[list[str]]:
    return [s for s in segments(text) if s[0] == tag and (first is None or s[1] == first)]


def twelve_dx_four_modifiers() -> Claim:
    dx = (
        "I10",
        "E119",
        "E785",
        "J449",
        "M545",
        "R51",
        "Z00129",
        "F419",
        "K219",
        "N390",
        "R0789",
        "G4700",
    )
    return professional_claim(
        "C0000000000000012",
        diagnoses=dx,
        lines=(
            line("C0000000000000012", 1, modifiers=("25", "59", "GT", "95"), pointers=(1, 2, 3, 4)),
            line("C0000000000000012", 2, code="93000", charge="48.10", pointers=(12, 11, 10, 9)),
        ),
    )


def hostile_names() -> Claim:
    """Delimiters, control characters and accents in every free-text field we write."""
    dirty = Address("1*2 Main~St^#4", "Spring:field|", "il", "62701-1234", "Apt\t5\r\n")
    person = Person(
        last_name="O'Brien*Smith~",
        first_name="Zoë:Ann^",
        middle_initial="|q",
        birth_date=SUBSCRIBER.person.birth_date,
        sex="F",
        address=dirty,
        person_id="P9",
    )
    subscriber = replace(SUBSCRIBER, person=person, member_id="W12*34~56", group_number="G:1^2")
    return professional_claim(
        "C00000000000000D1",
        subscriber=subscriber,
        patient=person,
        billing_provider=replace(BILLING, name="Riverside*Family~Practice|", address=dirty),
        rendering_provider=RenderingProvider(
            npi=RENDERING_NPI, last_name="Núñez*", first_name="José~", taxonomy="207Q00000X"
        ),
    )


def test_mixed_file_is_valid_and_complete() -> None:
    claims = [
        professional_claim(),  # patient is the subscriber
        professional_claim("C0000000000000002", patient=DEPENDENT, relationship_to_subscriber="19"),
        twelve_dx_four_modifiers(),
        hostile_names(),
        professional_claim("C0000000000000003", facility=FACILITY, place_of_service="22"),
    ]
    text, summary = write(claims)
    assert_valid(text)

    assert summary.claim_count == 5
    assert summary.line_count == 10
    assert summary.total_charge_amount == sum((c.total_charge_amount for c in claims), Decimal("0"))
    assert summary.segment_count == len(segments(text))
    # A dependent gets a 2000C (HL 23) with PAT*19 and NM1*QC; the subscriber loop has no SBR02.
    assert find(text, "PAT") == [["PAT", "19"]]
    assert [s[1] for s in find(text, "SBR")].count("P") == len(find(text, "SBR"))
    assert sorted(s[2] for s in find(text, "SBR")) == ["", "18", "18"]
    # Two billing providers (the hostile claim has its own), three subscriber loops (self,
    # dependent, and the hostile claim's subscriber), one patient loop.
    assert [s[3] for s in find(text, "HL")] == ["20", "22", "22", "23", "20", "22"]
    # Twelve diagnoses in one HI, principal first; four modifiers and four pointers.
    hi = next(s for s in find(text, "HI") if len(s) == 13)
    assert hi[1] == "ABK:I10" and hi[12] == "ABF:G4700"
    assert ["SV1", "HC:99213:25:59:GT:95", "125", "UN", "1", "", "", "1:2:3:4"] in segments(text)
    # Service facility only where it differs from the billing provider.
    assert len(find(text, "NM1", "77")) == 1


def test_delimiters_in_data_never_reach_the_file() -> None:
    text, _ = write([hostile_names()])
    assert_valid(text)
    body = text.split("\n", 1)[1]  # after the ISA, which holds the delimiters themselves
    for seg in body.split("~\n")[:-1]:
        assert "~" not in seg and "^" not in seg and "|" not in seg and "\t" not in seg
        if not seg.startswith(("CLM", "SV1", "HI")):  # the only composites we write
            assert ":" not in seg, seg
    assert ["NM1", "IL", "1", "O'BRIENSMITH", "ZOEANN", "Q", "", "", "MI", "W123456"] in segments(
        text
    )
    assert ["N3", "12 MAINST#4", "APT 5"] in segments(text)
    assert ["N4", "SPRINGFIELD", "IL", "627011234"] in segments(text)
    assert ["NM1", "82", "1", "NUNEZ", "JOSE", "", "", "", "XX", RENDERING_NPI] in segments(text)


def test_101_claims_for_one_subscriber_open_a_second_subscriber_loop() -> None:
    claims = [professional_claim(f"C{n:016d}") for n in range(1, 102)]
    text, summary = write(claims)
    assert_valid(text)
    subscriber_loops = [s for s in find(text, "HL") if s[3] == "22"]
    assert len(subscriber_loops) == 2
    clm_positions = [i for i, s in enumerate(segments(text)) if s[0] == "CLM"]
    second_loop = segments(text).index(subscriber_loops[1])
    assert sum(1 for i in clm_positions if i < second_loop) == 100
    assert summary.claim_count == 101


def test_dependents_share_one_subscriber_loop_with_one_patient_loop_each() -> None:
    sibling = replace(DEPENDENT, first_name="Liam", birth_date=DEPENDENT.birth_date, person_id="P3")
    claims = [
        professional_claim("C0000000000000021", patient=DEPENDENT, relationship_to_subscriber="19"),
        professional_claim("C0000000000000022", patient=sibling, relationship_to_subscriber="19"),
        professional_claim("C0000000000000023", patient=DEPENDENT, relationship_to_subscriber="19"),
    ]
    text, _ = write(claims)
    assert_valid(text)
    levels = [(s[1], s[2], s[3], s[4]) for s in find(text, "HL")]
    assert levels == [
        ("1", "", "20", "1"),
        ("2", "1", "22", "1"),
        ("3", "2", "23", "0"),
        ("4", "2", "23", "0"),
    ]


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_replacement_and_void_carry_the_payer_claim_number(frequency: str) -> None:
    claim = professional_claim(frequency_code=frequency, payer_claim_control_number="PAYER*CCN:42")
    text, _ = write([claim])
    assert_valid(text)
    clm = find(text, "CLM")[0]
    assert clm[5] == f"11:B:{frequency}"
    assert find(text, "REF", "F8") == [["REF", "F8", "PAYERCCN42"]]


def test_several_transaction_sets_in_one_interchange() -> None:
    claims = [professional_claim(f"C{n:016d}") for n in range(1, 8)]
    text, summary = write(claims, per_st=3, first_st=41)
    assert_valid(text)
    assert summary.transaction_control_numbers == ("0041", "0042", "0043")
    assert [s[2] for s in find(text, "ST")] == ["0041", "0042", "0043"]
    assert find(text, "GE") == [["GE", "3", "77"]]
    assert find(text, "IEA") == [["IEA", "1", "000123456"]]
    # HL numbering restarts in each transaction set.
    assert [s[1] for s in find(text, "HL") if s[3] == "20"] == ["1", "1", "1"]


def test_envelope_is_fixed_width_with_our_delimiters() -> None:
    text, _ = write([professional_claim()])
    isa = text.split("\n", 1)[0]
    assert len(isa) == 106
    assert isa[3] == "*" and isa[82] == "^" and isa[104] == ":" and isa[105] == "~"
    fields = isa[:-1].split("*")
    assert fields[6] == "TESTSUB01".ljust(15) and fields[8] == "TESTRCV01".ljust(15)
    assert fields[13] == "000123456" and fields[15] == "T"
    assert all(seg.endswith("~") for seg in text.splitlines())
    assert find(text, "GS")[0][8] == "005010X222A1"
    assert find(text, "ST")[0][3] == "005010X222A1"


def test_production_usage_indicator_is_configurable() -> None:
    submitter = replace(SUBMITTER, usage_indicator="P")
    out = io.StringIO()
    write_837p(
        out,
        [professional_claim()],
        submitter=submitter,
        control=ControlNumbers(1, 1, range(1, 2)),
        now=NOW,
    )
    assert out.getvalue()[102] == "P"
    assert_valid(out.getvalue())
    with pytest.raises(ValueError, match="ISA15"):
        replace(SUBMITTER, usage_indicator="X")
    with pytest.raises(ValueError, match="isa_sender_id"):
        replace(SUBMITTER, interchange_sender_id="A" * 16)
    assert isinstance(submitter, SubmitterConfig)


def test_round_trip_through_the_reader() -> None:
    claims = [
        professional_claim(),
        professional_claim("C0000000000000002", patient=DEPENDENT, relationship_to_subscriber="19"),
        twelve_dx_four_modifiers(),
        professional_claim(
            "C0000000000000007", frequency_code="7", payer_claim_control_number="PCN77"
        ),
    ]
    text, _ = write(claims)
    assert_valid(text)
    read = {c.claim_id: c for c in read_837_claims(text, "round-trip.x12")}
    assert set(read) == {c.claim_id for c in claims}
    for claim in claims:
        back = read[claim.claim_id]
        assert back.total_charge == claim.total_charge_amount
        assert back.diagnoses == claim.diagnoses
        assert back.frequency_code == claim.frequency_code
        assert back.payer_claim_number == claim.payer_claim_control_number
        assert back.has_patient_loop == (not claim.is_patient_subscriber)
        assert [line.line_control_number for line in back.lines] == [
            line.claim_line_id for line in claim.lines
        ]
        assert [line.charge for line in back.lines] == [line.charge_amount for line in claim.lines]
        assert [line.modifiers for line in back.lines] == [line.modifiers for line in claim.lines]
        assert [line.diagnosis_pointers for line in back.lines] == [
            line.pointers for line in claim.lines
        ]


def test_rendering_provider_is_left_out_when_it_is_the_billing_provider() -> None:
    same = RenderingProvider(npi=BILLING.npi, last_name="Riverside")
    text, _ = write([professional_claim(rendering_provider=same)])
    assert_valid(text)
    assert find(text, "NM1", "82") == []


def test_claim_over_50_lines_is_refused() -> None:
    lines = tuple(line("C0000000000000051", n) for n in range(1, 52))
    with pytest.raises(ClaimLimitError, match=r"51 lines.*split it"):
        write([professional_claim("C0000000000000051", lines=lines)])
    fifty = tuple(line("C0000000000000050", n) for n in range(1, 51))
    text, _ = write([professional_claim("C0000000000000050", lines=fifty)])
    assert_valid(text)


def test_wrong_claim_type_and_missing_control_numbers_are_refused() -> None:
    with pytest.raises(ClaimTypeError, match="institutional"):
        write([institutional_claim()])
    with pytest.raises(ControlNumberError, match="more needed"):
        write_837p(
            io.StringIO(),
            [professional_claim(f"C{n:016d}") for n in range(1, 4)],
            submitter=SUBMITTER,
            control=ControlNumbers(1, 1, range(1, 2)),
            now=NOW,
            claims_per_transaction=2,
        )
    with pytest.raises(ControlNumberError):
        ControlNumbers(1_000_000_000, 1, range(1, 2))


def test_model_refuses_what_the_guide_or_reconciliation_cannot_take() -> None:
    with pytest.raises(ClaimDataError, match="payer claim control number"):
        professional_claim(frequency_code="7")
    with pytest.raises(ClaimDataError, match="diagnos"):
        professional_claim(diagnoses=tuple(f"A{n:02d}" for n in range(13)))
    with pytest.raises(ClaimDataError, match="without the dot"):
        professional_claim(diagnoses=("E11.9",))
    with pytest.raises(ClaimDataError, match="points at a diagnosis"):
        professional_claim(diagnoses=("I10",))  # the default lines point at diagnosis 2
    with pytest.raises(ValueError, match="more than 4 modifiers"):
        line("C1", 1, modifiers=("25", "59", "GT", "95", "76"))
    with pytest.raises(ClaimDataError, match="9 digits"):
        write(
            [
                professional_claim(
                    billing_provider=replace(BILLING, address=replace(BILLING.address, zip="62701"))
                )
            ]
        )


def test_text_cleaning_and_money_formatting() -> None:
    # Delimiters are removed (as the dbt macro x12_clean_text does), control characters and
    # anything outside the basic character set become spaces.
    assert clean_text(" a*b~c:d^e|f\x00g\r\nh<i ") == "ABCDEF G H I"
    assert clean_text(clean_text("Zoë:Ann^ O'Neil")) == "ZOEANN O'NEIL"
    assert clean_text("Ångström-Müller") == "ANGSTROM-MULLER"
    assert clean_text("x" * 70, 60) == "X" * 60
    assert clean_text(None) == ""
    assert format_amount(Decimal("125.00")) == "125"
    assert format_amount(Decimal("125.50")) == "125.5"
    assert format_amount(Decimal("125.25")) == "125.25"
    assert format_amount(Decimal("1E+3")) == "1000"
    assert format_amount(Decimal("0.00")) == "0"
    with pytest.raises(ValueError, match="fraction of a cent"):
        format_amount(Decimal("1.005"))
    assert SEGMENT_END == "~\n"


def test_secondary_claim_carries_the_primary_adjudication_and_balances() -> None:
    from tests.claims.support import secondary_of

    primary = professional_claim()
    claim = secondary_of(primary, "C0000000000000009")
    text, summary = write([claim])

    assert_valid(text)
    assert summary.total_charge_amount == primary.total_charge_amount
    assert [s[1] for s in find(text, "SBR")] == ["S", "P"]  # 2000B secondary, 2320 primary
    paid = Decimal(find(text, "AMT", "D")[0][2])
    liability = Decimal(find(text, "AMT", "EAF")[0][2])
    svd = find(text, "SVD")
    line_paid = [Decimal(s[2]) for s in svd]
    adjusted = [sum(Decimal(s[i]) for i in range(3, len(s), 3) if s[i]) for s in find(text, "CAS")]
    pr = [
        sum(Decimal(s[i]) for i in range(3, len(s), 3) if s[i])
        for s in find(text, "CAS")
        if s[1] == "PR"
    ]
    # The guide's COB balancing: claim charge = prior paid + every adjustment; paid = lines.
    assert paid + sum(adjusted) == primary.total_charge_amount
    assert sum(line_paid) == paid == Decimal("99")
    assert sum(pr) == liability == Decimal("24.75")
    assert [s[1] for s in svd] == ["87726", "87726"]
    assert find(text, "REF", "F8")[0][2] == "PCN0001"  # 2330B: the primary's claim number


def test_secondary_claim_that_does_not_balance_is_refused() -> None:
    from tests.claims.support import secondary_of

    claim = secondary_of(professional_claim(), "C0000000000000009")
    assert claim.other_payer is not None
    with pytest.raises(ClaimDataError, match="prior payer paid"):
        replace(
            claim,
            other_payer=replace(claim.other_payer, paid_amount=Decimal("98.99")),
        )
    with pytest.raises(ClaimDataError, match="needs the prior payer"):
        replace(claim, other_payer=None)

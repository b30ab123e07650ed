"""Coordination of benefits: secondary claims (SBR01 S) read with the COB loops and answered
by the simulated secondary payer.

The two handwritten claims below follow the segments the project's COB writer will emit
(2320 SBR/CAS/AMT*D/AMT*EAF/OI, 2330A NM1*IL, 2330B NM1*PR + REF*F8, 2430 SVD/CAS/DTP*573) in
the writers' layout (``~`` plus a newline, ``*``, ``:``, ``^``); pyx12 checks them first, so
the fixtures themselves are right. Expected amounts are worked out by hand in the comments.

PROVENANCE: every person, provider, payer and identifier here is invented; the NPIs are the
Luhn-valid ones of tests/sim/support.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from revcycle.sim import SimConfig, SimResult, answer_outbox
from revcycle.sim.adjudicate import OUTCOME_PAID, adjudicate
from revcycle.sim.config import DenialReason
from revcycle.sim.inbound import read_submission
from revcycle.sim.secondary import prior_payer, proportional_shares, secondary_bases
from revcycle.x12.read_837 import CasAdjustment, Claim837, read_837_claims, read_837_file
from revcycle.x12.reader import X12ReadError
from revcycle.x12.validate import format_report, validate_bytes, validate_file
from tests.sim.support import (
    FEE_SCHEDULES,
    TODAY,
    Clp,
    Outbox,
    generate_claims,
    imbalances,
    inbox_files,
    read_277ca,
    read_835,
    transactions,
)

D = Decimal
ZERO = D("0")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "x12"

# Every rate that would hide the secondary rules off; tests switch on what they need.
QUIET = SimConfig(
    rejected_interchange_rate=0,
    claim_reject_rate=0,
    claim_denial_rate=0,
    pended_claim_rate=0,
    duplicate_delivery_rate=0,
    secondary_coinsurance_rate=0,
)


# --------------------------------------------------------------------------------------------
# Handwritten secondary 837s


def interchange(guide: str, body: Sequence[str], control: int = 7) -> str:
    """``body`` (BHT to the last claim segment) in an ISA/GS/ST envelope, SE01 counted."""
    st = [f"ST*837*0001*{guide}", *body]
    segments = [
        "ISA*00*          *00*          *ZZ*SIMTESTSUB     *ZZ*SIMCLEARING    *261118*0915*^"
        f"*00501*{control:09d}*0*T*:",
        f"GS*HC*SIMTESTSUB*SIMCLEARING*20261118*0915*{control}*X*{guide}",
        *st,
        f"SE*{len(st) + 1}*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "".join(f"{s}~\n" for s in segments)


def _head(*, billing: str, npi: str, taxonomy: str, sbr: str, payer: str) -> list[str]:
    return [
        "BHT*0019*00*0000000070001*20261118*0915*CH",
        "NM1*41*2*SIM TEST BILLING*****46*SIMTESTSUB",
        "PER*IC*BILLING OFFICE*TE*5555550100",
        "NM1*40*2*SIMULATED CLEARINGHOUSE*****46*SIMCLEARING",
        "HL*1**20*1",
        f"PRV*BI*PXC*{taxonomy}",
        f"NM1*85*2*{billing}*****XX*{npi}",
        "N3*100 MAIN ST",
        "N4*SPRINGFIELD*IL*627011234",
        "REF*EI*123456789",
        "HL*2*1*22*0",
        sbr,
        "NM1*IL*1*SMITH*JOHN*Q***MI*W123456789",
        "N3*12 ELM ST",
        "N4*SPRINGFIELD*IL*62704",
        "DMG*D8*19500517*M",
        payer,
        "N3*PO BOX 15300",
        "N4*SACRAMENTO*CA*95851",
    ]


# 837P to Medicaid (secondary) after Medicare Part B (primary).
#   line 1: 125.00 = SVD 30.50 + CO-45 76.87 + PR-1 10.00 + PR-2 7.63   (line PR 17.63)
#   line 2:  12.50 = SVD  3.85 + CO-45  7.69 + PR-2 0.96                (line PR  0.96)
#   claim:  137.50 = AMT*D 29.35 + 2320 PR-1 5.00 + line CAS 103.15
#   AMT*EAF 23.59 = 5.00 + 17.63 + 0.96
# Claim-level PR 5.00 over the charges 125.00 / 12.50: 4.55 / 0.45, so the bases the
# secondary considers are 17.63 + 4.55 = 22.18 and 0.96 + 0.45 = 1.41 (OA-23 102.82, 11.09).
PROFESSIONAL_HEAD = _head(
    billing="RIVERSIDE FAMILY PRACTICE",
    npi="1234567893",
    taxonomy="207Q00000X",
    sbr="SBR*S*18*******MC",
    payer="NM1*PR*2*STATE MEDICAID*****PI*SKCA0",
)
PROFESSIONAL_CLAIM = [
    "CLM*C1*137.5***11:B:1*Y*A*Y*Y",
    "HI*ABK:I10*ABF:E119",
    "NM1*82*1*OKAFOR*ADA****XX*9876543213",
    "PRV*PE*PXC*207Q00000X",
    "SBR*P*18*GRP01******MB",
    "CAS*PR*1*5.00",
    "AMT*D*29.35",
    "AMT*EAF*23.59",
    "OI***Y***Y",
    "NM1*IL*1*SMITH*JOHN*Q***MI*1EG4TE5MK72",
    "NM1*PR*2*MEDICARE PART B*****PI*04412",
    "REF*F8*771234567890123",
    "LX*1",
    "SV1*HC:99213*125*UN*1***1:2",
    "DTP*472*D8*20261005",
    "REF*6R*C1L001",
    "SVD*04412*30.5*HC:99213**1",
    "CAS*CO*45*76.87",
    "CAS*PR*1*10*1*2*7.63",
    "DTP*573*D8*20261101",
    "LX*2",
    "SV1*HC:36415:59:LT*12.5*UN*1***2",
    "DTP*472*D8*20261005",
    "REF*6R*C1L002",
    "SVD*04412*3.85*HC:36415:59:LT**1",
    "CAS*CO*45*7.69",
    "CAS*PR*2*0.96",
    "DTP*573*D8*20261101",
]
PROFESSIONAL_BASES = [D("22.18"), D("1.41")]

# 837I to a commercial plan (secondary) after Medicare Part A (primary); line 2 has a revenue
# code only (SVD03 empty), lines 1 and 3 a HCPCS code and the revenue code in SVD04.
#   line 1: 850.00 = 200 + CO-45 600 + PR-2 50
#   line 2:  25.00 =  10 + CO-45 10 + PR-2 5
#   line 3: 226.50 = 115 + CO-45 46.50 + PR-2 65
#   claim: 1101.50 = AMT*D 225.00 + 2320 PR-1 100 + line CAS 776.50; AMT*EAF 220.00
# PR-1 100 over 850 / 25 / 226.50: 77.17 / 2.27 / 20.56; bases 127.17, 7.27, 85.56.
INSTITUTIONAL_HEAD = _head(
    billing="SPRINGFIELD GENERAL HOSPITAL",
    npi="3234567816",
    taxonomy="282N00000X",
    sbr="SBR*S*18*GRP01******CI",
    payer="NM1*PR*2*UNITY NATIONAL HEALTH*****PI*87726",
)
INSTITUTIONAL_CLAIM = [
    "CLM*H1*1101.5***13:A:1**A*Y*Y",
    "DTP*434*RD8*20261027-20261028",
    "CL1**1*01",
    "HI*ABK:I10",
    "HI*ABF:E119",
    "NM1*71*1*OKAFOR*ADA****XX*9876543213",
    "SBR*P*18*******MB",
    "CAS*PR*1*100",
    "AMT*D*225.00",
    "AMT*EAF*220.00",
    "OI***Y***Y",
    "NM1*IL*1*SMITH*JOHN*Q***MI*1EG4TE5MK72",
    "NM1*PR*2*MEDICARE PART A*****PI*04412",
    "REF*F8*771234567890124",
    "LX*1",
    "SV2*0450*HC:99284*850*UN*1",
    "DTP*472*D8*20261027",
    "REF*6R*H1L001",
    "SVD*04412*200*HC:99284*0450*1",
    "CAS*CO*45*600",
    "CAS*PR*2*50",
    "DTP*573*D8*20261101",
    "LX*2",
    "SV2*0300**25*UN*1",
    "DTP*472*D8*20261027",
    "REF*6R*H1L002",
    "SVD*04412*10**0300*1",
    "CAS*CO*45*10",
    "CAS*PR*2*5",
    "DTP*573*D8*20261101",
    "LX*3",
    "SV2*0636*HC:J1100*226.5*UN*2",
    "DTP*472*D8*20261028",
    "REF*6R*H1L003",
    "SVD*04412*115*HC:J1100*0636*2",
    "CAS*CO*45*46.5",
    "CAS*PR*2*65",
    "DTP*573*D8*20261101",
]
INSTITUTIONAL_BASES = [D("127.17"), D("7.27"), D("85.56")]


def without_cob(claim: Sequence[str]) -> list[str]:
    """The claim with its 2320/2330/2430 loops taken out (SBR01 stays S)."""
    cob = ("SBR", "CAS", "AMT", "OI", "SVD")
    kept = []
    for seg in claim:
        if seg.startswith(cob) or seg.startswith(("NM1*IL", "NM1*PR", "REF*F8", "DTP*573")):
            continue
        kept.append(seg)
    return kept


def with_claim_id(claim: Sequence[str], claim_id: str) -> list[str]:
    first, *rest = claim
    _, _old, tail = first.split("*", 2)
    return [f"CLM*{claim_id}*{tail}", *rest]


def tertiary_claim() -> list[str]:
    """The 837P claim sent on to a third payer after Medicaid paid the bases as secondary:
    a second 2320/2330 (SBR01 S) and a second 2430 per line (SVD01 SKCA0). Medicaid paid
    19.00 of 22.18 and 1.00 of 1.41, leaving PR-2 3.18 and 0.41: the tertiary's bases."""
    medicaid_2320 = [
        "SBR*S*18*******MC",
        "AMT*D*20",
        "AMT*EAF*3.59",
        "OI***Y***Y",
        "NM1*IL*1*SMITH*JOHN*Q***MI*W123456789",
        "NM1*PR*2*STATE MEDICAID*****PI*SKCA0",
    ]
    medicaid_2430 = {
        "C1L001": ["SVD*SKCA0*19*HC:99213**1", "CAS*OA*23*102.82", "CAS*PR*2*3.18"],
        "C1L002": ["SVD*SKCA0*1*HC:36415:59:LT**1", "CAS*OA*23*11.09", "CAS*PR*2*0.41"],
    }
    out: list[str] = []
    line_id = ""
    for seg in PROFESSIONAL_CLAIM:
        if seg.startswith("LX") and not line_id:
            out += medicaid_2320
        if seg.startswith("LX") and line_id:
            out += [*medicaid_2430[line_id], "DTP*573*D8*20261110"]
        if seg.startswith("REF*6R"):
            line_id = seg.split("*")[2]
        out.append(seg)
    return [*out, *medicaid_2430[line_id], "DTP*573*D8*20261110"]


TERTIARY_HEAD = [
    s.replace("SBR*S*18*******MC", "SBR*T*18*GRP01******CI").replace(
        "STATE MEDICAID*****PI*SKCA0", "UNITY NATIONAL HEALTH*****PI*87726"
    )
    for s in PROFESSIONAL_HEAD
]
PROFESSIONAL = interchange("005010X222A1", PROFESSIONAL_HEAD + PROFESSIONAL_CLAIM)
TERTIARY = interchange("005010X222A1", TERTIARY_HEAD + tertiary_claim(), 6)
INSTITUTIONAL = interchange("005010X223A2", INSTITUTIONAL_HEAD + INSTITUTIONAL_CLAIM, 8)
NO_COB = interchange(
    "005010X222A1",
    PROFESSIONAL_HEAD + with_claim_id(without_cob(PROFESSIONAL_CLAIM), "C2"),
    9,
)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("837P", PROFESSIONAL),
        ("837I", INSTITUTIONAL),
        ("837P without COB", NO_COB),
        ("837P tertiary", TERTIARY),
    ],
)
def test_the_handwritten_secondary_claims_pass_pyx12(name: str, text: str) -> None:
    report = validate_bytes(text, f"{name}.x12")
    assert report.is_valid, "\n".join(format_report(report))


# --------------------------------------------------------------------------------------------
# The reader


def read_one(text: str) -> Claim837:
    (claim,) = read_837_claims(text, "secondary.x12")
    return claim


def balances_like_the_guide(claim: Claim837) -> None:
    """The COB identities of the spec: line charge = SVD02 + line CAS; claim charge =
    AMT*D + claim CAS + every line CAS; AMT*EAF = every PR."""
    (other,) = claim.other_payers
    line_cas = ZERO
    line_pr = ZERO
    for line in claim.lines:
        (svd,) = line.line_adjudications
        cas = sum((a.amount for a in svd.adjustments), ZERO)
        assert line.charge == svd.paid + cas
        line_cas += cas
        line_pr += svd.patient_responsibility
    assert other.paid is not None
    claim_cas = sum((a.amount for a in other.adjustments), ZERO)
    assert claim.total_charge == other.paid + claim_cas + line_cas
    assert other.remaining_patient_liability == other.patient_responsibility + line_pr


def test_reader_returns_the_professional_cob_amounts_exactly() -> None:
    claim = read_one(PROFESSIONAL)
    assert (claim.claim_id, claim.payer_responsibility, claim.payer_id) == ("C1", "S", "SKCA0")
    assert claim.claim_filing_indicator == "MC"
    assert claim.payer_claim_number is None  # the 2330B REF*F8 is the primary's, not ours
    assert claim.subscriber_member_id == "W123456789"
    (other,) = claim.other_payers
    assert (other.payer_id, other.payer_name, other.responsibility) == (
        "04412",
        "MEDICARE PART B",
        "P",
    )
    assert (other.relationship_code, other.group_number, other.claim_filing_indicator) == (
        "18",
        "GRP01",
        "MB",
    )
    assert (other.paid, other.remaining_patient_liability) == (D("29.35"), D("23.59"))
    assert other.adjustments == (CasAdjustment("PR", "1", D("5.00"), None),)
    assert other.claim_control_number == "771234567890123"
    assert other.subscriber_member_id == "1EG4TE5MK72"
    first, second = (line.line_adjudications for line in claim.lines)
    (svd1,) = first
    assert (svd1.payer_id, svd1.paid, svd1.procedure_code, svd1.units) == (
        "04412",
        D("30.50"),
        "99213",
        D("1"),
    )
    assert svd1.adjustments == (
        ("CO", "45", D("76.87"), None),
        ("PR", "1", D("10"), D("1")),  # the quantity of a triplet comes back too
        ("PR", "2", D("7.63"), None),
    )
    assert svd1.adjudication_date == date(2026, 11, 1)
    assert svd1.patient_responsibility == D("17.63")
    (svd2,) = second
    assert (svd2.paid, svd2.revenue_code) == (D("3.85"), None)
    assert [(a.group, a.reason, a.amount) for a in svd2.adjustments] == [
        ("CO", "45", D("7.69")),
        ("PR", "2", D("0.96")),
    ]
    assert claim.has_cob_data
    balances_like_the_guide(claim)


def test_reader_returns_the_institutional_cob_amounts_exactly() -> None:
    claim = read_one(INSTITUTIONAL)
    assert (claim.kind, claim.payer_responsibility, claim.payer_id) == (
        "institutional",
        "S",
        "87726",
    )
    (other,) = claim.other_payers
    assert (other.payer_id, other.paid, other.remaining_patient_liability) == (
        "04412",
        D("225.00"),
        D("220.00"),
    )
    assert other.claim_control_number == "771234567890124"
    assert [
        (a.payer_id, a.paid, a.procedure_code, a.revenue_code, a.units)
        for line in claim.lines
        for a in line.line_adjudications
    ] == [
        ("04412", D("200"), "99284", "0450", D("1")),
        ("04412", D("10"), "", "0300", D("1")),  # revenue code only: SVD03 empty
        ("04412", D("115"), "J1100", "0636", D("2")),
    ]
    balances_like_the_guide(claim)


def test_reprs_keep_member_ids_and_names_out() -> None:
    claim = read_one(PROFESSIONAL)
    text = repr(claim)
    assert "04412" in text and "29.35" in text  # payer ids and amounts are fine
    for secret in ("1EG4TE5MK72", "W123456789", "SMITH", "JOHN"):
        assert secret not in text


def test_a_claim_without_cob_loops_reads_as_before() -> None:
    claim = read_one(NO_COB)
    assert claim.payer_responsibility == "S"
    assert claim.other_payers == ()
    assert all(line.line_adjudications == () for line in claim.lines)
    assert not claim.has_cob_data
    assert secondary_bases(claim) is None


def test_reader_keeps_the_2300_payer_claim_number_apart_from_the_2330b_one() -> None:
    body = [*PROFESSIONAL_CLAIM]
    body.insert(1, "REF*F8*ORIGINAL42")  # 2300 REF*F8, e.g. for a replacement (CLM05-3 7)
    claim = read_one(interchange("005010X222A1", PROFESSIONAL_HEAD + body))
    assert claim.payer_claim_number == "ORIGINAL42"
    assert claim.other_payers[0].claim_control_number == "771234567890123"


def test_reader_reads_a_public_cob_sample() -> None:
    """stupidedi's COB example: the primary adjudicated some lines and left claim-level
    PR-1/PR-2 (the CAS has an empty quantity between the two triplets)."""
    rel = "837p/stupidedi-COB-claim-from-billing-provider-to-payer-b.edi"
    (claim,) = read_837_file(FIXTURES / rel)
    (other,) = claim.other_payers
    assert (other.payer_id, other.responsibility, other.relationship_code) == (
        "999996666",
        "P",
        "01",
    )
    assert (other.paid, other.remaining_patient_liability) == (D("39.15"), D("36.89"))
    assert other.adjustments == (("PR", "1", D("21.89"), None), ("PR", "2", D("15"), None))
    assert [a.paid for line in claim.lines for a in line.line_adjudications] == [
        D("40"),
        D("15"),
        D("21.04"),
    ]
    assert claim.lines[0].line_adjudications[0].adjustments == (("CO", "42", D("3"), None),)
    # No line PR: the whole 36.89 comes from the claim level, shared by charge.
    bases = secondary_bases(claim)
    assert bases is not None and sum(bases) == D("36.89")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("SVD*04412*30.5*", "SVD*04412*3O.5*", "SVD02 is not a decimal amount"),
        ("CAS*PR*2*0.96", "CAS*PR*2*O.96", "CAS03 is not a decimal amount"),
        ("AMT*D*29.35", "AMT*D*29,35", "AMT02 is not a decimal amount"),
        ("DTP*573*D8*20261101", "DTP*573*D8*20261131", "DTP date is not a CCYYMMDD date"),
    ],
)
def test_unreadable_cob_amounts_name_the_file_and_segment(old: str, new: str, message: str) -> None:
    text = PROFESSIONAL.replace(old, new, 1)
    position = next(
        n for n, seg in enumerate(text.split("~\n"), start=1) if seg.startswith(new[:12])
    )
    with pytest.raises(X12ReadError, match=message) as info:
        read_837_claims(text, "secondary.x12")
    assert (info.value.file_name, info.value.position) == ("secondary.x12", position)


# --------------------------------------------------------------------------------------------
# What the secondary payer considers


def test_proportional_shares_add_up_to_the_cent() -> None:
    assert proportional_shares(D("5.00"), [D("125"), D("12.5")]) == [D("4.55"), D("0.45")]
    assert proportional_shares(D("0.01"), [D("1"), D("1"), D("1")]) == [
        D("0.00"),
        D("0.01"),
        D("0.00"),
    ]
    assert proportional_shares(D("10"), [ZERO, ZERO]) == [ZERO, ZERO]


def test_bases_are_what_the_primary_left_the_patient() -> None:
    professional = read_one(PROFESSIONAL)
    assert secondary_bases(professional) == PROFESSIONAL_BASES
    institutional = read_one(INSTITUTIONAL)
    assert secondary_bases(institutional) == INSTITUTIONAL_BASES
    for claim in (professional, institutional):
        other = prior_payer(claim)
        assert other is not None and other.responsibility == "P"
        assert sum(secondary_bases(claim) or []) == other.remaining_patient_liability


def test_a_tertiary_claim_follows_the_secondary_payer() -> None:
    claim = read_one(TERTIARY)
    assert claim.payer_responsibility == "T"
    assert [(o.payer_id, o.responsibility) for o in claim.other_payers] == [
        ("04412", "P"),
        ("SKCA0", "S"),
    ]
    assert [[a.payer_id for a in line.line_adjudications] for line in claim.lines] == [
        ["04412", "SKCA0"],
        ["04412", "SKCA0"],
    ]
    prior = prior_payer(claim)
    assert prior is not None and prior.payer_id == "SKCA0"
    assert secondary_bases(claim) == [D("3.18"), D("0.41")]


# --------------------------------------------------------------------------------------------
# The simulated secondary payer, end to end


@dataclass
class Answer:
    result: SimResult
    inbox: Path

    def clps(self) -> list[Clp]:
        return [c for path in self.result.files_835 for p in read_835(path) for c in p.claims]

    def segments_835(self) -> list[str]:
        return [
            seg.to_text()
            for path in self.result.files_835
            for segments in transactions(path)
            for seg in segments
        ]


def answer(tmp_path: Path, files: dict[str, str], config: SimConfig, seed: int = 3) -> Answer:
    outbox = tmp_path / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (outbox / name).write_text(text, encoding="ascii")
    inbox = tmp_path / "inbox"
    result = answer_outbox(outbox, inbox, FEE_SCHEDULES, seed=seed, today=TODAY, config=config)
    return Answer(result, inbox)


def assert_valid_and_balanced(run: Answer) -> None:
    assert run.result.files_835
    for path in run.result.files_835:
        report = validate_file(path)
        assert report.is_valid, "\n".join(format_report(report))
        for payment in read_835(path):
            assert imbalances(payment) == []


def line_cas(clp: Clp, group: str, reason: str) -> list[Decimal]:
    return [a for g, r, a in clp.line_cas if (g, r) == (group, reason)]


def test_medicaid_secondary_pays_the_whole_base(tmp_path: Path) -> None:
    run = answer(tmp_path, {"p.x12": PROFESSIONAL}, QUIET)
    assert_valid_and_balanced(run)
    (clp,) = run.clps()
    assert (clp.claim_id, clp.status) == ("C1", "2")
    assert (clp.charge, clp.paid, clp.patient_responsibility) == (D("137.50"), D("23.59"), ZERO)
    # OA-23 = charge - base on each line; what is paid is the base.
    assert line_cas(clp, "OA", "23") == [D("102.82"), D("11.09")]
    assert [paid for _charge, paid, _cas in clp.lines] == PROFESSIONAL_BASES
    assert clp.line_ids == ["C1L001", "C1L002"]
    assert run.result.claims_secondary == 1 and run.result.claims_paid == 1
    (ack,) = [a for path in run.result.files_277ca for a in read_277ca(path)]
    assert (ack.category, ack.payer_claim_number) == ("A1", clp.payer_claim_number)


@pytest.mark.parametrize("percent", [D("10"), D("20")])
def test_commercial_secondary_may_leave_coinsurance(tmp_path: Path, percent: Decimal) -> None:
    config = replace(
        QUIET, secondary_coinsurance_rate=1.0, secondary_coinsurance_percents=(percent,)
    )
    run = answer(tmp_path, {"i.x12": INSTITUTIONAL}, config)
    assert_valid_and_balanced(run)
    (clp,) = run.clps()
    assert (clp.claim_id, clp.status, clp.charge) == ("H1", "2", D("1101.50"))
    coinsurance = [(b * percent / 100).quantize(D("0.01")) for b in INSTITUTIONAL_BASES]
    assert line_cas(clp, "PR", "2") == coinsurance
    assert line_cas(clp, "OA", "23") == [D("722.83"), D("17.73"), D("140.94")]
    assert clp.patient_responsibility == sum(coinsurance)
    assert clp.paid == sum(INSTITUTIONAL_BASES) - sum(coinsurance)
    assert clp.paid <= sum(INSTITUTIONAL_BASES)
    for (_charge, paid, _cas), base in zip(clp.lines, INSTITUTIONAL_BASES, strict=True):
        assert paid <= base


def test_tertiary_payer_answers_clp02_3(tmp_path: Path) -> None:
    run = answer(tmp_path, {"t.x12": TERTIARY}, QUIET)
    assert_valid_and_balanced(run)
    (clp,) = run.clps()
    assert (clp.status, clp.paid, clp.patient_responsibility) == ("3", D("3.59"), ZERO)
    assert line_cas(clp, "OA", "23") == [D("121.82"), D("12.09")]


def test_secondary_without_cob_data_is_denied_co16_ma04(tmp_path: Path) -> None:
    run = answer(tmp_path, {"n.x12": NO_COB}, QUIET)
    assert_valid_and_balanced(run)
    (clp,) = run.clps()
    assert (clp.claim_id, clp.status, clp.paid) == ("C2", "4", ZERO)
    assert {(g, r) for g, r, _a in clp.line_cas + clp.claim_cas} == {("CO", "16")}
    assert sum(a for _g, _r, a in clp.line_cas) == clp.charge == D("137.50")
    remarks = [s for s in run.segments_835() if s.startswith("LQ*HE*")]
    assert remarks == ["LQ*HE*MA04~"] * 2  # one per service line
    assert run.result.claims_denied == 1


@pytest.mark.parametrize(
    "reason",
    [
        DenialReason("CO", "50", 1),  # line level
        DenialReason("PR", "96", 1, remarks=("N130",)),  # line level, the patient owes it
        DenialReason("CO", "29", 1, claim_level=True),
    ],
    ids=["CO-50", "PR-96", "CO-29-claim-level"],
)
def test_denied_secondary_denies_the_base_and_reports_the_rest_as_oa23(
    tmp_path: Path, reason: DenialReason
) -> None:
    config = replace(QUIET, claim_denial_rate=1.0, denial_reasons=(reason,))
    run = answer(tmp_path, {"p.x12": PROFESSIONAL}, config)
    assert_valid_and_balanced(run)
    (clp,) = run.clps()
    assert (clp.status, clp.paid) == ("4", ZERO)
    cas = clp.claim_cas if reason.claim_level else clp.line_cas
    denied = [a for g, r, a in cas if (g, r) == (reason.group, reason.reason)]
    prior = [a for g, r, a in cas if (g, r) == ("OA", "23")]
    if reason.claim_level:
        assert clp.lines == [] and denied == [sum(PROFESSIONAL_BASES)]
        assert prior == [D("137.50") - sum(PROFESSIONAL_BASES)]
    else:
        assert denied == PROFESSIONAL_BASES
        assert prior == [D("102.82"), D("11.09")]
    owed = sum(PROFESSIONAL_BASES) if reason.group == "PR" else ZERO
    assert clp.patient_responsibility == owed


def test_a_secondary_claim_is_not_a_duplicate_of_its_primary(tmp_path: Path) -> None:
    """The same CLM01 answered by the primary (Medicare) and then sent to the secondary
    (Medicaid): two adjudications, two payer claim numbers, no CO-18."""
    primary = interchange(
        "005010X222A1",
        [
            s.replace("SBR*S*18*******MC", "SBR*P*18*******MB").replace(
                "STATE MEDICAID*****PI*SKCA0", "MEDICARE PART B*****PI*04412"
            )
            for s in PROFESSIONAL_HEAD
        ]
        + without_cob(PROFESSIONAL_CLAIM),
        5,
    )
    first = answer(tmp_path, {"a_primary.x12": primary}, QUIET)
    (paid_by_primary,) = first.clps()
    assert paid_by_primary.status == "1"
    (tmp_path / "outbox" / "b_secondary.x12").write_text(PROFESSIONAL, encoding="ascii")
    second = answer_outbox(
        tmp_path / "outbox", first.inbox, FEE_SCHEDULES, seed=3, today=TODAY, config=QUIET
    )
    clps = [c for path in second.files_835 for p in read_835(path) for c in p.claims]
    (paid_by_secondary,) = clps
    assert (paid_by_secondary.claim_id, paid_by_secondary.status) == ("C1", "2")
    assert paid_by_secondary.payer_claim_number != paid_by_primary.payer_claim_number
    assert not [r for _g, r, _a in paid_by_secondary.claim_cas if r == "18"]
    # ... while the same secondary claim sent twice is a duplicate for the secondary payer.
    (tmp_path / "outbox" / "c_again.x12").write_text(PROFESSIONAL, encoding="ascii")
    third = answer_outbox(
        tmp_path / "outbox", first.inbox, FEE_SCHEDULES, seed=3, today=TODAY, config=QUIET
    )
    (again,) = [c for path in third.files_835 for p in read_835(path) for c in p.claims]
    assert again.status == "4"
    assert [(g, r) for g, r, _a in again.claim_cas] == [("CO", "18"), ("OA", "23")]


def test_secondary_answers_are_deterministic(tmp_path: Path) -> None:
    files = {"p.x12": PROFESSIONAL, "i.x12": INSTITUTIONAL, "n.x12": NO_COB}
    first = answer(tmp_path / "a", files, SimConfig())
    second = answer(tmp_path / "b", files, SimConfig())
    assert inbox_files(first.inbox) == inbox_files(second.inbox)


def test_adjudicate_sends_secondary_claims_to_the_secondary_rules() -> None:
    (interchange_,) = read_submission(PROFESSIONAL.encode(), "p.x12", today=TODAY)
    (claim,) = list(interchange_.claims)
    assert claim.is_secondary and claim.key == "C1|S"
    result = adjudicate(claim, D("10"), seed=1, config=QUIET, numbers=lambda key, n: f"N{n}{key}")
    assert result.outcome == OUTCOME_PAID
    (remit,) = result.final
    remit.check()
    assert remit.paid == sum(PROFESSIONAL_BASES)  # the fee schedule plays no part


# --------------------------------------------------------------------------------------------
# Many secondary claims: generated primary 837s turned into secondary ones


def _text(value: Decimal) -> str:
    return format(value, "f")


@dataclass
class _Subscriber:
    """What a 2000B said about the primary, for the 2320/2330 of its claims."""

    payer_id: str = ""
    payer_name: str = ""
    filing: str = ""
    relationship: str = ""
    group: str = ""


def _with_cob(claim: list[list[str]], primary: _Subscriber, index: int) -> list[list[str]]:
    """One claim's segments with a 2320/2330 before its first LX and a 2430 after each line.
    The primary's pretend adjudication: allowed 60 %, PR-2 20 % of it, the rest CO-45; every
    third claim also a claim-level PR-1 of up to 10.00."""
    first_lx = next(i for i, el in enumerate(claim) if el[0] == "LX")
    groups: list[list[list[str]]] = []
    for el in claim[first_lx:]:
        if el[0] == "LX":
            groups.append([])
        groups[-1].append(el)
    lines: list[list[str]] = []
    paid_total = coinsurance_total = ZERO
    for group in groups:
        sv = next(el for el in group if el[0] in ("SV1", "SV2"))
        charge = D(sv[2] if sv[0] == "SV1" else sv[3])
        allowed = (charge * D("0.6")).quantize(D("0.01"))
        coinsurance = (allowed * D("0.2")).quantize(D("0.01"))
        paid = allowed - coinsurance
        paid_total += paid
        coinsurance_total += coinsurance
        if sv[0] == "SV1":  # SVD*id*paid*HC:code:mods**units
            svd = ["SVD", primary.payer_id, _text(paid), sv[1], "", sv[4]]
        else:  # SVD*id*paid*HC:code*revenue*units
            svd = ["SVD", primary.payer_id, _text(paid), sv[2], sv[1], sv[5]]
        lines += group
        lines.append(svd)
        lines.append(["CAS", "CO", "45", _text(charge - allowed)])
        if coinsurance:
            lines.append(["CAS", "PR", "2", _text(coinsurance)])
        lines.append(["DTP", "573", "D8", "20261101"])
    claim_pr = min(D("10.00"), paid_total) if index % 3 == 0 else ZERO
    cob = [
        ["SBR", "P", primary.relationship, primary.group, "", "", "", "", "", primary.filing],
        *([["CAS", "PR", "1", _text(claim_pr)]] if claim_pr else []),
        ["AMT", "D", _text(paid_total - claim_pr)],
        ["AMT", "EAF", _text(claim_pr + coinsurance_total)],
        ["OI", "", "", "Y", "", "", "Y"],
        ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", f"PM{index:08d}"],
        ["NM1", "PR", "2", primary.payer_name, "", "", "", "", "PI", primary.payer_id],
        ["REF", "F8", f"PCN{index:012d}"],
    ]
    return claim[:first_lx] + cob + lines


def secondary_version(text: str, n: int) -> str:
    """A written primary 837 turned into the secondary claims the COB writer would send:
    2000B names the secondary payer (Medicaid for even ``n``, commercial for odd) and each
    claim carries the original payer's adjudication (:func:`_with_cob`)."""
    secondary = ("SKCA0", "STATE MEDICAID", "MC") if n % 2 == 0 else ("87726", "UNITY", "CI")
    out: list[list[str]] = []
    primary = _Subscriber()
    claim: list[list[str]] | None = None
    count = 0

    def close() -> None:
        nonlocal claim, count
        if claim is not None:
            out.extend(_with_cob(claim, primary, count))
            count += 1
        claim = None

    for seg in text.split("~\n"):
        if not seg:
            continue
        el = seg.split("*")
        if el[0] in ("HL", "CLM", "SE"):
            close()
        if el[0] == "CLM":
            claim = [el]
        elif claim is not None:
            claim.append(el)
        else:
            if el[0] == "SBR":  # 2000B: the primary becomes the other payer
                primary = _Subscriber(
                    filing=el[9], relationship="18" if el[2] == "18" else "19", group=el[3]
                )
                el[1], el[9] = "S", secondary[2]
            elif el[0] == "NM1" and el[1] == "PR":
                primary.payer_id, primary.payer_name = el[9], el[3]
                el[3], el[9] = secondary[1], secondary[0]
            out.append(el)
    start = 0
    for index, el in enumerate(out):  # SE01 counts ST to SE
        if el[0] == "ST":
            start = index
        elif el[0] == "SE":
            el[1] = str(index - start + 1)
    return "".join("*".join(el) + "~\n" for el in out)


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimResult, dict[str, Claim837]]:
    """60 generated claims sent to a secondary payer, under every event the simulation has
    (the secondary rules must keep reversals, splits and takebacks off these claims)."""
    tmp = tmp_path_factory.mktemp("many")
    primaries = Outbox(tmp / "primary")
    secondary_outbox = tmp / "outbox"
    secondary_outbox.mkdir()
    for n, path in enumerate(primaries.write_by_payer(generate_claims(60, seed=17))):
        (secondary_outbox / path.name).write_text(
            secondary_version(path.read_text(), n), encoding="ascii"
        )
    busy = SimConfig(
        rejected_interchange_rate=0,
        claim_reject_rate=0,
        claim_denial_rate=0.25,
        reversal_rate=0.5,
        split_claim_rate=0.5,
        takeback_rate=0.5,
        pended_claim_rate=0.3,
        interest_rate=1.0,
        secondary_coinsurance_rate=0.5,
    )
    result = answer_outbox(
        secondary_outbox, tmp / "inbox", FEE_SCHEDULES, seed=23, today=TODAY, config=busy
    )
    sent = {
        c.claim_id: c
        for path in sorted(secondary_outbox.glob("*.x12"))
        for c in read_837_file(path)
    }
    return secondary_outbox, result, sent


def test_generated_secondary_837s_pass_pyx12(
    many: tuple[Path, SimResult, dict[str, Claim837]],
) -> None:
    outbox, _result, sent = many
    assert len(sent) == 60 and all(c.payer_responsibility == "S" for c in sent.values())
    for path in sorted(outbox.glob("*.x12")):
        report = validate_file(path)
        assert report.is_valid, "\n".join(format_report(report))


def test_many_secondary_claims_balance_and_validate(
    many: tuple[Path, SimResult, dict[str, Claim837]],
) -> None:
    _outbox, result, sent = many
    assert result.claims_secondary == result.claims_accepted == 60
    clps = [c for path in result.files_835 for p in read_835(path) for c in p.claims]
    assert sorted(c.claim_id for c in clps) == sorted(sent)  # one CLP each: no split
    assert {c.status for c in clps} == {"2", "4"}  # no reversal (22)
    plbs = {plb.reason for path in result.files_835 for p in read_835(path) for plb in p.plbs}
    assert "WO" not in plbs and "L6" in plbs  # no takeback; pended claims earn interest
    parse_835 = pytest.importorskip("revcycle.remits.parse_835")
    for path in result.files_835:
        report = validate_file(path)
        assert report.is_valid, "\n".join(format_report(report))
        for payment in read_835(path):
            assert imbalances(payment) == []
        tables = parse_835.parse_835_file(path)  # the project's own 835 parser agrees
        assert [c for c in tables.balance_checks if not c.is_balanced] == []
    for clp in clps:
        (other,) = sent[clp.claim_id].other_payers
        base = other.remaining_patient_liability
        assert base is not None
        prior = sum(a for g, r, a in clp.claim_cas + clp.line_cas if (g, r) == ("OA", "23"))
        assert prior == clp.charge - base
        if clp.status == "2":
            assert clp.paid + clp.patient_responsibility == base
            assert clp.patient_responsibility <= (base * D("0.2")).quantize(D("0.01"))
        else:
            assert clp.paid == 0
            denied = sum(a for g, r, a in clp.claim_cas + clp.line_cas if (g, r) != ("OA", "23"))
            assert denied == base

"""What the simulated clearinghouse reads from an 837 file: envelopes, claims and the parties
its answers name.

Claims come from the project's reader (:func:`revcycle.x12.read_837.claims_from_transaction`);
this module adds what that reader leaves out on purpose and the answers need: the envelope
(control numbers and ids, for the 999 and for addressing replies), BHT03 (the batch number the
277CA echoes), the submitter (1000A), the billing provider (2010AA: name, NPI, address, TIN:
the 835 payee), the payer's name and address (2010BB: the 835 payer block) and the patient
and subscriber names (2010BA/2010CA: the 835 and 277CA NM1*QC/NM1*IL loops). Names are kept
out of every ``repr`` and never logged.

A transaction whose claims cannot be read (an amount that is not a number ...) is kept with
its :class:`ReadProblem` so the 999 can reject it, as a clearinghouse would; a file that is
not X12 at all raises :class:`~revcycle.x12.reader.X12ReadError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from revcycle.x12.read_837 import Claim837, claims_from_transaction
from revcycle.x12.reader import (
    FunctionalGroup,
    Interchange,
    Segment,
    Transaction,
    X12ReadError,
    iter_transactions,
)

SECONDARY_RESPONSIBILITIES = frozenset({"S", "T"})
"""SBR01 payer responsibility codes the simulation adjudicates as a secondary payer."""


@dataclass(frozen=True)
class PersonName:
    """A patient's or subscriber's name as the 837 spells it (PHI: no repr)."""

    last: str = field(repr=False)
    first: str = field(repr=False)
    middle: str = field(repr=False)


@dataclass(frozen=True)
class PostalAddress:
    line1: str
    line2: str
    city: str
    state: str
    zip: str


@dataclass(frozen=True)
class Provider:
    """The billing provider (2010AA), paid as the 835 payee."""

    npi: str
    name: str
    tin: str
    address: PostalAddress | None


@dataclass(frozen=True)
class PayerParty:
    """The payer as the 837 names it (2010BB)."""

    payer_id: str
    name: str
    address: PostalAddress | None


@dataclass(frozen=True)
class SubmittedClaim:
    """One 837 claim with everything the answers need."""

    claim: Claim837
    billing: Provider
    payer: PayerParty
    patient: PersonName
    subscriber: PersonName
    file_name: str
    interchange_control_number: str  # ISA13 of the 837
    received: date  # GS04 of the 837 (the day the clearinghouse got it)

    @property
    def claim_id(self) -> str:
        return self.claim.claim_id

    @property
    def patient_is_subscriber(self) -> bool:
        return not self.claim.has_patient_loop

    @property
    def is_secondary(self) -> bool:
        """Sent to a secondary or tertiary payer (2000B SBR01 ``S`` or ``T``): adjudicated
        after the other payers of its 2320/2430 loops (coordination of benefits)."""
        return self.claim.payer_responsibility in SECONDARY_RESPONSIBILITIES

    @property
    def key(self) -> str:
        """What adjudication draws are keyed by: the claim id, plus the frequency and the
        original claim number for a replacement or void (so a corrected claim with the same
        id is adjudicated afresh), plus the payer rank (SBR01) for a secondary or tertiary
        claim (which usually carries the primary claim's id: its draws and payer claim
        number must not be the primary's)."""
        claim = self.claim
        if claim.frequency_code in ("", "1"):
            key = claim.claim_id
        else:
            key = f"{claim.claim_id}|{claim.frequency_code}|{claim.payer_claim_number or ''}"
        if self.is_secondary:
            key = f"{key}|{claim.payer_responsibility}"
        return key


@dataclass(frozen=True)
class ReadProblem:
    """Why a transaction's claims could not be read: the 999 reports it (IK3)."""

    segment_id: str
    position_in_transaction: int


@dataclass(frozen=True)
class LinePosition:
    """Where a service line (SV1/SV2) sits in its transaction, and its procedure code."""

    segment_id: str
    position_in_transaction: int
    procedure_code: str
    claim_id: str


@dataclass(frozen=True)
class SubmittedTransaction:
    set_id: str  # ST01
    control_number: str  # ST02
    guide: str  # ST03, else GS08
    batch_reference: str  # BHT03
    submitter_name: str  # 1000A NM103
    submitter_id: str  # 1000A NM109
    claims: tuple[SubmittedClaim, ...]
    clm_positions: tuple[int, ...]  # position of each claim's CLM inside the transaction
    service_lines: tuple[LinePosition, ...] = ()  # every SV1/SV2, for the 999's IK3
    problem: ReadProblem | None = None


@dataclass(frozen=True)
class SubmittedGroup:
    functional_id: str  # GS01
    control_number: str  # GS06
    version: str  # GS08
    sender_code: str  # GS02
    receiver_code: str  # GS03
    transactions: tuple[SubmittedTransaction, ...]


@dataclass(frozen=True)
class SubmittedInterchange:
    file_name: str
    control_number: str  # ISA13
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    usage_indicator: str
    groups: tuple[SubmittedGroup, ...]

    @property
    def claims(self) -> Iterator[SubmittedClaim]:
        for group in self.groups:
            for transaction in group.transactions:
                yield from transaction.claims


def _ccyymmdd(value: str) -> date | None:
    value = value.strip()
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


# Segment ids the party walk looks at inside a claim (most segments of a file are there).
_CLAIM_PARTY_IDS = frozenset({"HL", "CLM", "SV1", "SV2", "NM1"})


@dataclass
class _Parties:
    """Walks a transaction's segments and records the parties in force at each CLM."""

    submitter_name: str = ""
    submitter_id: str = ""
    billing: Provider | None = None
    payer: PayerParty | None = None
    subscriber: PersonName = field(default_factory=lambda: PersonName("", "", ""))
    patient: PersonName | None = None
    service_lines: list[LinePosition] = field(default_factory=list)
    at_claim: dict[int, tuple[Provider, PayerParty, PersonName, PersonName]] = field(
        default_factory=dict
    )

    def walk(self, transaction: Transaction) -> None:
        start = transaction.position
        entity = ""  # the NM1 whose N3/N4/REF follow
        in_claim = False
        address: list[str] = []  # line1, line2 of the current entity
        claim_id = ""
        for seg in transaction.segments:
            sid = seg.id
            if in_claim and sid not in _CLAIM_PARTY_IDS:
                # Inside a claim only its service lines, the next HL or CLM and NM1 (a
                # submitter or billing provider would still count) matter: N3/N4/REF there
                # follow the claim's own parties (2310/2330/2420), never ours.
                continue
            if sid == "NM1":
                entity = seg.get(1).strip()
                if entity == "41":
                    self.submitter_name = seg.get(3).strip()
                    self.submitter_id = seg.get(9).strip()
                elif entity == "85":
                    self.billing = Provider(seg.get(9).strip(), seg.get(3).strip(), "", None)
                elif entity == "IL" and not in_claim:
                    self.subscriber = _name(seg)
                    self.patient = None
                elif entity == "QC" and not in_claim:
                    self.patient = _name(seg)
                elif entity == "PR" and not in_claim:
                    self.payer = PayerParty(seg.get(9).strip(), seg.get(3).strip(), None)
                if in_claim:
                    entity = ""  # 2310/2330/2420 parties: not ours to read
            elif sid == "HL":
                in_claim = False
                entity = ""
            elif sid == "CLM":
                in_claim = True
                entity = ""
                claim_id = seg.get(1).strip()
                self._record(seg.position)
            elif sid in ("SV1", "SV2") and in_claim:
                code = seg.component(1, 2) if sid == "SV1" else seg.component(2, 2)
                self.service_lines.append(
                    LinePosition(sid, seg.position - start + 1, code, claim_id)
                )
            elif sid == "N3" and entity in ("85", "PR"):
                address = [seg.get(1).strip(), seg.get(2).strip()]
            elif sid == "N4" and entity in ("85", "PR") and address:
                found = PostalAddress(
                    address[0],
                    address[1],
                    seg.get(1).strip(),
                    seg.get(2).strip(),
                    seg.get(3).strip(),
                )
                if entity == "85" and self.billing is not None:
                    self.billing = Provider(
                        self.billing.npi, self.billing.name, self.billing.tin, found
                    )
                elif entity == "PR" and self.payer is not None:
                    self.payer = PayerParty(self.payer.payer_id, self.payer.name, found)
                address = []
            elif (
                sid == "REF"
                and entity == "85"
                and seg.get(1).strip() == "EI"
                and self.billing is not None
            ):
                self.billing = Provider(
                    self.billing.npi,
                    self.billing.name,
                    seg.get(2).strip(),
                    self.billing.address,
                )

    def _record(self, position: int) -> None:
        billing = self.billing or Provider("", "", "", None)
        payer = self.payer or PayerParty("", "", None)
        patient = self.patient if self.patient is not None else self.subscriber
        self.at_claim[position] = (billing, payer, patient, self.subscriber)


def _name(seg: Segment) -> PersonName:
    return PersonName(seg.get(3).strip(), seg.get(4).strip(), seg.get(5).strip())


def _transaction(
    transaction: Transaction,
    group: FunctionalGroup,
    file_name: str,
    interchange_control_number: str,
    received: date,
) -> SubmittedTransaction:
    start = transaction.position
    guide = transaction.implementation_guide
    bht = next(transaction.find("BHT"), None)
    batch = bht.get(3).strip() if bht is not None else ""
    parties = _Parties()
    parties.walk(transaction)
    problem: ReadProblem | None = None
    claims: list[SubmittedClaim] = []
    positions: list[int] = []
    if transaction.transaction_set_id == "837":
        try:
            found = claims_from_transaction(transaction, file_name)
        except X12ReadError as exc:
            found = []
            where = (exc.position or start) - start + 1
            seg_id = next((s.id for s in transaction.segments if s.position == exc.position), "ST")
            problem = ReadProblem(seg_id, max(1, where))
        for claim in found:
            billing, payer, patient, subscriber = parties.at_claim[claim.position]
            claims.append(
                SubmittedClaim(
                    claim=claim,
                    billing=billing,
                    payer=payer,
                    patient=patient,
                    subscriber=subscriber,
                    file_name=file_name,
                    interchange_control_number=interchange_control_number,
                    received=received,
                )
            )
            positions.append(claim.position - start + 1)
    return SubmittedTransaction(
        set_id=transaction.transaction_set_id,
        control_number=transaction.control_number,
        guide=guide or group.version,
        batch_reference=batch,
        submitter_name=parties.submitter_name,
        submitter_id=parties.submitter_id,
        claims=tuple(claims),
        clm_positions=tuple(positions),
        service_lines=tuple(parties.service_lines),
        problem=problem,
    )


def read_submission(data: bytes, file_name: str, *, today: date) -> list[SubmittedInterchange]:
    """Every interchange of an 837 file, with its claims. ``today`` stands in for a missing
    or unreadable GS04 (the day the file was received)."""
    interchanges: list[SubmittedInterchange] = []
    current: Interchange | None = None
    groups: list[SubmittedGroup] = []
    current_group: FunctionalGroup | None = None
    transactions: list[SubmittedTransaction] = []

    def close_group() -> None:
        nonlocal current_group, transactions
        if current_group is not None:
            groups.append(
                SubmittedGroup(
                    functional_id=current_group.functional_id,
                    control_number=current_group.control_number,
                    version=current_group.version,
                    sender_code=current_group.sender_code,
                    receiver_code=current_group.receiver_code,
                    transactions=tuple(transactions),
                )
            )
        current_group, transactions = None, []

    def close_interchange() -> None:
        nonlocal current, groups
        close_group()
        if current is not None:
            interchanges.append(
                SubmittedInterchange(
                    file_name=file_name,
                    control_number=current.control_number,
                    sender_qualifier=current.sender_qualifier or "ZZ",
                    sender_id=current.sender_id,
                    receiver_qualifier=current.receiver_qualifier or "ZZ",
                    receiver_id=current.receiver_id,
                    usage_indicator=current.usage_indicator or "T",
                    groups=tuple(groups),
                )
            )
        current, groups = None, []

    for interchange, group, transaction in iter_transactions(data, file_name):
        if interchange is not current:
            close_interchange()
            current = interchange
        if group is not current_group:
            close_group()
            current_group = group
        received = _ccyymmdd(group.date) or today
        transactions.append(
            _transaction(transaction, group, file_name, interchange.control_number, received)
        )
    close_interchange()
    return interchanges

"""Synthea CSV exports to the native extract format (``docs/extract-format.md``, "Synthea exports").

Synthea (synthetichealth/synthea) writes a simulated population's whole medical history as CSV
files. :func:`convert_synthea` maps one export folder to the seven files of our extract
contract (``schema.py``), so the loader, dbt, the scrubber and the 837 writers run on it
unchanged. What Synthea lacks for billing is derived, stably, and documented: X12 payer ids,
NPIs, tax ids, ZIP+4, member ids (older exports), CPT/HCPCS and ICD-10-CM codes (through the
crosswalk ``synthea_crosswalk.csv`` and the encounter-class rules below).

Nothing is lost silently. Every data row of every Synthea file we read either goes into the
extract (``rows_mapped``) or is written to ``<out>/conversion/rejects.csv`` with a reason
(``rejected``); ``rows_in == rows_mapped + rejected`` per file, and a test holds us to it. The
rejects file sits in a sub-folder because the loader reads every file of the extract folder
(and skips folders). ``claims.csv`` and ``claims_transactions.csv`` are read only to
cross-check the charge totals (:class:`ChargeCrossCheck`).

Columns are read by header name, and the known variants of Synthea versions are accepted:
``payer_transitions.csv`` with ``START_YEAR``/``END_YEAR`` (plain years in 2.x, timestamps in
3.0) or ``START_DATE``/``END_DATE`` (3.1+), with or without ``MEMBERID`` and
``SECONDARY_PAYER``; ``procedures.csv`` with ``START`` or (old) ``DATE``; optional ``SYSTEM``,
``MIDDLE``, ``OWNERSHIP`` and ``NPI`` columns.

Money is ``Decimal`` throughout; every output row is sorted so that the same export, as-of
date and window give byte-identical files.
"""

from __future__ import annotations

import csv
import hashlib
import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from revcycle.codesets import (
    ChargemasterItem,
    load_chargemaster,
    load_icd10cm_codes,
    load_procedure_codes,
)
from revcycle.extracts import schema
from revcycle.extracts.npi import is_valid_npi, luhn_check_digit

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "REJECTS_FOLDER",
    "ChargeCrossCheck",
    "ConversionSummary",
    "Crosswalk",
    "SyntheaFormatError",
    "convert_synthea",
    "load_crosswalk",
]

CROSSWALK_PATH = Path(__file__).with_name("synthea_crosswalk.csv")
DEFAULT_LOOKBACK_DAYS = 365
REJECTS_FOLDER = "conversion"
REJECTS_FILE = "rejects.csv"
SUMMARY_FILE = "summary.txt"
REJECT_COLUMNS = ("source_file", "source_row", "source_key", "reason", "detail")

SELF_PAY_PAYER_ID = "SELFPAY"
NO_INSURANCE = "NO_INSURANCE"
CENT = Decimal("0.01")
NEW_PATIENT_YEARS = 3  # CPT: no visit with the same group in three years -> new patient
MAX_DIAGNOSES = 12

# --------------------------------------------------------------------------------------------
# The Synthea files we read and the columns we need (alternatives: any one of them).

PATIENTS = "patients.csv"
PAYERS = "payers.csv"
TRANSITIONS = "payer_transitions.csv"
ORGANIZATIONS = "organizations.csv"
CLINICIANS = "providers.csv"
ENCOUNTERS = "encounters.csv"
PROCEDURES = "procedures.csv"
CONDITIONS = "conditions.csv"
CLAIMS = "claims.csv"
CLAIM_TRANSACTIONS = "claims_transactions.csv"

_REQUIRED_COLUMNS: dict[str, tuple[tuple[str, ...], ...]] = {
    PATIENTS: (
        ("Id",),
        ("BIRTHDATE",),
        ("FIRST",),
        ("LAST",),
        ("GENDER",),
        ("ADDRESS",),
        ("CITY",),
        ("STATE",),
        ("ZIP",),
    ),
    PAYERS: (("Id",), ("NAME",)),
    TRANSITIONS: (
        ("PATIENT",),
        ("PAYER",),
        ("START_DATE", "START_YEAR"),
        ("END_DATE", "END_YEAR"),
    ),
    ORGANIZATIONS: (("Id",), ("NAME",), ("ADDRESS",), ("CITY",), ("STATE",), ("ZIP",)),
    CLINICIANS: (
        ("Id",),
        ("ORGANIZATION",),
        ("NAME",),
        ("ADDRESS",),
        ("CITY",),
        ("STATE",),
        ("ZIP",),
    ),
    ENCOUNTERS: (
        ("Id",),
        ("START",),
        ("PATIENT",),
        ("ORGANIZATION",),
        ("PROVIDER",),
        ("PAYER",),
        ("ENCOUNTERCLASS",),
        ("CODE",),
        ("BASE_ENCOUNTER_COST",),
    ),
    PROCEDURES: (("START", "DATE"), ("PATIENT",), ("ENCOUNTER",), ("CODE",), ("BASE_COST",)),
    CONDITIONS: (("START",), ("PATIENT",), ("ENCOUNTER",), ("CODE",)),
    CLAIMS: (("Id",), ("APPOINTMENTID",)),
    CLAIM_TRANSACTIONS: (("CLAIMID",), ("TYPE",), ("AMOUNT",), ("PROCEDURECODE",)),
}
REQUIRED_FILES = (
    PATIENTS,
    PAYERS,
    TRANSITIONS,
    ORGANIZATIONS,
    CLINICIANS,
    ENCOUNTERS,
    PROCEDURES,
    CONDITIONS,
)
CROSS_CHECK_FILES = (CLAIMS, CLAIM_TRANSACTIONS)

# --------------------------------------------------------------------------------------------
# Billing rules for Synthea's encounter classes.


@dataclass(frozen=True)
class _ClassRule:
    visit_type: str  # for the office class, "office_new" / "office_established" by history
    claim_type: str
    place_of_service: str
    type_of_bill: str
    with_facility: bool  # facility_provider_id = the organisation's facility row
    visit: str  # which visit line: office, preventive, telehealth, emergency, hospital_clinic


CLASS_RULES: dict[str, _ClassRule] = {
    "ambulatory": _ClassRule("office", "professional", "11", "", False, "office"),
    "wellness": _ClassRule("preventive", "professional", "11", "", False, "preventive"),
    "urgentcare": _ClassRule("urgent_care", "professional", "20", "", False, "office"),
    "virtual": _ClassRule("telehealth", "professional", "10", "", False, "telehealth"),
    "emergency": _ClassRule("emergency", "professional", "23", "", True, "emergency"),
    "outpatient": _ClassRule(
        "hospital_outpatient", "institutional", "22", "0131", True, "hospital_clinic"
    ),
}
# Inpatient, skilled nursing, hospice and home health claims need 837I data we do not have
# (admission, discharge status, DRG, 011x/021x/081x/032x bills): counted and left out.
NOT_BILLED_CLASSES = frozenset({"inpatient", "snf", "hospice", "home"})

# Encounter codes (SNOMED) that are not a separately billable visit: the procedures are the bill.
PROCEDURE_ONLY_ENCOUNTERS = frozenset(
    {
        "371883000",  # outpatient procedure
        "308335008",  # patient encounter procedure
        "439740005",  # postoperative follow-up visit (inside the surgical global period)
    }
)

OFFICE_NEW, OFFICE_ESTABLISHED = "99203", "99213"  # level 3: Synthea carries no complexity
EMERGENCY_VISIT = "99284"
HOSPITAL_CLINIC_VISIT = "G0463"
AWV_FIRST, AWV_SUBSEQUENT = "G0438", "G0439"
TELEHEALTH_MODIFIER = "95"
SEPARATE_EM_MODIFIER = "25"
# Procedures that make a same-day E/M take modifier 25 (NCCI pairs them with E/M services),
# besides the surgical range 10004-69990.
_TRIGGER_25 = frozenset({"96372", "96374", "96360", "96365", "94640", "20610"})
# Preventive visit codes by age band (lower bound in years): new patient, established.
_PREVENTIVE_BANDS: tuple[tuple[int, str, str], ...] = (
    (65, "99387", "99397"),
    (40, "99386", "99396"),
    (18, "99385", "99395"),
    (12, "99384", "99394"),
    (5, "99383", "99393"),
    (1, "99382", "99392"),
    (0, "99381", "99391"),
)
WELL_ADULT_DX, WELL_CHILD_DX = "Z00.00", "Z00.129"

# --------------------------------------------------------------------------------------------
# Payers: type and X12 claim filing indicator from the name, documented defaults per type.


@dataclass(frozen=True)
class _PayerDefaults:
    claim_filing_indicator: str
    timely_filing_days: int
    fee_schedule_id: str
    allowed_percent_of_charge: str


PAYER_DEFAULTS: dict[str, _PayerDefaults] = {
    "medicare": _PayerDefaults("MB", 365, "SYN-MCR", "38.50"),
    "medicaid": _PayerDefaults("MC", 365, "SYN-MCD", "31.00"),
    "commercial": _PayerDefaults("CI", 180, "SYN-COM", "60.00"),
    "self_pay": _PayerDefaults("09", 3650, "SELF", "100.00"),
}

# Clinician specialities (Synthea's SPECIALITY) to NUCC taxonomy codes; others: general practice.
DEFAULT_TAXONOMY = "208D00000X"
SPECIALITY_TAXONOMY: dict[str, str] = {
    "GENERAL PRACTICE": "208D00000X",
    "FAMILY PRACTICE": "207Q00000X",
    "FAMILY MEDICINE": "207Q00000X",
    "INTERNAL MEDICINE": "207R00000X",
    "PEDIATRIC MEDICINE": "208000000X",
    "PEDIATRICS": "208000000X",
    "EMERGENCY MEDICINE": "207P00000X",
    "OBSTETRICS/GYNECOLOGY": "207V00000X",
    "CARDIOVASCULAR DISEASE (CARDIOLOGY)": "207RC0000X",
    "CARDIOLOGY": "207RC0000X",
    "NURSE PRACTITIONER": "363L00000X",
    "PHYSICIAN ASSISTANT": "363A00000X",
    "GENERAL SURGERY": "208600000X",
    "ORTHOPEDIC SURGERY": "207X00000X",
    "DERMATOLOGY": "207N00000X",
    "NEUROLOGY": "2084N0400X",
    "PSYCHIATRY": "2084P0800X",
    "OPHTHALMOLOGY": "207W00000X",
}
TAXONOMY_HOSPITAL = "282N00000X"
TAXONOMY_URGENT_CARE = "261QU0200X"
TAXONOMY_CLINIC = "261QP2300X"
# Federal EIN prefixes (IRS campus codes) for the derived tax ids.
_TIN_PREFIXES = ("20", "26", "27", "45", "46", "47", "81", "82", "83", "84", "86", "88", "91")

US_STATES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK",
    "OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT",
    "VIRGINIA": "VA", "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI",
    "WYOMING": "WY", "PUERTO RICO": "PR", "GUAM": "GU", "VIRGIN ISLANDS": "VI",
}  # fmt: skip
_STATE_CODES = frozenset(US_STATES.values())

_X12_DELIMITERS = re.compile(r"[*~:^|]")
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ].*)?")
_YEAR = re.compile(r"[0-9]{4}")
_UNIT = re.compile(r"^(?P<street>.+?)\s+(?P<unit>(?:apt|unit|suite|ste)\.?\s*\S+)$", re.IGNORECASE)
_NAME_PREFIXES = frozenset({"DR", "DR.", "MR", "MR.", "MRS", "MRS.", "MS", "MS."})
_SNOMED_SYSTEMS = frozenset({"", "SNOMED", "SNOMED-CT", "SNOMEDCT", "HTTP://SNOMED.INFO/SCT"})


class SyntheaFormatError(Exception):
    """A Synthea folder we cannot read: a missing file or column."""

    def __init__(self, file_name: str, problem: str) -> None:
        self.file_name = file_name
        self.problem = problem
        super().__init__(f"{file_name}: {problem}")


# --------------------------------------------------------------------------------------------
# The crosswalk


@dataclass(frozen=True)
class Crosswalk:
    """SNOMED CT codes to billing codes: procedures to CPT/HCPCS, conditions to ICD-10-CM
    (dotted, as an EMR shows it)."""

    procedures: dict[str, str]
    conditions: dict[str, str]


def load_crosswalk(path: Path = CROSSWALK_PATH, *, seeds: Path | None = None) -> Crosswalk:
    """Read the crosswalk and check every target is in our code sets (and, for procedures,
    priced in the chargemaster): a target the scrubber would reject is a crosswalk bug."""
    procedures: dict[str, str] = {}
    conditions: dict[str, str] = {}
    known_procedures = load_procedure_codes(seeds)
    priced = load_chargemaster(seeds)
    known_icd10 = {code.dotted for code in load_icd10cm_codes(seeds).values()}
    with path.open(encoding="utf-8", newline="") as fh:
        for row_number, row in enumerate(csv.DictReader(fh), start=1):
            kind, snomed, target = row["code_type"], row["snomed_code"], row["billing_code"]
            if kind == "procedure":
                if target not in known_procedures or target not in priced:
                    raise ValueError(f"{path.name} row {row_number}: {target} is not priced")
                table = procedures
            elif kind == "condition":
                if target not in known_icd10:
                    raise ValueError(f"{path.name} row {row_number}: {target} is not known")
                table = conditions
            else:
                raise ValueError(f"{path.name} row {row_number}: unknown code_type {kind!r}")
            if snomed in table:
                raise ValueError(f"{path.name} row {row_number}: {kind} {snomed} repeated")
            table[snomed] = target
    return Crosswalk(procedures, conditions)


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class ChargeCrossCheck:
    """Our charges beside Synthea's own claim charges (``claims_transactions.csv`` CHARGE rows)
    for the encounters we converted. Synthea's charges = ours + what we left out for a reason;
    ``unexplained_amount`` is whatever remains, and should be zero."""

    encounters_compared: int = 0
    encounters_without_claim: int = 0
    synthea_charge_amount: Decimal = Decimal("0.00")
    other_items_amount: Decimal = Decimal("0.00")  # medications, immunizations, supplies...
    converted_charge_amount: Decimal = Decimal("0.00")
    unconverted_procedure_amount: Decimal = Decimal("0.00")  # unmapped codes, bad costs
    unbilled_visit_amount: Decimal = Decimal("0.00")  # procedure-only encounters
    chargemaster_visit_amount: Decimal = Decimal("0.00")  # visits Synthea did not price
    unexplained_amount: Decimal = Decimal("0.00")
    encounters_unexplained: int = 0
    invalid_amounts: int = 0


@dataclass
class ConversionSummary:
    synthea_dir: Path
    out_dir: Path
    rejects_path: Path
    as_of: date
    window_start: date | None
    rows_in: dict[str, int] = field(default_factory=dict)  # Synthea file -> data rows read
    rows_mapped: dict[str, int] = field(default_factory=dict)  # ... rows used in the extract
    rows_out: dict[str, int] = field(default_factory=dict)  # our table -> rows written
    rejected: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, reason)
    notes: dict[str, int] = field(default_factory=dict)  # adjustments that lose no row
    encounters_converted: int = 0
    self_pay_encounters: int = 0
    encounters_with_secondary: int = 0
    encounters_without_diagnosis: int = 0
    charge_amount: Decimal = Decimal("0.00")
    cross_check: ChargeCrossCheck | None = None

    def rejected_rows(self, file_name: str | None = None) -> int:
        return sum(n for (f, _), n in self.rejected.items() if file_name in (None, f))

    def report_lines(self) -> list[str]:
        """The summary as printed by ``revcycle ingest --format synthea``."""
        window = (
            f"{self.window_start} to {self.as_of}" if self.window_start else f"up to {self.as_of}"
        )
        lines = [f"Synthea export {self.synthea_dir} -> {self.out_dir} (services {window})"]
        lines.append("  rows in -> mapped + rejected, per Synthea file:")
        for name in (*REQUIRED_FILES, *CROSS_CHECK_FILES):
            if name not in self.rows_in:
                continue
            if name in CROSS_CHECK_FILES:
                lines.append(f"    {name}: {self.rows_in[name]:,} read for the cross-check")
                continue
            lines.append(
                f"    {name}: {self.rows_in[name]:,} -> {self.rows_mapped.get(name, 0):,} + "
                f"{self.rejected_rows(name):,}"
            )
        lines.append(
            "  extract rows written: " + ", ".join(f"{t} {n:,}" for t, n in self.rows_out.items())
        )
        lines.append(
            f"  encounters: {self.encounters_converted:,} converted, "
            f"{self.self_pay_encounters:,} self-pay, {self.encounters_with_secondary:,} with a "
            f"secondary coverage, {self.encounters_without_diagnosis:,} without an ICD-10 "
            f"diagnosis (the scrubber holds them); charges ${self.charge_amount:,.2f}"
        )
        if self.rejected:
            lines.append(f"  rejected rows, by reason (in {self.rejects_path}):")
            for (name, reason), n in sorted(self.rejected.items()):
                lines.append(f"    {name} {reason}: {n:,}")
        if self.notes:
            lines.append("  adjustments:")
            lines.extend(f"    {note}: {n:,}" for note, n in sorted(self.notes.items()))
        check = self.cross_check
        if check is None:
            lines.append("  cross-check: no claims.csv / claims_transactions.csv in the export")
        else:
            lines += [
                f"  cross-check with Synthea's claims ({check.encounters_compared:,} encounters, "
                f"{check.encounters_without_claim:,} without a Synthea claim):",
                f"    Synthea charges                     ${check.synthea_charge_amount:,.2f}",
                f"    - items we do not convert (drugs...) ${check.other_items_amount:,.2f}",
                f"    = converted charges                 ${check.converted_charge_amount:,.2f}",
                f"    + procedures not converted          "
                f"${check.unconverted_procedure_amount:,.2f}",
                f"    + visits not billed (procedure-only) ${check.unbilled_visit_amount:,.2f}",
                f"    - visits priced from the chargemaster "
                f"${check.chargemaster_visit_amount:,.2f}",
                f"    unexplained difference              ${check.unexplained_amount:,.2f} "
                f"({check.encounters_unexplained:,} encounters)",
            ]
        return lines


# --------------------------------------------------------------------------------------------
# Small helpers


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest(), "big")


def _base36(number: int, width: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = []
    for _ in range(width):
        number, rest = divmod(number, 36)
        out.append(alphabet[rest])
    return "".join(out)


def _text(value: str | None) -> str:
    """Free text safe for our extract and an 837: X12 delimiters out, spaces collapsed."""
    return _SPACES.sub(" ", _X12_DELIMITERS.sub(" ", value or "")).strip()


def _name(value: str | None) -> str:
    """Synthea appends digits to names (Maynard46): drop them."""
    cleaned = _text(_DIGITS.sub("", value or ""))
    return cleaned or _text(value)


def _parse_date(value: str | None) -> date | None:
    text = (value or "").strip()
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _parse_period_bound(value: str | None, *, end: bool) -> date | None:
    """A payer transition bound: a plain year (Synthea 2.x) or a date/timestamp."""
    text = (value or "").strip()
    if _YEAR.fullmatch(text):
        return date(int(text), 12, 31) if end else date(int(text), 1, 1)
    return _parse_date(text)


def _money(value: str | None) -> Decimal | None:
    try:
        amount = Decimal((value or "").strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _zip(value: str | None) -> str | None:
    """5 or 9 digits; ZIPs that lost their leading zeros (a spreadsheet) are padded to 5."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not digits.isascii() or not digits.isdigit():
        return None
    if 3 <= len(digits) <= 5:
        return digits.zfill(5)
    return digits if len(digits) == 9 else None


def _state(value: str | None) -> str | None:
    text = _text(value).upper()
    if text in _STATE_CODES:
        return text
    return US_STATES.get(text)


def _split_address(value: str | None) -> tuple[str, str]:
    text = _text(value)
    found = _UNIT.match(text)
    if found:
        return found.group("street"), found.group("unit")
    return text, ""


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _fmt(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _is_surgical(code: str) -> bool:
    return code.isdigit() and 10004 <= int(code) <= 69990


# --------------------------------------------------------------------------------------------
# Reading Synthea files


@dataclass(frozen=True, slots=True)
class _Row:
    number: int  # data row, from 1
    values: list[str]
    columns: dict[str, int]  # header name -> position, shared by the rows of a file

    def get(self, *names: str) -> str:
        """The first of ``names`` the file has, stripped; empty when it has none of them."""
        for name in names:
            position = self.columns.get(name)
            if position is not None:
                return self.values[position].strip() if position < len(self.values) else ""
        return ""


def _check_header(name: str, header: Sequence[str]) -> None:
    missing = [
        "/".join(options)
        for options in _REQUIRED_COLUMNS[name]
        if not any(option in header for option in options)
    ]
    if missing:
        raise SyntheaFormatError(name, f"missing column(s): {', '.join(missing)}")


def _rows(folder: Path, name: str) -> Iterator[_Row]:
    path = folder / name
    if not path.is_file():
        raise SyntheaFormatError(name, f"not found in {folder}")
    number = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            _check_header(name, header)
            columns = {column: i for i, column in reversed(list(enumerate(header)))}
            for values in reader:
                if values:  # a blank line is no row
                    number += 1
                    yield _Row(number, values, columns)
    except UnicodeDecodeError:
        raise SyntheaFormatError(name, f"not UTF-8 text (after data row {number})") from None
    except csv.Error as exc:
        raise SyntheaFormatError(name, f"unreadable CSV after data row {number}: {exc}") from None


# --------------------------------------------------------------------------------------------
# Intermediate records


@dataclass(frozen=True)
class _Payer:
    payer_id: str
    payer_type: str
    name: str


@dataclass(frozen=True)
class _Patient:
    birth_date: date
    sex: str


@dataclass(frozen=True)
class _Period:
    start: date
    end: date | None
    payer: str  # Synthea payer Id
    coverage_id: str
    secondary_coverage_id: str | None

    def active(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class _Line:
    procedure_code: str
    charge_amount: Decimal
    units: int = 1
    modifiers: list[str] = field(default_factory=list)
    reason_icd10: str | None = None
    is_visit: bool = False


@dataclass
class _Diagnosis:
    icd10_code: str
    source: tuple[int, str] | None  # the conditions.csv row (number, key) it came from


@dataclass
class _Draft:
    encounter_id: str
    source_row: int
    patient_id: str
    service_date: date
    rule: _ClassRule
    visit_type: str
    billing_provider_id: str
    rendering_provider_id: str
    facility_provider_id: str
    primary_coverage_id: str
    secondary_coverage_id: str
    encounter_code: str
    encounter_cost: Decimal | None
    reason_icd10: str | None
    visit_code: str | None
    lines: dict[str, _Line] = field(default_factory=dict)  # procedures, by CPT/HCPCS code
    final_lines: list[_Line] = field(default_factory=list)  # the visit line, then procedures
    diagnoses: list[_Diagnosis] = field(default_factory=list)
    condition_rows: list[tuple[int, str]] = field(default_factory=list)  # (number, key)
    procedure_codes: set[str] = field(default_factory=set)  # SNOMED, mapped or not
    unconverted_procedure_amount: Decimal = Decimal("0.00")
    chargemaster_visit_amount: Decimal = Decimal("0.00")


class _Ledger:
    """Counts and reject rows: every Synthea data row ends in one of the two."""

    def __init__(self) -> None:
        self.rows_in: Counter[str] = Counter()
        self.mapped: Counter[str] = Counter()
        self.rejected: Counter[tuple[str, str]] = Counter()
        self.notes: Counter[str] = Counter()
        self.rejects: list[tuple[str, int, str, str, str]] = []
        self.encounter_reasons: dict[str, str] = {}  # rejected encounter -> why

    def read(self, name: str) -> None:
        self.rows_in[name] += 1

    def map(self, name: str) -> None:
        self.mapped[name] += 1

    def reject(self, name: str, row: int, key: str, reason: str, detail: str = "") -> None:
        self.rejected[(name, reason)] += 1
        self.rejects.append((name, row, key, reason, detail))
        if name == ENCOUNTERS:
            self.encounter_reasons.setdefault(key, reason)

    def reject_child(self, name: str, row: int, key: str, encounter_id: str) -> None:
        """A procedure or condition of an encounter that is not in the extract."""
        why = self.encounter_reasons.get(encounter_id, "not in encounters.csv")
        self.reject(name, row, key, "encounter_not_converted", f"encounter: {why}")


# --------------------------------------------------------------------------------------------
# The conversion


def convert_synthea(
    synthea_dir: Path,
    out_dir: Path,
    *,
    as_of: date,
    lookback_days: int | None = DEFAULT_LOOKBACK_DAYS,
    crosswalk: Crosswalk | None = None,
) -> ConversionSummary:
    """Convert a Synthea CSV export into the seven files of our extract in ``out_dir``.

    ``as_of`` is the extract date: encounters after it are left out (reason ``after_as_of``),
    and so are those more than ``lookback_days`` before it (``before_window``; ``None`` keeps
    the whole history). Rejected rows go to ``out_dir/conversion/rejects.csv``.
    """
    if out_dir.resolve() == synthea_dir.resolve():
        # Both have a patients.csv and an encounters.csv: never write over the export.
        raise SyntheaFormatError(out_dir.name, "the extract cannot be written into the export")
    walk = crosswalk or load_crosswalk()
    window_start = as_of - timedelta(days=lookback_days) if lookback_days is not None else None
    ledger = _Ledger()

    payers, payer_rows = _convert_payers(synthea_dir, ledger)
    patients, patient_rows = _convert_patients(synthea_dir, ledger)
    providers, provider_rows = _convert_providers(synthea_dir, ledger)
    periods, coverage_rows = _convert_transitions(synthea_dir, ledger, payers, patients)
    drafts = _convert_encounters(
        synthea_dir, ledger, payers, patients, providers, periods, walk, as_of, window_start
    )
    _convert_procedures(synthea_dir, ledger, drafts, walk)
    _convert_conditions(synthea_dir, ledger, drafts, walk)
    encounter_rows, charge_rows, diagnosis_rows, kept = _finish_encounters(
        ledger, drafts, patients, load_chargemaster()
    )

    summary = ConversionSummary(
        synthea_dir=synthea_dir,
        out_dir=out_dir,
        rejects_path=out_dir / REJECTS_FOLDER / REJECTS_FILE,
        as_of=as_of,
        window_start=window_start,
    )
    tables: dict[str, list[list[str]]] = {
        "patients": patient_rows,
        "payers": payer_rows,
        "coverages": coverage_rows,
        "providers": provider_rows,
        "encounters": encounter_rows,
        "charges": charge_rows,
        "diagnoses": diagnosis_rows,
    }
    _write_extract(out_dir, tables)
    summary.rows_out = {t.name: len(tables[t.name]) for t in schema.TABLES}
    summary.encounters_converted = len(kept)
    summary.self_pay_encounters = sum(1 for d in kept if not d.primary_coverage_id)
    summary.encounters_with_secondary = sum(1 for d in kept if d.secondary_coverage_id)
    summary.encounters_without_diagnosis = sum(1 for d in kept if not d.diagnoses)
    summary.charge_amount = sum(
        (line.charge_amount for d in kept for line in d.final_lines), Decimal("0.00")
    )
    summary.cross_check = _cross_check(synthea_dir, ledger, kept)
    summary.rows_in = dict(ledger.rows_in)
    summary.rows_mapped = dict(ledger.mapped)
    summary.rejected = dict(ledger.rejected)
    summary.notes = dict(ledger.notes)
    _write_rejects(summary.rejects_path, ledger.rejects)
    (summary.rejects_path.parent / SUMMARY_FILE).write_text(
        "\n".join(summary.report_lines()) + "\n", encoding="utf-8"
    )
    return summary


# -- payers -----------------------------------------------------------------------------------


def _payer_type(name: str, ownership: str) -> tuple[str, str]:
    """(payer_type, claim_filing_indicator) from Synthea's payer name and ownership."""
    upper = name.upper()
    if NO_INSURANCE in (upper.replace(" ", "_"), ownership.upper().replace(" ", "_")):
        return "self_pay", "09"
    if "DUAL ELIGIBLE" in upper or "MEDICARE" in upper:
        # Dual eligible: Medicare pays first; Medicaid's share would be a crossover.
        return "medicare", "MB"
    if "MEDICAID" in upper:
        return "medicaid", "MC"
    if "BLUE CROSS" in upper or "BLUE SHIELD" in upper or "BCBS" in upper:
        return "commercial", "BL"
    if re.search(r"\bHMO\b", upper):
        return "commercial", "HM"
    return "commercial", "CI"


def _convert_payers(folder: Path, ledger: _Ledger) -> tuple[dict[str, _Payer], list[list[str]]]:
    rows = list(_rows(folder, PAYERS))
    payers: dict[str, _Payer] = {}
    out: dict[str, list[str]] = {}
    used: set[str] = {SELF_PAY_PAYER_ID}
    # Sorted by Synthea Id so a (rare) hash collision resolves the same way every time.
    for row in sorted(rows, key=lambda r: r.get("Id")):
        ledger.read(PAYERS)
        sid, name = row.get("Id"), _text(row.get("NAME"))
        if not sid or not name or sid in payers:
            reason = "duplicate_id" if sid in payers else "value_missing"
            ledger.reject(PAYERS, row.number, sid, reason, "Id or NAME")
            continue
        payer_type, indicator = _payer_type(name, row.get("OWNERSHIP"))
        ledger.map(PAYERS)
        if payer_type == "self_pay":
            payers[sid] = _Payer(SELF_PAY_PAYER_ID, payer_type, "Self Pay")
            continue
        attempt = 0
        while True:
            payer_id = _base36(_digest("payer", sid, str(attempt)), 5)
            if payer_id not in used:
                break
            attempt += 1
        used.add(payer_id)
        payers[sid] = _Payer(payer_id, payer_type, name)
        defaults = PAYER_DEFAULTS[payer_type]
        state = _state(row.get("STATE_HEADQUARTERED", "STATE")) or ""
        zip_code = _zip(row.get("ZIP")) or ""
        out[payer_id] = [
            payer_id,
            name,
            payer_type,
            indicator,
            str(defaults.timely_filing_days),
            defaults.fee_schedule_id,
            defaults.allowed_percent_of_charge,
            _text(row.get("ADDRESS")),
            _text(row.get("CITY")),
            state,
            zip_code,
        ]
    self_pay = PAYER_DEFAULTS["self_pay"]
    out[SELF_PAY_PAYER_ID] = [
        SELF_PAY_PAYER_ID,
        "Self Pay",
        "self_pay",
        self_pay.claim_filing_indicator,
        str(self_pay.timely_filing_days),
        self_pay.fee_schedule_id,
        self_pay.allowed_percent_of_charge,
        "",
        "",
        "",
        "",
    ]
    return payers, [out[k] for k in sorted(out)]


# -- patients ---------------------------------------------------------------------------------


def _convert_patients(folder: Path, ledger: _Ledger) -> tuple[dict[str, _Patient], list[list[str]]]:
    patients: dict[str, _Patient] = {}
    out: list[list[str]] = []
    for row in _rows(folder, PATIENTS):
        ledger.read(PATIENTS)
        pid = row.get("Id")
        if pid in patients:
            ledger.reject(PATIENTS, row.number, pid, "duplicate_id")
            continue
        birth = _parse_date(row.get("BIRTHDATE"))
        first, last = _name(row.get("FIRST")), _name(row.get("LAST"))
        street, unit = _split_address(row.get("ADDRESS"))
        city, state, zip_code = (
            _text(row.get("CITY")),
            _state(row.get("STATE")),
            _zip(row.get("ZIP")),
        )
        if not pid or not first or not last or not street or not city:
            ledger.reject(
                PATIENTS, row.number, pid, "value_missing", "Id, FIRST, LAST, ADDRESS, CITY"
            )
            continue
        if birth is None:
            ledger.reject(PATIENTS, row.number, pid, "date_invalid", "BIRTHDATE")
            continue
        if state is None:
            ledger.reject(PATIENTS, row.number, pid, "state_unknown", "STATE")
            continue
        if zip_code is None:
            ledger.reject(PATIENTS, row.number, pid, "zip_invalid", "ZIP")
            continue
        sex = {"M": "M", "F": "F"}.get(row.get("GENDER").upper(), "U")
        patients[pid] = _Patient(birth, sex)
        ledger.map(PATIENTS)
        middle = _name(row.get("MIDDLE"))[:1].upper()
        out.append(
            [
                pid,
                pid,  # Synthea has no MRN: its person Id is the record number
                last,
                first,
                middle,
                sex,
                birth.isoformat(),
                street,
                unit,
                city,
                state,
                zip_code,
                "",
            ]
        )
    out.sort(key=lambda r: r[0])
    return patients, out


# -- providers --------------------------------------------------------------------------------


class _NpiRegistry:
    """Synthea's NPI when it passes the check digit and is not taken, else a derived one."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def npi(self, given: str, key: str, entity_type: str, ledger: _Ledger) -> str:
        if given and is_valid_npi(given) and given not in self.used:
            self.used.add(given)
            return given
        attempt = 0
        while True:
            base = (
                "1" if entity_type == "1" else "2"
            ) + f"{_digest('npi', key, str(attempt)) % 10**8:08d}"
            npi = base + luhn_check_digit(base)
            if npi not in self.used:
                self.used.add(npi)
                ledger.notes["npi_derived"] += 1
                return npi
            attempt += 1


def _zip9(zip_code: str, key: str) -> str:
    """Synthea has no ZIP+4: a stable stand-in add-on (0001-9999) is derived from the id."""
    if len(zip_code) == 9:
        return zip_code
    return zip_code + f"{_digest('zip4', key) % 9999 + 1:04d}"


def _org_taxonomy(name: str) -> str:
    upper = name.upper()
    if "URGENT" in upper:
        return TAXONOMY_URGENT_CARE
    if "HOSPITAL" in upper or "MEDICAL CENTER" in upper or "MEDICAL CTR" in upper:
        return TAXONOMY_HOSPITAL
    return TAXONOMY_CLINIC


@dataclass(frozen=True)
class _Providers:
    organizations: frozenset[str]  # Synthea organization Ids converted (billing + facility)
    clinicians: frozenset[str]  # Synthea provider Ids converted (rendering)

    @staticmethod
    def facility_id(org_id: str) -> str:
        return f"{org_id}-F"


def _convert_providers(folder: Path, ledger: _Ledger) -> tuple[_Providers, list[list[str]]]:
    registry = _NpiRegistry()
    out: list[list[str]] = []
    orgs: dict[str, tuple[str, str, str, str]] = {}  # address of each organisation
    for row in sorted(_rows(folder, ORGANIZATIONS), key=lambda r: r.get("Id")):
        ledger.read(ORGANIZATIONS)
        oid, name = row.get("Id"), _text(row.get("NAME"))
        street = _text(row.get("ADDRESS"))
        city, state, zip_code = (
            _text(row.get("CITY")),
            _state(row.get("STATE")),
            _zip(row.get("ZIP")),
        )
        if oid in orgs:
            ledger.reject(ORGANIZATIONS, row.number, oid, "duplicate_id")
            continue
        if not oid or not name or not street or not city or state is None or zip_code is None:
            ledger.reject(
                ORGANIZATIONS, row.number, oid, "address_invalid", "NAME, ADDRESS, CITY, STATE, ZIP"
            )
            continue
        ledger.map(ORGANIZATIONS)
        zip9 = _zip9(zip_code, oid)
        orgs[oid] = (street, city, state, zip9)
        npi = registry.npi(row.get("NPI"), oid, "2", ledger)
        tin_hash = _digest("tin", oid)
        tin = _TIN_PREFIXES[tin_hash % len(_TIN_PREFIXES)] + f"{(tin_hash >> 8) % 10**7:07d}"
        taxonomy = _org_taxonomy(name)
        for provider_id, role in ((oid, "billing"), (_Providers.facility_id(oid), "facility")):
            out.append(
                [
                    provider_id,
                    role,
                    "2",
                    npi,
                    name,
                    "",
                    "",
                    taxonomy,
                    tin if role == "billing" else "",
                    street,
                    city,
                    state,
                    zip9,
                ]
            )
    clinicians: set[str] = set()
    for row in sorted(_rows(folder, CLINICIANS), key=lambda r: r.get("Id")):
        ledger.read(CLINICIANS)
        cid = row.get("Id")
        tokens = [t for t in _name(row.get("NAME")).split(" ") if t.upper() not in _NAME_PREFIXES]
        street = _text(row.get("ADDRESS"))
        city, state, zip_code = (
            _text(row.get("CITY")),
            _state(row.get("STATE")),
            _zip(row.get("ZIP")),
        )
        if not street or not city or state is None or zip_code is None:
            # The clinician's own address is the organisation's in Synthea; fall back to it.
            fallback = orgs.get(row.get("ORGANIZATION"))
            if fallback is not None:
                street, city, state, zip_code = fallback
        if cid in clinicians or cid in orgs:
            ledger.reject(CLINICIANS, row.number, cid, "duplicate_id")
            continue
        if not cid or not tokens:
            ledger.reject(CLINICIANS, row.number, cid, "value_missing", "Id or NAME")
            continue
        if not street or not city or state is None or zip_code is None:
            ledger.reject(
                CLINICIANS, row.number, cid, "address_invalid", "ADDRESS, CITY, STATE, ZIP"
            )
            continue
        ledger.map(CLINICIANS)
        clinicians.add(cid)
        speciality = _text(row.get("SPECIALITY")).upper()
        if speciality not in SPECIALITY_TAXONOMY:
            ledger.notes["taxonomy_defaulted_to_general_practice"] += 1
        taxonomy = SPECIALITY_TAXONOMY.get(speciality, DEFAULT_TAXONOMY)
        out.append(
            [
                cid,
                "rendering",
                "1",
                registry.npi(row.get("NPI"), cid, "1", ledger),
                "",
                tokens[-1],
                tokens[0] if len(tokens) > 1 else "",
                taxonomy,
                "",
                street,
                city,
                state,
                _zip9(zip_code, cid),
            ]
        )
    out.sort(key=lambda r: r[0])
    return _Providers(frozenset(orgs), frozenset(clinicians)), out


# -- coverages --------------------------------------------------------------------------------


def _convert_transitions(
    folder: Path,
    ledger: _Ledger,
    payers: dict[str, _Payer],
    patients: dict[str, _Patient],
) -> tuple[dict[str, list[_Period]], list[list[str]]]:
    periods: dict[str, list[_Period]] = defaultdict(list)
    out: dict[str, list[str]] = {}
    for row in _rows(folder, TRANSITIONS):
        ledger.read(TRANSITIONS)
        pid, sid = row.get("PATIENT"), row.get("PAYER")
        key = f"{pid}:{sid}"
        start = _parse_period_bound(row.get("START_DATE", "START_YEAR"), end=False)
        end_text = row.get("END_DATE", "END_YEAR")
        end = _parse_period_bound(end_text, end=True) if end_text else None
        payer = payers.get(sid)
        if pid not in patients:
            ledger.reject(TRANSITIONS, row.number, key, "patient_not_converted")
            continue
        if payer is None:
            ledger.reject(TRANSITIONS, row.number, key, "payer_unknown")
            continue
        if payer.payer_type == "self_pay":
            # Not a coverage: visits in this period are self-pay (empty primary coverage).
            ledger.reject(TRANSITIONS, row.number, key, "no_insurance_period")
            continue
        if start is None or (end_text and end is None) or (end is not None and end < start):
            ledger.reject(TRANSITIONS, row.number, key, "date_invalid", "start or end")
            continue
        coverage_id = _coverage_id(pid, sid, start, 1)
        if coverage_id in out:
            ledger.reject(TRANSITIONS, row.number, key, "duplicate_id")
            continue
        ledger.map(TRANSITIONS)
        member_id = _text(row.get("MEMBERID")).upper()
        if not re.fullmatch(r"[A-Z0-9-]{2,80}", member_id):
            member_id = _member_id(pid, sid)
            ledger.notes["member_id_derived"] += 1
        bounds = [start.isoformat(), end.isoformat() if end else ""]
        # Synthea's policy owner (OWNERSHIP / OWNER_NAME) is no person of the export, so the
        # patient is the subscriber (relationship 18, self) of every coverage.
        out[coverage_id] = [
            coverage_id, pid, payer.payer_id, payer.name, member_id, "", pid, "18", *bounds, "1"
        ]  # fmt: skip
        secondary_id: str | None = None
        secondary_sid = row.get("SECONDARY_PAYER")
        second = payers.get(secondary_sid)
        if secondary_sid and second is None:
            ledger.notes["secondary_payer_unknown"] += 1
        elif second is not None and second.payer_type != "self_pay" and secondary_sid != sid:
            secondary_id = _coverage_id(pid, secondary_sid, start, 2)
            out[secondary_id] = [
                secondary_id, pid, second.payer_id, second.name, _member_id(pid, secondary_sid),
                "", pid, "18", *bounds, "2",
            ]  # fmt: skip
        periods[pid].append(_Period(start, end, sid, coverage_id, secondary_id))
    return periods, [out[k] for k in sorted(out)]


def _coverage_id(patient_id: str, payer_sid: str, start: date, order: int) -> str:
    return "COV" + _base36(
        _digest("coverage", patient_id, payer_sid, start.isoformat(), str(order)), 13
    )


def _member_id(patient_id: str, payer_sid: str) -> str:
    """A stable stand-in for the card's member id when Synthea gives none."""
    return "S" + _base36(_digest("member", patient_id, payer_sid), 10)


# -- encounters -------------------------------------------------------------------------------


def _visit_code(
    rule: _ClassRule,
    *,
    is_new: bool,
    age: int,
    payer_type: str,
    had_wellness_at_65: bool,
) -> str:
    if rule.visit == "emergency":
        return EMERGENCY_VISIT
    if rule.visit == "hospital_clinic":
        return HOSPITAL_CLINIC_VISIT
    if rule.visit == "preventive":
        if payer_type == "medicare" and age >= 65:
            return AWV_SUBSEQUENT if had_wellness_at_65 else AWV_FIRST
        for lower, new, established in _PREVENTIVE_BANDS:
            if age >= lower:
                return new if is_new else established
    return OFFICE_NEW if is_new else OFFICE_ESTABLISHED


def _convert_encounters(
    folder: Path,
    ledger: _Ledger,
    payers: dict[str, _Payer],
    patients: dict[str, _Patient],
    providers: _Providers,
    periods: dict[str, list[_Period]],
    walk: Crosswalk,
    as_of: date,
    window_start: date | None,
) -> dict[str, _Draft]:
    rows = list(_rows(folder, ENCOUNTERS))
    # Every encounter (whatever the window), in time order per patient and organisation and
    # per patient's wellness visits: new or established patient, first or later wellness.
    history: dict[tuple[str, str], list[tuple[str, date]]] = defaultdict(list)
    wellness: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for row in rows:
        day = _parse_date(row.get("START"))
        if day is None:
            continue
        history[(row.get("PATIENT"), row.get("ORGANIZATION"))].append((row.get("START"), day))
        if row.get("ENCOUNTERCLASS").lower() == "wellness":
            wellness[row.get("PATIENT")].append((row.get("START"), day))
    for visits in (*history.values(), *wellness.values()):
        visits.sort()

    drafts: dict[str, _Draft] = {}
    seen: set[str] = set()
    for row in rows:
        ledger.read(ENCOUNTERS)
        eid, pid = row.get("Id"), row.get("PATIENT")
        start, day = row.get("START"), _parse_date(row.get("START"))
        klass = row.get("ENCOUNTERCLASS").lower()
        if not eid or eid in seen:
            ledger.reject(ENCOUNTERS, row.number, eid, "duplicate_id" if eid else "value_missing")
            continue
        seen.add(eid)
        if day is None:
            ledger.reject(ENCOUNTERS, row.number, eid, "date_invalid", "START")
            continue
        if day > as_of:
            ledger.reject(ENCOUNTERS, row.number, eid, "after_as_of")
            continue
        if window_start is not None and day < window_start:
            ledger.reject(ENCOUNTERS, row.number, eid, "before_window")
            continue
        rule = CLASS_RULES.get(klass)
        if rule is None:
            reason = "class_not_billed" if klass in NOT_BILLED_CLASSES else "class_unknown"
            ledger.reject(ENCOUNTERS, row.number, eid, reason, klass)
            continue
        patient = patients.get(pid)
        org, clinician = row.get("ORGANIZATION"), row.get("PROVIDER")
        if patient is None:
            ledger.reject(ENCOUNTERS, row.number, eid, "patient_not_converted")
            continue
        if org not in providers.organizations:
            ledger.reject(ENCOUNTERS, row.number, eid, "organization_not_converted")
            continue
        if clinician not in providers.clinicians:
            ledger.reject(ENCOUNTERS, row.number, eid, "provider_not_converted")
            continue
        payer_sid = row.get("PAYER")
        payer = payers.get(payer_sid)
        if payer is None:
            ledger.reject(ENCOUNTERS, row.number, eid, "payer_unknown")
            continue
        primary, secondary = "", ""
        if payer.payer_type != "self_pay":
            period = _period_for(periods.get(pid, []), payer_sid, day)
            if period is None:
                ledger.reject(ENCOUNTERS, row.number, eid, "no_coverage_for_payer")
                continue
            if not period.active(day):
                ledger.notes["encounter_outside_coverage_period"] += 1
            primary, secondary = period.coverage_id, period.secondary_coverage_id or ""

        age = _age(patient.birth_date, day)
        previous = _latest_before(history[(pid, org)], start)
        is_new = previous is None or previous < _years_before(day, NEW_PATIENT_YEARS)
        visit_code: str | None = None
        if row.get("CODE") not in PROCEDURE_ONLY_ENCOUNTERS:
            previous_wellness = _latest_before(wellness[pid], start)
            visit_code = _visit_code(
                rule,
                is_new=is_new,
                age=age,
                payer_type=payer.payer_type,
                had_wellness_at_65=previous_wellness is not None
                and previous_wellness >= _years_after(patient.birth_date, 65),
            )
        visit_type = rule.visit_type
        if rule.visit_type == "office":
            if visit_code is None:
                visit_type = "procedure"
            else:
                visit_type = "office_new" if is_new else "office_established"
        reason = row.get("REASONCODE")
        reason_icd10 = walk.conditions.get(reason) if reason else None
        if reason and reason_icd10 is None:
            ledger.notes["encounter_reason_unmapped"] += 1
        drafts[eid] = _Draft(
            encounter_id=eid,
            source_row=row.number,
            patient_id=pid,
            service_date=day,
            rule=rule,
            visit_type=visit_type,
            billing_provider_id=org,
            rendering_provider_id=clinician,
            facility_provider_id=_Providers.facility_id(org) if rule.with_facility else "",
            primary_coverage_id=primary,
            secondary_coverage_id=secondary,
            encounter_code=row.get("CODE"),
            encounter_cost=_money(row.get("BASE_ENCOUNTER_COST")),
            reason_icd10=reason_icd10,
            visit_code=visit_code,
        )
    return drafts


def _latest_before(visits: Sequence[tuple[str, date]], start: str) -> date | None:
    """The date of the last visit that started before ``start`` (visits sorted by start)."""
    index = bisect_left(visits, (start,))
    return visits[index - 1][1] if index else None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _period_for(periods: Sequence[_Period], payer_sid: str, day: date) -> _Period | None:
    """The patient's coverage period with the encounter's payer: the one active on the day,
    else the nearest one (the scrubber then holds the claim: coverage not active)."""
    candidates = [p for p in periods if p.payer == payer_sid]
    if not candidates:
        return None
    active = [p for p in candidates if p.active(day)]
    if active:
        return max(active, key=lambda p: p.start)

    def distance(p: _Period) -> int:
        if day < p.start:
            return (p.start - day).days
        return (day - (p.end or day)).days

    return min(candidates, key=lambda p: (distance(p), p.start))


# -- procedures and conditions ----------------------------------------------------------------


def _convert_procedures(
    folder: Path, ledger: _Ledger, drafts: dict[str, _Draft], walk: Crosswalk
) -> None:
    for row in _rows(folder, PROCEDURES):
        ledger.read(PROCEDURES)
        eid, code = row.get("ENCOUNTER"), row.get("CODE")
        key = f"{eid}:{code}"
        draft = drafts.get(eid)
        if draft is None:
            ledger.reject_child(PROCEDURES, row.number, key, eid)
            continue
        draft.procedure_codes.add(code)
        cost = _money(row.get("BASE_COST"))
        system = row.get("SYSTEM").upper()
        target = walk.procedures.get(code) if system in _SNOMED_SYSTEMS else None
        if cost is None or cost <= 0:
            ledger.reject(PROCEDURES, row.number, key, "cost_invalid", "BASE_COST")
            continue
        if target is None:
            draft.unconverted_procedure_amount += cost
            ledger.reject(PROCEDURES, row.number, key, "procedure_unmapped", f"SNOMED {code}")
            continue
        ledger.map(PROCEDURES)
        reason = row.get("REASONCODE")
        reason_icd10 = walk.conditions.get(reason) if reason else None
        if reason and reason_icd10 is None:
            ledger.notes["procedure_reason_unmapped"] += 1
        line = draft.lines.get(target)
        if line is None:
            draft.lines[target] = _Line(target, cost, reason_icd10=reason_icd10)
        else:
            # The same service twice on a visit is one line with more units (a repeated line
            # would be held as a duplicate).
            line.units += 1
            line.charge_amount += cost
            line.reason_icd10 = line.reason_icd10 or reason_icd10
            ledger.notes["procedure_rows_merged_into_units"] += 1


def _convert_conditions(
    folder: Path, ledger: _Ledger, drafts: dict[str, _Draft], walk: Crosswalk
) -> None:
    for row in _rows(folder, CONDITIONS):
        ledger.read(CONDITIONS)
        eid, code = row.get("ENCOUNTER"), row.get("CODE")
        key = f"{eid}:{code}"
        draft = drafts.get(eid)
        if draft is None:
            ledger.reject_child(CONDITIONS, row.number, key, eid)
            continue
        system = row.get("SYSTEM").upper()
        target = walk.conditions.get(code) if system in _SNOMED_SYSTEMS else None
        if target is None:
            ledger.reject(CONDITIONS, row.number, key, "condition_unmapped", f"SNOMED {code}")
            continue
        draft.condition_rows.append((row.number, key))
        draft.diagnoses.append(_Diagnosis(target, (row.number, key)))


# -- finishing: diagnoses, lines, rows --------------------------------------------------------


def _finish_encounters(
    ledger: _Ledger,
    drafts: dict[str, _Draft],
    patients: dict[str, _Patient],
    prices: dict[str, ChargemasterItem],
) -> tuple[list[list[str]], list[list[str]], list[list[str]], list[_Draft]]:
    encounters: list[list[str]] = []
    charges: list[list[str]] = []
    diagnoses: list[list[str]] = []
    kept: list[_Draft] = []
    for eid in sorted(drafts):
        draft = drafts[eid]
        _order_diagnoses(draft, patients[draft.patient_id], ledger)
        draft.final_lines = _order_lines(draft, prices, ledger)
        if not draft.final_lines:
            ledger.reject(ENCOUNTERS, draft.source_row, eid, "no_billable_service")
            for number, key in draft.condition_rows:
                ledger.reject_child(CONDITIONS, number, key, eid)
            continue
        ledger.map(ENCOUNTERS)
        for _ in draft.condition_rows:
            ledger.map(CONDITIONS)
        kept.append(draft)
        rule = draft.rule
        encounters.append(
            [
                eid,
                draft.patient_id,
                draft.service_date.isoformat(),
                draft.visit_type,
                rule.claim_type,
                rule.place_of_service,
                rule.type_of_bill,
                draft.billing_provider_id,
                draft.rendering_provider_id,
                draft.facility_provider_id,
                draft.primary_coverage_id,
                draft.secondary_coverage_id,
            ]
        )
        sequence = {d.icd10_code: i for i, d in enumerate(draft.diagnoses, start=1)}
        diagnoses += [[eid, str(i), d.icd10_code] for i, d in enumerate(draft.diagnoses, start=1)]
        for number, line in enumerate(draft.final_lines, start=1):
            pointers: list[str] = []
            if draft.diagnoses and line.is_visit:
                pointers = [str(i) for i in range(1, min(4, len(draft.diagnoses)) + 1)]
            elif draft.diagnoses:
                pointers = [str(sequence.get(line.reason_icd10 or "", 1))]
            institutional = rule.claim_type == "institutional"
            charges.append(
                [
                    f"{eid}-{number:02d}",
                    eid,
                    str(number),
                    draft.service_date.isoformat(),
                    line.procedure_code,
                    *[*line.modifiers, "", "", "", ""][:4],
                    str(line.units),
                    _fmt(line.charge_amount),
                    prices[line.procedure_code].revenue_code if institutional else "",
                    *[*pointers, "", "", "", ""][:4],
                ]
            )
    return encounters, charges, diagnoses, kept


def _order_diagnoses(draft: _Draft, patient: _Patient, ledger: _Ledger) -> None:
    """Principal first: the wellness exam code for preventive visits, else the encounter's
    reason; then the conditions diagnosed at the visit; then the procedures' reasons. A code
    already on the claim is not repeated; more than 12 do not fit the claim."""
    ordered: list[_Diagnosis] = []
    if draft.rule.visit == "preventive":
        adult = _age(patient.birth_date, draft.service_date) >= 18
        ordered.append(_Diagnosis(WELL_ADULT_DX if adult else WELL_CHILD_DX, None))
    if draft.reason_icd10:
        ordered.append(_Diagnosis(draft.reason_icd10, None))
    ordered += draft.diagnoses
    ordered += [
        _Diagnosis(line.reason_icd10, None) for line in draft.lines.values() if line.reason_icd10
    ]
    seen: set[str] = set()
    final: list[_Diagnosis] = []
    kept_rows: list[tuple[int, str]] = []
    for d in ordered:
        if d.icd10_code in seen:
            if d.source is not None:
                kept_rows.append(d.source)  # its code is on the claim already
                ledger.notes["condition_rows_repeating_a_diagnosis"] += 1
            continue
        if len(final) == MAX_DIAGNOSES:
            if d.source is not None:
                ledger.reject(CONDITIONS, *d.source, "over_12_diagnoses")
            else:
                ledger.notes["reason_diagnoses_over_12"] += 1
            continue
        seen.add(d.icd10_code)
        final.append(d)
        if d.source is not None:
            kept_rows.append(d.source)
    draft.diagnoses = final
    draft.condition_rows = kept_rows


def _order_lines(
    draft: _Draft, prices: dict[str, ChargemasterItem], ledger: _Ledger
) -> list[_Line]:
    """The visit line (E/M from the encounter class) first, then the procedures in the order
    Synthea recorded them."""
    procedures = list(draft.lines.values())
    if draft.visit_code is None:
        return procedures
    amount = draft.encounter_cost
    if amount is None or amount <= 0:
        amount = prices[draft.visit_code].unit_price
        draft.chargemaster_visit_amount = amount
        ledger.notes["visit_priced_from_chargemaster"] += 1
    visit = _Line(draft.visit_code, amount, is_visit=True)
    if any(_is_surgical(p.procedure_code) or p.procedure_code in _TRIGGER_25 for p in procedures):
        visit.modifiers.append(SEPARATE_EM_MODIFIER)
    if draft.rule.visit == "telehealth":
        visit.modifiers.append(TELEHEALTH_MODIFIER)
    return [visit, *procedures]


# -- writing ----------------------------------------------------------------------------------


def _write_extract(out_dir: Path, tables: dict[str, list[list[str]]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for table in schema.TABLES:
        rows = tables[table.name]
        width = len(table.columns)
        for row in rows:
            if len(row) != width:
                raise RuntimeError(f"{table.name}: a row has {len(row)} values, not {width}")
        path = out_dir / table.file_name
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(table.column_names)
            writer.writerows(rows)
        tmp.replace(path)


def _write_rejects(path: Path, rejects: Sequence[tuple[str, int, str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(REJECT_COLUMNS)
        ordered = sorted(rejects, key=_reject_order)
        writer.writerows(ordered)


def _reject_order(reject: tuple[str, int, str, str, str]) -> tuple[str, int, str]:
    return reject[0], reject[1], reject[3]


# -- cross-check ------------------------------------------------------------------------------


def _cross_check(folder: Path, ledger: _Ledger, kept: Sequence[_Draft]) -> ChargeCrossCheck | None:
    if not all((folder / name).is_file() for name in CROSS_CHECK_FILES):
        return None
    by_encounter = {d.encounter_id: d for d in kept}
    claim_encounter: dict[str, str] = {}
    for row in _rows(folder, CLAIMS):
        ledger.read(CLAIMS)
        if row.get("APPOINTMENTID") in by_encounter:
            claim_encounter[row.get("Id")] = row.get("APPOINTMENTID")
    check = ChargeCrossCheck()
    synthea_all: dict[str, Decimal] = defaultdict(Decimal)
    synthea_other: dict[str, Decimal] = defaultdict(Decimal)
    for row in _rows(folder, CLAIM_TRANSACTIONS):
        ledger.read(CLAIM_TRANSACTIONS)
        eid = claim_encounter.get(row.get("CLAIMID"))
        if eid is None or row.get("TYPE").upper() != "CHARGE":
            continue
        amount = _money(row.get("AMOUNT"))
        if amount is None:
            check.invalid_amounts += 1
            continue
        draft = by_encounter[eid]
        synthea_all[eid] += amount
        code = row.get("PROCEDURECODE")
        if code != draft.encounter_code and code not in draft.procedure_codes:
            synthea_other[eid] += amount  # medications, immunizations, supplies...
    for draft in kept:
        ours = sum((line.charge_amount for line in draft.final_lines), Decimal("0.00"))
        unbilled_visit = Decimal("0.00")
        if draft.visit_code is None and draft.encounter_cost is not None:
            unbilled_visit = draft.encounter_cost
        check.converted_charge_amount += ours
        check.unconverted_procedure_amount += draft.unconverted_procedure_amount
        check.unbilled_visit_amount += unbilled_visit
        check.chargemaster_visit_amount += draft.chargemaster_visit_amount
        if draft.encounter_id not in synthea_all:
            check.encounters_without_claim += 1
            continue
        check.encounters_compared += 1
        total, other = synthea_all[draft.encounter_id], synthea_other[draft.encounter_id]
        check.synthea_charge_amount += total
        check.other_items_amount += other
        explained = (
            ours
            + draft.unconverted_procedure_amount
            + unbilled_visit
            - draft.chargemaster_visit_amount
        )
        difference = total - other - explained
        if difference:
            check.encounters_unexplained += 1
            check.unexplained_amount += difference
    return check

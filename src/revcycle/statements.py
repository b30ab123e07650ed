"""Patient statements: one PDF per patient who owes a balance after insurance.

What a statement is built from (read-only; money read through Arrow, so it stays ``Decimal``):

- ``marts.fct_claim_balances``: per claim the posted charge, what insurance paid, contractual
  and other adjustments, the open insurance balance and the patient responsibility (PR
  adjustments net of reversals; the whole charge of a self-pay claim);
- ``marts.fct_claims``: the patient, the billing provider (the practice), dates, the payer;
- ``marts.fct_claim_lines`` and ``marts.fct_charges.procedure_label``: the services, labelled
  with our own short labels (``seeds/code_sets/procedure_codes.csv``). CPT descriptors are
  licensed, so a code without a label is printed as the bare code, never with invented text;
- ``marts.dim_patients`` (name, address), ``marts.dim_providers`` (practice name and pay-to
  address), ``marts.dim_payers`` (payer name).

Who gets a statement: every patient whose claims' ``patient_responsibility_amount`` sums to
more than 0 (self-pay claims included). Listed are that patient's claims with a patient
responsibility other than 0, so the listed amounts add up to the total due. Each claim shows
its lines (date, code, label, charge) and a total row with charges = insurance paid +
adjustments + pending with insurance + patient amount due (the identity dbt tests on
``fct_claim_balances``), so every row adds up for the reader.

One PDF per patient, one section per practice. The billing providers in the extract are
separate organisations (own name, tax id and address), so a patient seen by two of them owes
two creditors: each practice gets its own page(s) and its own remittance stub with its own
pay-to address, and the first page states the total across them.

Figures are the marts' current balances; ``as_of`` is the statement date (printed, in the
file name and the PDF's creation date), not a cut-off. No patient payments are recorded
anywhere yet, so the amount due is the patient responsibility itself.

A patient whose statement cannot be addressed (no patient row or address, or a practice
without name or address) is held with a reason naming only ids; nothing here logs or prints
names, dates of birth or member ids.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FILE_MODE = 0o600
FOLDER_MODE = 0o700
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


# --------------------------------------------------------------------------------------------
# The statement, as data


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    state: str
    zip: str

    def lines(self) -> list[str]:
        zip_code = f"{self.zip[:5]}-{self.zip[5:]}" if len(self.zip) == 9 else self.zip
        return [
            self.name,
            self.line1,
            *([self.line2] if self.line2 else []),
            f"{self.city}, {self.state} {zip_code}",
        ]


@dataclass(frozen=True)
class ServiceLine:
    service_date: date
    procedure_code: str
    label: str | None
    charge_amount: Decimal


@dataclass(frozen=True)
class ClaimBalance:
    claim_id: str
    service_date: date
    payer_name: str | None  # None: self-pay
    lines: tuple[ServiceLine, ...]
    charge_amount: Decimal
    insurance_paid_amount: Decimal
    adjustment_amount: Decimal  # contractual + other adjustments
    insurance_pending_amount: Decimal  # open insurance balance
    patient_amount: Decimal  # patient responsibility: what the patient owes on the claim


@dataclass(frozen=True)
class PracticeSection:
    """The claims one practice (billing provider) bills the patient for, with its stub."""

    provider_id: str
    pay_to: Address
    claims: tuple[ClaimBalance, ...]

    def total(self, amount: Callable[[ClaimBalance], Decimal]) -> Decimal:
        return sum((amount(c) for c in self.claims), ZERO)

    @property
    def amount_due(self) -> Decimal:
        return self.total(lambda c: c.patient_amount)


@dataclass(frozen=True)
class PatientStatement:
    patient_id: str  # the account number
    statement_date: date
    patient: Address
    sections: tuple[PracticeSection, ...]

    @property
    def amount_due(self) -> Decimal:
        return sum((s.amount_due for s in self.sections), ZERO)


@dataclass(frozen=True)
class HeldStatement:
    """A patient who owes money but cannot be sent a statement (reason names ids only)."""

    patient_id: str
    amount_due: Decimal
    reason: str


@dataclass(frozen=True)
class StatementBatch:
    statements: tuple[PatientStatement, ...]
    held: tuple[HeldStatement, ...]

    @property
    def total_due(self) -> Decimal:
        return sum((s.amount_due for s in self.statements), ZERO)

    @property
    def held_amount(self) -> Decimal:
        return sum((h.amount_due for h in self.held), ZERO)


# --------------------------------------------------------------------------------------------
# Reading the marts

_STATEMENT_CLAIMS = """
with balances as (
    select
        claims.patient_id,
        claims.claim_id,
        claims.billing_provider_id,
        claims.payer_id,
        claims.service_date,
        balances.is_self_pay,
        balances.charge_amount,
        balances.paid_amount,
        (
            balances.contractual_adjustment_amount + balances.other_adjustment_amount
        )::decimal(18, 2) as adjustment_amount,
        balances.open_balance_amount,
        balances.patient_responsibility_amount
    from marts.fct_claim_balances as balances
    inner join marts.fct_claims as claims
        on balances.claim_id = claims.claim_id
),

owing_patients as (
    select patient_id
    from balances
    group by patient_id
    having sum(patient_responsibility_amount) > 0
),

statement_claims as (
    select balances.*
    from balances
    inner join owing_patients
        on balances.patient_id = owing_patients.patient_id
    where balances.patient_responsibility_amount <> 0
)
"""

_CLAIMS_SQL = (
    _STATEMENT_CLAIMS
    + """
select statement_claims.*, payers.payer_name
from statement_claims
left join marts.dim_payers as payers
    on statement_claims.payer_id = payers.payer_id
order by statement_claims.patient_id, statement_claims.billing_provider_id,
    statement_claims.service_date, statement_claims.claim_id
"""
)

_LINES_SQL = (
    _STATEMENT_CLAIMS
    + """
select
    lines.claim_id,
    lines.line_number,
    lines.service_date,
    lines.procedure_code,
    charges.procedure_label,
    lines.charge_amount
from marts.fct_claim_lines as lines
inner join statement_claims
    on lines.claim_id = statement_claims.claim_id
left join marts.fct_charges as charges
    on lines.charge_id = charges.charge_id
order by lines.claim_id, lines.line_number
"""
)

_PATIENTS_SQL = (
    _STATEMENT_CLAIMS
    + """
select
    patient_id, first_name, middle_initial, last_name,
    address_line1, address_line2, city, state, zip
from marts.dim_patients
where patient_id in (select patient_id from owing_patients)
"""
)

_PRACTICES_SQL = (
    _STATEMENT_CLAIMS
    + """
select provider_id, organization_name, first_name, last_name, address_line1, city, state, zip
from marts.dim_providers
where provider_id in (select billing_provider_id from statement_claims)
"""
)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Rows as dicts; through Arrow, so DECIMAL comes back as Decimal (``.df()`` gives float)."""
    rows: list[dict[str, Any]] = con.sql(sql).to_arrow_table().to_pylist()
    return rows


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _patient_address(row: dict[str, Any]) -> Address | None:
    name = " ".join(
        part
        for part in (
            _text(row["first_name"]),
            f"{_text(row['middle_initial'])}." if _text(row["middle_initial"]) else "",
            _text(row["last_name"]),
        )
        if part
    )
    parts = [name, _text(row["address_line1"]), _text(row["city"]), _text(row["state"])]
    if not all(parts) or not _text(row["zip"]):
        return None
    return Address(
        name=name,
        line1=_text(row["address_line1"]),
        line2=_text(row["address_line2"]) or None,
        city=_text(row["city"]),
        state=_text(row["state"]),
        zip=_text(row["zip"]),
    )


def _practice_address(row: dict[str, Any]) -> Address | None:
    name = _text(row["organization_name"]) or " ".join(
        p for p in (_text(row["first_name"]), _text(row["last_name"])) if p
    )
    parts = [name, _text(row["address_line1"]), _text(row["city"]), _text(row["state"])]
    if not all(parts) or not _text(row["zip"]):
        return None
    return Address(
        name=name,
        line1=_text(row["address_line1"]),
        line2=None,
        city=_text(row["city"]),
        state=_text(row["state"]),
        zip=_text(row["zip"]),
    )


def read_statements(warehouse: Path, as_of: date) -> StatementBatch:
    """Every patient who owes a balance after insurance, as statements dated ``as_of``
    (opens the warehouse read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        claim_rows = _rows(con, _CLAIMS_SQL)
        line_rows = _rows(con, _LINES_SQL)
        patients = {str(r["patient_id"]): _patient_address(r) for r in _rows(con, _PATIENTS_SQL)}
        practices = {
            str(r["provider_id"]): _practice_address(r) for r in _rows(con, _PRACTICES_SQL)
        }
    return build_statements(claim_rows, line_rows, patients, practices, as_of)


def build_statements(
    claim_rows: Iterable[dict[str, Any]],
    line_rows: Iterable[dict[str, Any]],
    patients: dict[str, Address | None],
    practices: dict[str, Address | None],
    as_of: date,
) -> StatementBatch:
    """Group claim rows (ordered by patient, practice, date, claim) into statements."""
    lines: dict[str, list[ServiceLine]] = {}
    for row in line_rows:
        lines.setdefault(str(row["claim_id"]), []).append(
            ServiceLine(
                service_date=row["service_date"],
                procedure_code=_text(row["procedure_code"]),
                label=_text(row["procedure_label"]) or None,
                charge_amount=Decimal(row["charge_amount"]),
            )
        )
    by_patient: dict[str, dict[str, list[ClaimBalance]]] = {}
    for row in claim_rows:
        claim_id = str(row["claim_id"])
        claim = ClaimBalance(
            claim_id=claim_id,
            service_date=row["service_date"],
            payer_name=None if row["is_self_pay"] else (_text(row["payer_name"]) or None),
            lines=tuple(lines.get(claim_id, ())),
            charge_amount=Decimal(row["charge_amount"]),
            insurance_paid_amount=Decimal(row["paid_amount"]),
            adjustment_amount=Decimal(row["adjustment_amount"]),
            insurance_pending_amount=Decimal(row["open_balance_amount"]),
            patient_amount=Decimal(row["patient_responsibility_amount"]),
        )
        practice_claims = by_patient.setdefault(str(row["patient_id"]), {})
        practice_claims.setdefault(str(row["billing_provider_id"]), []).append(claim)

    statements: list[PatientStatement] = []
    held: list[HeldStatement] = []
    for patient_id in sorted(by_patient):
        claims_by_practice = by_patient[patient_id]
        due = sum((c.patient_amount for cs in claims_by_practice.values() for c in cs), ZERO)
        patient = patients.get(patient_id)
        if patient is None:
            held.append(HeldStatement(patient_id, due, "no name or mailing address on file"))
            continue
        pay_to = {p: practices.get(p) for p in claims_by_practice}
        unaddressed = sorted(p for p, address in pay_to.items() if address is None)
        if unaddressed:
            held.append(
                HeldStatement(
                    patient_id,
                    due,
                    "no name or pay-to address for billing provider(s) " + ", ".join(unaddressed),
                )
            )
            continue
        sections = tuple(
            PracticeSection(provider_id, address, tuple(claims_by_practice[provider_id]))
            for provider_id, address in sorted(pay_to.items())
            if address is not None
        )
        statements.append(PatientStatement(patient_id, as_of, patient, sections))
    return StatementBatch(tuple(statements), tuple(held))


# --------------------------------------------------------------------------------------------
# Rendering


def format_money(amount: Decimal) -> str:
    """``$1,234.56``; negative amounts (credits) ``-$1,234.56``."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def _us_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")


# Typography the core fonts cannot show, mapped to what they can.
_LATIN1_SUBSTITUTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def latin1(text: str) -> str:
    """Text the PDF core fonts can show: latin-1 kept, typography substituted, accents of
    other letters dropped (``Ł`` stays a ``?``, ``ő`` becomes ``o``), control characters out."""
    out: list[str] = []
    for char in text.translate(_LATIN1_SUBSTITUTES):
        if char in "\t\r\n":
            out.append(" ")
            continue
        if unicodedata.category(char).startswith("C"):
            continue
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(c) and c.isascii()
            )
            out.append(base or "?")
    return "".join(out)


_SAFE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def statement_file_name(patient_id: str, statement_date: date) -> str:
    """``statement_<patient id>_<YYYY-MM-DD>.pdf``: a key with no PHI. An id with characters
    unsafe in a file name has them replaced and a short hash of the id appended, so two ids
    never share a file."""
    key = patient_id
    if not _SAFE_KEY.fullmatch(patient_id):
        digest = hashlib.sha256(patient_id.encode("utf-8")).hexdigest()[:8]
        key = re.sub(r"[^A-Za-z0-9_-]", "_", patient_id) + f"_{digest}"
    return f"statement_{key}_{statement_date.isoformat()}.pdf"


FONT = "Helvetica"
PAGE_HEIGHT = 279.4  # US letter, mm
MARGIN = 15.0
STUB_TOP = PAGE_HEIGHT - 82.0  # the perforation; the stub fills the rest of the last page
TABLE_HEADINGS = (
    "Date",
    "Code",
    "Service",
    "Charges",
    "Insurance paid",
    "Adjustments",
    "Insurance pending",
    "You owe",
)
TABLE_WIDTHS = (18, 14, 59, 19, 19, 19, 19, 19)
BOLD = FontFace(emphasis="BOLD")


class _StatementPdf(FPDF):
    def __init__(self, account: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self._account = account

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, size=7)
        self.cell(0, 4, f"Account {self._account} - page {self.page_no()} of {{nb}}", align="C")


def _write(pdf: FPDF, text: str, size: float = 9, style: str = "", height: float = 4.5) -> None:
    pdf.set_font(FONT, style=style, size=size)
    pdf.cell(0, height, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _lines_at(pdf: FPDF, x: float, y: float, lines: Sequence[str], size: float = 10) -> None:
    pdf.set_font(FONT, size=size)
    for index, text in enumerate(lines):
        pdf.set_xy(x, y + index * size * 0.45)
        pdf.cell(90, size * 0.45, latin1(text))


def _key_values(
    pdf: FPDF, x: float, y: float, pairs: Sequence[tuple[str, str]], width: float = 75
) -> float:
    """A boxed two-column list; returns the y below it."""
    row = 6.0
    pdf.rect(x, y, width, row * len(pairs))
    for index, (key, value) in enumerate(pairs):
        pdf.set_xy(x + 2, y + index * row)
        pdf.set_font(FONT, size=9)
        pdf.cell(width / 2, row, latin1(key))
        pdf.set_font(FONT, style="B", size=10)
        pdf.cell(width / 2 - 4, row, latin1(value), align="R")
    return y + row * len(pairs)


def _header(pdf: FPDF, statement: PatientStatement, section: PracticeSection) -> None:
    pay_to = section.pay_to.lines()
    pdf.set_xy(MARGIN, MARGIN)
    pdf.set_font(FONT, style="B", size=13)
    pdf.cell(100, 6, latin1(pay_to[0]))
    _lines_at(pdf, MARGIN, MARGIN + 7, pay_to[1:], size=9)

    pdf.set_xy(125, MARGIN)
    pdf.set_font(FONT, style="B", size=14)
    pdf.cell(75, 6, "PATIENT STATEMENT", align="R")
    _key_values(
        pdf,
        125,
        MARGIN + 8,
        [
            ("Statement date", _us_date(statement.statement_date)),
            ("Account number", statement.patient_id),
            (
                "Amount due" if len(statement.sections) == 1 else "Due to this practice",
                format_money(section.amount_due),
            ),
        ],
    )
    # Where a window envelope shows the recipient.
    _lines_at(pdf, MARGIN + 5, 52, statement.patient.lines(), size=10)
    pdf.set_xy(MARGIN, 80)


def _services_table(pdf: FPDF, section: PracticeSection) -> None:
    pdf.set_font(FONT, size=8)
    pdf.set_draw_color(160)
    with pdf.table(
        col_widths=TABLE_WIDTHS,
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        line_height=4,
        padding=(0.8, 1, 0.8, 1),
        headings_style=FontFace(emphasis="BOLD", fill_color=230),
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for text in TABLE_HEADINGS:
            heading.cell(text)
        for claim in section.claims:
            for line in claim.lines:
                row = table.row()
                row.cell(_us_date(line.service_date))
                row.cell(latin1(line.procedure_code))
                row.cell(latin1(line.label or ""))
                row.cell(format_money(line.charge_amount))
                for _ in range(4):
                    row.cell("")
            billed_to = f"billed to {claim.payer_name}" if claim.payer_name else "self-pay"
            row = table.row()
            row.cell(_us_date(claim.service_date), style=BOLD)
            row.cell(
                latin1(f"Visit total, claim {claim.claim_id}, {billed_to}"),
                colspan=2,
                style=BOLD,
            )
            for amount in (
                claim.charge_amount,
                claim.insurance_paid_amount,
                claim.adjustment_amount,
                claim.insurance_pending_amount,
                claim.patient_amount,
            ):
                row.cell(format_money(amount), style=BOLD)
    pdf.set_draw_color(0)


def _summary(pdf: FPDF, section: PracticeSection) -> None:
    pairs = [
        ("Charges", format_money(section.total(lambda c: c.charge_amount))),
        ("Insurance paid", format_money(section.total(lambda c: c.insurance_paid_amount))),
        ("Adjustments", format_money(section.total(lambda c: c.adjustment_amount))),
    ]
    pending = section.total(lambda c: c.insurance_pending_amount)
    if pending:
        pairs.append(("Insurance pending", format_money(pending)))
    pairs.append(("Amount due", format_money(section.amount_due)))
    if pdf.get_y() + 6 * len(pairs) + 16 > PAGE_HEIGHT - MARGIN:
        pdf.add_page()
    y = _key_values(pdf, 125, pdf.get_y() + 3, pairs)
    pdf.set_xy(MARGIN, y + 2)
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(
        0,
        3.8,
        latin1(
            "Insurance payments and adjustments are as your insurance reported them to date. "
            f"Questions about this statement: contact {section.pay_to.name} and quote your "
            "account number."
        ),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def _stub(pdf: FPDF, statement: PatientStatement, section: PracticeSection) -> None:
    if pdf.get_y() > STUB_TOP - 4:
        pdf.add_page()
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.line(MARGIN, STUB_TOP, 216 - MARGIN, STUB_TOP)
    pdf.set_dash_pattern()
    pdf.set_xy(MARGIN, STUB_TOP + 1)
    _write(pdf, "Please detach and return this portion with your payment.", size=7)

    top = STUB_TOP + 9
    pdf.set_xy(MARGIN, top)
    pdf.set_font(FONT, style="B", size=9)
    pdf.cell(90, 5, "Make checks payable to and mail to:")
    _lines_at(pdf, MARGIN + 5, top + 7, section.pay_to.lines(), size=10)

    pdf.set_xy(125, top)
    pdf.set_font(FONT, style="B", size=9)
    pdf.cell(75, 5, "REMITTANCE", align="R")
    y = _key_values(
        pdf,
        125,
        top + 7,
        [
            ("Account number", statement.patient_id),
            ("Statement date", _us_date(statement.statement_date)),
            ("Amount due", format_money(section.amount_due)),
            ("Amount enclosed", "$ ____________"),
        ],
    )
    pdf.set_xy(125, y + 2)
    pdf.set_font(FONT, size=7)
    pdf.multi_cell(75, 3.5, "Write your account number on your check.")


def render_statement(statement: PatientStatement) -> bytes:
    """The statement as PDF bytes; the same statement always gives the same bytes (the PDF's
    creation date is the statement date, and no other clock or random value goes in)."""
    pdf = _StatementPdf(statement.patient_id)
    created = datetime(
        statement.statement_date.year,
        statement.statement_date.month,
        statement.statement_date.day,
        tzinfo=UTC,
    )
    pdf.set_creation_date(created)
    pdf.set_title(f"Patient statement {statement.statement_date.isoformat()}")
    pdf.set_author("revcycle")
    pdf.set_creator("revcycle")
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    count = len(statement.sections)
    for number, section in enumerate(statement.sections, 1):
        pdf.add_page()
        _header(pdf, statement, section)
        if number == 1:
            _write(
                pdf,
                f"Total amount due: {format_money(statement.amount_due)}",
                size=11,
                style="B",
                height=6,
            )
            if count > 1:
                _write(
                    pdf,
                    f"You have balances with {count} practices. Each practice's pages list its "
                    "services and end with its own payment stub: please pay each one separately.",
                    size=8,
                )
        else:
            _write(pdf, f"Practice {number} of {count} on this statement.", size=8)
        pdf.ln(2)
        _services_table(pdf, section)
        _summary(pdf, section)
        _stub(pdf, statement, section)
    return bytes(pdf.output())


# --------------------------------------------------------------------------------------------
# Writing files


def _prepare_folder(folder: Path) -> None:
    """A folder created here is owner-only; an existing one (``--out``) keeps its mode."""
    if not folder.is_dir():
        folder.mkdir(parents=True)
        folder.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask; be explicit


def _write_private(path: Path, data: bytes) -> None:
    """Write owner-only, atomically: readers never see half a PDF."""
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    temp.chmod(FILE_MODE)  # a leftover temp file may have had another mode
    temp.replace(path)


def write_statements(
    statements: Sequence[PatientStatement],
    out_dir: Path,
    on_file: Callable[[Path], None] | None = None,
) -> tuple[Path, ...]:
    """Write each statement to ``out_dir/statement_<patient id>_<date>.pdf`` (0600; the
    folder 0700 when created here), replacing a file of the same patient and date. Returns
    the paths, in order."""
    _prepare_folder(out_dir)
    written: list[Path] = []
    for statement in statements:
        path = out_dir / statement_file_name(statement.patient_id, statement.statement_date)
        _write_private(path, render_statement(statement))
        written.append(path)
        if on_file is not None:
            on_file(path)
    return tuple(written)

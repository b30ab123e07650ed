"""835 (005010X221A1) health care claim payment/advice into the remittance tables.

``parse_835(data, file_name)`` fills the six tables of ``docs/remittance-tables.md``
(``remit_payments``, ``remit_claims``, ``remit_service_lines``, ``remit_adjustments``,
``remit_provider_adjustments``, ``remit_balance_checks``) from the segments of the project's
one tolerant reader (:func:`revcycle.x12.reader.iter_segments`).

Loops are told apart by position, which is all an 835 needs: ``CLP`` opens a claim (2100),
``SVC`` a service line (2110) inside it, and ``CLP``, ``LX``, ``PLB``, ``SE`` or the next
envelope close them. A ``CAS`` before the claim's first ``SVC`` is a claim adjustment, after it
a line adjustment. Header segments (``BPR``, ``TRN``, ``N1``, ``REF*2U``, ``DTM*405``) are
read wherever they appear before the transaction closes. Segments of other loops are skipped;
``NM1`` (patient names, member ids) is never read.

Balancing (recorded in ``remit_balance_checks``, never corrected; ``difference = actual -
expected``):

- ``line``: expected ``SVC02 - sum(line CAS)``, actual ``SVC03``;
- ``claim`` (every claim, with or without lines): expected ``CLP03 - sum(claim CAS) -
  sum(line CAS)``, actual ``CLP04``;
- ``transaction``: expected ``sum(CLP04) - sum(PLB amounts)``, actual ``BPR02`` (negated
  when ``BPR03`` is ``D``, a debit); a transaction without ``BPR`` is recorded unbalanced with
  a null actual amount.

Tolerance: several ISA/GS/ST per file, missing optional segments, claims without ``SVC``,
lines without ``CAS``, up to six (or more) ``CAS`` triplets and ``PLB`` pairs, reversals
(negative amounts), a composite written with another separator than ISA16 (``HC>99213``
when ISA16 is ``:``, seen in public samples), transactions other than 835 in the file
(skipped). A value that cannot be what the guide says (an amount that is not a plain decimal
number or has more than two decimal places, a required amount missing, an ``SVC`` or ``CAS``
outside a claim, amounts whose balance check would not fit ``DECIMAL(18,2)``) raises
:class:`~revcycle.x12.reader.X12ReadError` with the file name and segment position; the message
names the element, never its value. Nothing else escapes. A file without an 835 transaction
raises it too, at the position of its first transaction (an 837, say). An
impossible date is kept as null with a ``BAD_DATE`` entry in ``Remit835Tables.warnings``
(public samples have them). Envelope rules (SE counts, control numbers) are not checked here:
``read_interchanges`` or ``revcycle.x12.validate`` report those.

Speed: the file is streamed segment by segment (only the rows are kept). Money and quantity
text is turned into ``Decimal`` through caches that validate on a miss (amounts repeat through
a big file), short codes are interned, and rows are plain tuples (see
:mod:`revcycle.remits.tables` for why not ``NamedTuple``). A 100,000-claim file (34 MB,
1.36 million segments) takes about 2 CPU seconds, half of it in the reader;
``bench/bench_835_reader.py`` compares it with pyx12 and edi-835-parser (``bench/RESULTS.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Any

from revcycle.remits.tables import (
    MONEY_SCALE,
    QUANTITY_SCALE,
    AdjustmentRow,
    BalanceCheckRow,
    ClaimRow,
    PaymentRow,
    ProviderAdjustmentRow,
    RemitAdjustment,
    RemitBalanceCheck,
    RemitClaim,
    RemitPayment,
    RemitProviderAdjustment,
    RemitServiceLine,
    ServiceLineRow,
)
from revcycle.x12.reader import (
    DEFAULT_DELIMITERS,
    ReadWarning,
    Segment,
    X12ReadError,
    iter_segments,
)

__all__ = ["Remit835Tables", "parse_835", "parse_835_file"]


@dataclass(eq=False)
class Remit835Tables:
    """The six 835 tables of one file, in file order.

    ``*_rows`` hold the rows as plain tuples in column order (:data:`TABLE_COLUMNS`); this is
    what the parser builds and what :meth:`as_dict`, the writers and the loader use. The
    properties of the same names without ``_rows`` (``claims``, ``balance_checks`` ...) give
    the rows as named records (``claim.paid_amount``), built on first use and kept: handy in
    tests and small scripts, avoid them on big files (see :mod:`revcycle.remits.tables`).
    """

    file_name: str
    file_sha256: str
    payment_rows: list[PaymentRow] = field(default_factory=list)
    claim_rows: list[ClaimRow] = field(default_factory=list)
    service_line_rows: list[ServiceLineRow] = field(default_factory=list)
    adjustment_rows: list[AdjustmentRow] = field(default_factory=list)
    provider_adjustment_rows: list[ProviderAdjustmentRow] = field(default_factory=list)
    balance_check_rows: list[BalanceCheckRow] = field(default_factory=list)
    warnings: list[ReadWarning] = field(default_factory=list)
    """Findings that did not stop reading (an impossible date, recorded as null)."""

    def as_dict(self) -> dict[str, Sequence[tuple[Any, ...]]]:
        """``table name -> rows`` (plain tuples), the shape ``write_tables`` takes."""
        return {
            "remit_payments": self.payment_rows,
            "remit_claims": self.claim_rows,
            "remit_service_lines": self.service_line_rows,
            "remit_adjustments": self.adjustment_rows,
            "remit_provider_adjustments": self.provider_adjustment_rows,
            "remit_balance_checks": self.balance_check_rows,
        }

    @cached_property
    def payments(self) -> list[RemitPayment]:
        return list(map(RemitPayment._make, self.payment_rows))

    @cached_property
    def claims(self) -> list[RemitClaim]:
        return list(map(RemitClaim._make, self.claim_rows))

    @cached_property
    def service_lines(self) -> list[RemitServiceLine]:
        return list(map(RemitServiceLine._make, self.service_line_rows))

    @cached_property
    def adjustments(self) -> list[RemitAdjustment]:
        return list(map(RemitAdjustment._make, self.adjustment_rows))

    @cached_property
    def provider_adjustments(self) -> list[RemitProviderAdjustment]:
        return list(map(RemitProviderAdjustment._make, self.provider_adjustment_rows))

    @cached_property
    def balance_checks(self) -> list[RemitBalanceCheck]:
        return list(map(RemitBalanceCheck._make, self.balance_check_rows))

    @property
    def unbalanced(self) -> list[RemitBalanceCheck]:
        """The checks that failed, as records (cheap: built from the failing rows only)."""
        return [RemitBalanceCheck._make(row) for row in self.balance_check_rows if not row[7]]


# --------------------------------------------------------------------------------------------
# Value parsing: caches whose misses validate


class _BadValueError(Exception):
    """An element value that is not what the guide allows (raised on a cache miss)."""

    def __init__(self, value: str, kind: str) -> None:
        super().__init__(kind)
        self.value = value
        self.kind = kind


class _MissingError(Exception):
    """A required element is empty; ``index`` is its X12 element number."""

    def __init__(self, index: int, what: str) -> None:
        super().__init__(what)
        self.index = index
        self.what = what


class _StructureError(Exception):
    """A segment where the 835 structure does not allow it."""


class _TooLargeError(Exception):
    """Amounts whose balance (a sum) does not fit ``DECIMAL(18, 2)``: each amount does, but
    ``CLP03 - sum(CAS)`` of huge amounts may not, and the warehouse could not store the row."""

    def __init__(self, position: int, what: str) -> None:
        super().__init__(what)
        self.position = position


_CACHE_LIMIT = 200_000  # distinct texts kept per parse; beyond it values are parsed each time


class _DecimalCache(dict[str, Decimal | None]):
    """``text -> Decimal`` for X12 decimal (R) elements; ``""`` -> None.

    A dict so that a hit costs one C-level lookup; a miss (``__missing__``) validates the text:
    plain decimal notation only (``Decimal`` would also accept ``1e3``, ``NaN``, ``1_000``,
    non-ASCII digits), at most ``scale`` decimal places (zeros beyond are dropped: ``1.500`` ->
    ``1.50``) and ``18 - scale`` integer digits, the warehouse column being
    ``DECIMAL(18, scale)``. Claim totals rarely repeat, so misses are frequent: no regex.
    """

    __slots__ = ("kind", "max_whole", "scale")

    def __init__(self, scale: int, kind: str) -> None:
        super().__init__()
        self.scale = scale
        self.kind = kind
        self.max_whole = 18 - scale
        self[""] = None

    def __missing__(self, key: str) -> Decimal | None:
        text = key.strip(" ")
        value: Decimal | None = None
        if text:
            body = text[1:] if text[0] == "-" else text
            whole, _, fraction = body.partition(".")
            if not (
                (whole or fraction)
                and (not whole or whole.isdigit())
                and (not fraction or fraction.isdigit())
                and body.isascii()
            ):
                raise _BadValueError(key, self.kind)
            if len(fraction) > self.scale:
                if fraction[self.scale :].strip("0"):
                    raise _BadValueError(
                        key, f"{self.kind} with at most {self.scale} decimal places"
                    )
                text = text[: len(text) - len(fraction) + self.scale]
            if len(whole.lstrip("0")) > self.max_whole:
                raise _BadValueError(key, f"{self.kind} of at most {self.max_whole} integer digits")
            value = Decimal(text)
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


class _DateCache(dict[str, date | None]):
    """``CCYYMMDD -> date``; ``""`` -> None; anything else is a bad value."""

    def __init__(self) -> None:
        super().__init__()
        self[""] = None

    def __missing__(self, key: str) -> date | None:
        text = key.strip(" ")
        value: date | None = None
        if text:
            if len(text) != 8 or not (text.isascii() and text.isdigit()):
                raise _BadValueError(key, "CCYYMMDD date")
            try:
                value = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                raise _BadValueError(key, "CCYYMMDD date") from None
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


class _Codes(dict[str, str | None]):
    """Interns short codes (group, reason, procedure, modifier, status ...): ``""`` -> None.

    A big file repeats a few hundred codes a million times; keeping one string per distinct
    code instead of one per occurrence saves memory and, more so, allocation time.
    """

    def __init__(self) -> None:
        super().__init__()
        self[""] = None

    def __missing__(self, key: str) -> str:
        self[key] = key
        return key


def _components(value: str, separator: str) -> list[str]:
    """Split a composite; if ISA16 does not occur but the value reads ``XX?...`` with ``?``
    punctuation (``HC>99213`` in a file whose ISA16 is ``:``), split on that character."""
    parts = value.split(separator)
    if len(parts) == 1 and len(value) > 3 and not value[2].isalnum() and not value[2].isspace():
        parts = value.split(value[2])
    return parts


class _Procedures(dict[str, tuple[str | None, ...]]):
    """``SVC01 text -> (qualifier, code, modifier 1..4)``, None for absent parts.

    One lookup per service line instead of a split and six conversions: a file repeats a few
    hundred distinct procedure composites. Bound to one component separator.
    """

    def __init__(self, separator: str, codes: _Codes) -> None:
        super().__init__()
        self.separator = separator
        self.codes = codes

    def __missing__(self, key: str) -> tuple[str | None, ...]:
        codes = self.codes
        parts = [codes[part] for part in _components(key, self.separator)[:6]]
        value = (*parts, *_NONES)[:6]
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


def _rd8(dates: _DateCache, text: str) -> tuple[date | None, date | None]:
    """``CCYYMMDD-CCYYMMDD`` (a DTM05 ``RD8`` range, tolerated in DTM06)."""
    start, _, end = text.partition("-")
    return dates[start], dates[end or start]


_PAD = [""] * 20
_NONES: list[str | None] = [None] * 6
_ONE = Decimal(1)
_ZERO = Decimal("0.00")
_ENVELOPE = frozenset({"ISA", "GS", "GE", "IEA"})
_SUMS = Context(prec=38, traps=[InvalidOperation, Overflow, Inexact, DivisionByZero])
_MONEY_LIMIT = Decimal(10) ** (18 - MONEY_SCALE)  # DECIMAL(18, 2) holds |x| < 10**16
_TOO_LARGE = "add up to more than DECIMAL(18,2) holds (16 integer digits): the balance check"


def _storable(*amounts: Decimal | None) -> bool:
    return all(a is None or -_MONEY_LIMIT < a < _MONEY_LIMIT for a in amounts)


# --------------------------------------------------------------------------------------------
# The walk


def _walk(segments: Iterable[Segment], tables: Remit835Tables) -> int:
    """Fill ``tables`` from ``segments``; return the number of 835 transactions seen.

    One loop with the state in local variables, on purpose: it runs once per segment (1.3
    million times for a 100,000-claim file) and local variables are the cheapest state Python
    has. Rows are emitted when the segment that closes their loop arrives; the caller ends the
    stream with an ``IEA`` so that the last transaction is closed too.
    """
    file_name = tables.file_name
    sha_prefix = tables.file_sha256[:16]
    money = _DecimalCache(MONEY_SCALE, "decimal amount")
    quantities = _DecimalCache(QUANTITY_SCALE, "decimal quantity")
    dates = _DateCache()
    codes = _Codes()
    payments = tables.payment_rows
    claims = tables.claim_rows
    lines = tables.service_line_rows
    adjustments = tables.adjustment_rows
    provider_adjustments = tables.provider_adjustment_rows
    checks = tables.balance_check_rows
    add_adjustment = adjustments.append
    add_check = checks.append
    add_line = lines.append
    warnings = tables.warnings

    transactions = 0
    isa13: str | None = None
    component = ":"
    in_tx = False

    # transaction (payment) state
    payment_id = ""
    st02: str | None = None
    st_position = 0
    bpr: list[str] | None = None
    payment_amount: Decimal | None = None
    payment_date: date | None = None
    is_debit = False
    trn: list[str] | None = None
    payer_name: str | None = None
    payer_n104: str | None = None
    payer_2u: str | None = None
    payee: list[str] | None = None
    production_date: date | None = None
    sum_paid = _ZERO
    sum_plb = _ZERO

    # claim state (claim_id is None when no claim is open)
    claim_id: str | None = None
    clp: list[str] = _PAD
    clp_charge = clp_paid = _ZERO
    clp_patient: Decimal | None = None
    claim_position = 0
    claim_from: date | None = None
    claim_to: date | None = None
    received: date | None = None
    interest: Decimal | None = None
    coverage: Decimal | None = None
    claim_cas = _ZERO  # claim-level CAS
    lines_cas = _ZERO  # CAS of the claim's lines

    # line state (line_id is None when no line is open)
    line_id: str | None = None
    line_claim_id = ""  # claim_id of the open line (a str, where claim_id may be None)
    revenue_code: str | None = None
    original_procedure: str = ""
    procedure: tuple[str | None, ...] = tuple(_NONES)
    procedures = _Procedures(component, codes)
    line_charge = line_paid = _ZERO
    units: Decimal | None = None
    original_units: Decimal | None = None
    line_position = 0
    line_from: date | None = None
    line_to: date | None = None
    line_control: str | None = None
    allowed: Decimal | None = None
    remarks: list[str] | None = None  # LQ*HE codes, joined when the line closes (a string
    # grown by concatenation made many LQ segments quadratic)
    line_cas = _ZERO

    sid = ""
    el: list[str] = _PAD
    pos = 0
    try:
        for sid, el, pos, delimiters in segments:
            if not in_tx:
                if sid == "ST":
                    pass  # opened below
                elif sid == "ISA":
                    isa13 = el[13].strip() or None if len(el) > 13 else None
                    continue
                else:
                    continue  # GS, GE, IEA, segments of other transactions
            # ---- the most frequent segments first
            if sid == "DTM":
                if len(el) < 3:
                    el = el + _PAD
                qualifier = el[1]
                try:
                    day = dates[el[2]]
                    day_to = day
                    if day is None and len(el) > 6 and el[5] == "RD8":
                        day, day_to = _rd8(dates, el[6])
                except _BadValueError:
                    day = day_to = _bad_date(warnings, pos, "DTM02" if el[2].strip() else "DTM06")
                if line_id is not None:
                    if qualifier == "472":
                        line_from, line_to = day, day_to
                    elif qualifier == "150":
                        line_from = day
                    elif qualifier == "151":
                        line_to = day
                elif claim_id is not None:
                    if qualifier == "232":
                        claim_from = day
                        if day_to is not day:
                            claim_to = day_to
                    elif qualifier == "233":
                        claim_to = day
                    elif qualifier == "050":
                        received = day
                elif qualifier == "405":
                    production_date = day
                continue
            if sid == "CAS":
                if claim_id is None:
                    raise _StructureError("CAS outside a claim (2100) loop")
                count = len(el)
                if line_id is not None:
                    parent, level = line_id, "line"
                else:
                    parent, level = claim_id, "claim"
                if (count == 4 or count == 5) and el[3]:  # one triplet: the common case
                    amount = money[el[3]]
                    if amount is None:
                        raise _MissingError(3, "adjustment amount")
                    add_adjustment(
                        (
                            f"{parent}-{pos}-1",
                            claim_id,
                            line_id,
                            level,
                            codes[el[1]],
                            codes[el[2]],
                            amount,
                            quantities[el[4]] if count == 5 else None,
                            pos,
                        )
                    )
                    if line_id is not None:
                        line_cas += amount
                    else:
                        claim_cas += amount
                    continue
                group = codes[el[1]] if count > 1 else None
                total = _ZERO
                triplet = 0
                for index in range(2, count, 3):
                    triplet += 1
                    reason = el[index]
                    amount_text = el[index + 1] if index + 1 < count else ""
                    quantity_text = el[index + 2] if index + 2 < count else ""
                    if not (reason or amount_text or quantity_text):
                        continue
                    amount = money[amount_text]
                    if amount is None:
                        raise _MissingError(index + 1, "adjustment amount")
                    total += amount
                    add_adjustment(
                        (
                            f"{parent}-{pos}-{triplet}",
                            claim_id,
                            line_id,
                            level,
                            group,
                            codes[reason],
                            amount,
                            quantities[quantity_text],
                            pos,
                        )
                    )
                if line_id is not None:
                    line_cas += total
                else:
                    claim_cas += total
                continue
            if sid == "REF":
                if len(el) < 3:
                    el = el + _PAD
                qualifier = el[1]
                if line_id is not None:
                    if qualifier == "6R":
                        line_control = el[2] or None
                elif claim_id is None and qualifier == "2U":
                    payer_2u = el[2] or None
                continue
            if sid == "NM1":
                continue  # patient, insured, provider names: never kept
            if sid == "AMT":
                if len(el) < 3:
                    el = el + _PAD
                qualifier = el[1]
                if line_id is not None:
                    if qualifier == "B6":
                        allowed = money[el[2]]
                elif claim_id is not None:
                    if qualifier == "I":
                        interest = money[el[2]]
                    elif qualifier == "AU":
                        coverage = money[el[2]]
                continue
            if sid == "LQ":
                if line_id is not None and len(el) > 2 and el[1] == "HE" and el[2]:
                    if remarks is None:
                        remarks = [el[2]]
                    else:
                        remarks.append(el[2])
                continue
            if sid not in ("SVC", "CLP", "LX", "PLB", "SE", "ST") and sid not in _ENVELOPE:
                if sid == "BPR":
                    bpr = el + _PAD if len(el) < 17 else el
                    payment_amount = money[bpr[2]]
                    if payment_amount is None:
                        raise _MissingError(2, "total payment amount")
                    is_debit = bpr[3] == "D"
                    try:
                        payment_date = dates[bpr[16]]
                    except _BadValueError:
                        payment_date = _bad_date(warnings, pos, "BPR16")
                elif sid == "TRN":
                    if trn is None:
                        trn = el + _PAD if len(el) < 4 else el
                elif sid == "N1":
                    n1 = el + _PAD if len(el) < 5 else el
                    if n1[1] == "PR":
                        payer_name, payer_n104 = n1[2] or None, n1[4] or None
                    elif n1[1] == "PE":
                        payee = n1
                continue

            # ---- boundaries: SVC, CLP, LX, PLB, SE, ST and envelopes close what is open
            if line_id is not None:
                expected = line_charge - line_cas
                difference = line_paid - expected
                if not difference:  # balanced: share objects instead of keeping two new ones
                    expected, difference = line_paid, _ZERO
                elif not _storable(expected, difference):
                    raise _TooLargeError(
                        line_position, f"the service line's amounts {_TOO_LARGE} cannot be stored"
                    )
                add_line(
                    (
                        line_id,
                        line_claim_id,
                        procedure[0],
                        procedure[1],
                        procedure[2],
                        procedure[3],
                        procedure[4],
                        procedure[5],
                        line_charge,
                        line_paid,
                        revenue_code,
                        _ONE if units is None else units,
                        (_components(original_procedure, component) + _PAD)[1] or None
                        if original_procedure
                        else None,
                        original_units,
                        line_from,
                        line_to,
                        line_control,
                        allowed,
                        ",".join(remarks) if remarks else None,
                        line_position,
                    )
                )
                add_check(
                    (
                        payment_id,
                        line_claim_id,
                        line_id,
                        "line",
                        expected,
                        line_paid,
                        difference,
                        not difference,
                    )
                )
                lines_cas += line_cas
                line_id = None

            if sid == "SVC":
                if claim_id is None:
                    raise _StructureError("SVC outside a claim (2100) loop")
                count = len(el)
                if count < 4:
                    el = el + _PAD
                procedure = procedures[el[1]]
                line_charge_value = money[el[2]]
                if line_charge_value is None:
                    raise _MissingError(2, "line charge amount")
                line_paid_value = money[el[3]]
                if line_paid_value is None:
                    raise _MissingError(3, "line paid amount")
                line_charge, line_paid = line_charge_value, line_paid_value
                revenue_code = codes[el[4]] if count > 4 else None
                units = quantities[el[5]] if count > 5 else None
                original_procedure = el[6] if count > 6 else ""
                original_units = quantities[el[7]] if count > 7 else None
                line_id = f"{claim_id}-{pos}"
                line_claim_id = claim_id
                line_position = pos
                line_from = line_to = None
                line_control = None
                allowed = None
                remarks = None
                line_cas = _ZERO
                continue

            if claim_id is not None:
                expected = clp_charge - claim_cas - lines_cas
                difference = clp_paid - expected
                if not difference:
                    expected, difference = clp_paid, _ZERO
                elif not _storable(expected, difference):
                    raise _TooLargeError(
                        claim_position, f"the claim's amounts {_TOO_LARGE} cannot be stored"
                    )
                claims.append(
                    (
                        claim_id,
                        payment_id,
                        clp[1] or None,
                        codes[clp[2]],
                        clp_charge,
                        clp_paid,
                        clp_patient,
                        codes[clp[6]],
                        clp[7] or None,
                        codes[clp[8]],
                        codes[clp[9]],
                        claim_from,
                        claim_to,
                        received,
                        interest,
                        coverage,
                        None,
                        claim_position,
                    )
                )
                add_check(
                    (
                        payment_id,
                        claim_id,
                        None,
                        "claim",
                        expected,
                        clp_paid,
                        difference,
                        not difference,
                    )
                )
                sum_paid += clp_paid
                claim_id = None

            if sid == "CLP":
                clp = el + _PAD if len(el) < 10 else el
                charge_value = money[clp[3]]
                if charge_value is None:
                    raise _MissingError(3, "total claim charge amount")
                paid_value = money[clp[4]]
                if paid_value is None:
                    raise _MissingError(4, "claim payment amount")
                clp_charge, clp_paid = charge_value, paid_value
                clp_patient = money[clp[5]]
                claim_id = f"{payment_id}-{pos}"
                claim_position = pos
                claim_from = claim_to = received = None
                interest = coverage = None
                claim_cas = lines_cas = _ZERO
                continue
            if sid == "LX":
                continue
            if sid == "PLB":
                plb = el + _PAD if len(el) < 5 else el
                provider_id = plb[1] or None
                try:
                    fiscal_date = dates[plb[2]]
                except _BadValueError:
                    fiscal_date = _bad_date(warnings, pos, "PLB02")
                count = len(el)
                pair = 0
                for index in range(3, count, 2):
                    pair += 1
                    adjustment = el[index]
                    amount_text = el[index + 1] if index + 1 < count else ""
                    if not (adjustment or amount_text):
                        continue
                    amount = money[amount_text]
                    if amount is None:
                        raise _MissingError(index + 1, "provider adjustment amount")
                    parts = _components(adjustment, component) + _PAD
                    sum_plb += amount
                    provider_adjustments.append(
                        (
                            f"{payment_id}-{pos}-{pair}",
                            payment_id,
                            provider_id,
                            fiscal_date,
                            parts[0] or None,
                            parts[1] or None,
                            amount,
                            pos,
                        )
                    )
                continue

            # ---- SE, ST or an envelope segment: the transaction ends
            if in_tx:
                actual: Decimal | None = None
                if payment_amount is not None:
                    actual = -payment_amount if is_debit else payment_amount
                expected = sum_paid - sum_plb
                difference_or_none = None if actual is None else actual - expected
                if not _storable(expected, difference_or_none):
                    raise _TooLargeError(
                        st_position,
                        f"the payment's claim and PLB amounts {_TOO_LARGE} cannot be stored",
                    )
                add_check(
                    (
                        payment_id,
                        None,
                        None,
                        "transaction",
                        expected,
                        actual,
                        difference_or_none,
                        difference_or_none is not None and not difference_or_none,
                    )
                )
                b = bpr if bpr is not None else _PAD
                t = trn if trn is not None else _PAD
                e = payee if payee is not None else _PAD
                payments.append(
                    (
                        payment_id,
                        file_name,
                        tables.file_sha256,
                        isa13,
                        st02,
                        b[1] or None,
                        payment_amount,
                        b[3] or None,
                        b[4] or None,
                        payment_date,
                        t[2] or None,
                        t[3] or None,
                        payer_name,
                        payer_2u or payer_n104 or t[3] or None,
                        e[2] or None,
                        e[3] or None,
                        e[4] or None,
                        production_date,
                        st_position,
                    )
                )
                in_tx = False
            if sid == "ST":
                if len(el) > 1 and el[1].strip() == "835":
                    transactions += 1
                    in_tx = True
                    if component != delimiters.component:
                        component = delimiters.component
                        procedures = _Procedures(component, codes)
                    st02 = el[2].strip() or None if len(el) > 2 else None
                    payment_id = f"{sha_prefix}-{st02 or ''}-{pos}"
                    st_position = pos
                    bpr = trn = payee = None
                    payment_amount = None
                    is_debit = False
                    payment_date = production_date = None
                    payer_name = payer_n104 = payer_2u = None
                    sum_paid = sum_plb = _ZERO
            elif sid == "ISA":
                isa13 = el[13].strip() or None if len(el) > 13 else None
    except _BadValueError as bad:
        raise X12ReadError(
            file_name, pos, f"{_element_name(sid, el, bad.value)} is not a valid {bad.kind}"
        ) from None
    except _MissingError as missing:
        raise X12ReadError(
            file_name, pos, f"{sid}{missing.index:02d} ({missing.what}) is missing"
        ) from None
    except _StructureError as wrong:
        raise X12ReadError(file_name, pos, str(wrong)) from None
    except _TooLargeError as too_large:
        raise X12ReadError(file_name, too_large.position, str(too_large)) from None
    return transactions


def _bad_date(warnings: list[ReadWarning], position: int, element: str) -> date | None:
    """An impossible date is kept as null with a warning: dates are not money, and public
    835 samples carry such dates (``BPR16`` ``20002316``)."""
    warnings.append(
        ReadWarning(position, "BAD_DATE", f"{element} is not a valid CCYYMMDD date; kept as null")
    )
    return None


def _element_name(sid: str, elements: list[str], value: str) -> str:
    """``CLP04`` for the element holding ``value`` (``PLB04``, ``DTM02`` ...), else the id."""
    for index, element in enumerate(elements):
        if index and element == value:
            return f"{sid}{index:02d}"
    return sid


def parse_835(data: bytes, file_name: str) -> Remit835Tables:
    """Read every 835 transaction of ``data`` into the remittance tables.

    ``file_name`` is used in ids' place only through the file's sha256 (ids are
    ``<sha256[:16]>-<ST02>-<positions>``), and in the ``file_name`` column and error messages.
    Raises :class:`~revcycle.x12.reader.X12ReadError` when the data is not X12, holds no 835
    transaction, or has a value the tables cannot hold; no other exception.
    """
    tables = Remit835Tables(file_name=file_name, file_sha256=hashlib.sha256(data).hexdigest())
    try:
        segments = iter_segments(data, file_name)
        end = Segment("IEA", ["IEA"], 0, DEFAULT_DELIMITERS)  # closes whatever is still open
        # Sums run in a context of our own: another module's precision cannot round them, and
        # a sum that would need rounding raises instead of drifting. The garbage collector is
        # left running (unlike the reader's read_interchanges): rows are plain tuples of
        # atomic values, which its first pass over them untracks, so it stays cheap.
        with localcontext(_SUMS):
            transactions = _walk(chain(segments, (end,)), tables)
    except X12ReadError:
        raise
    except Exception as exc:  # a parser bug must still surface as the project's error
        raise X12ReadError(
            file_name, None, f"unexpected error reading the 835 ({type(exc).__name__})"
        ) from exc
    if not transactions:
        raise no_transaction_error(data, file_name, "no 835 transaction (ST*835) in the file")
    return tables


def no_transaction_error(data: bytes, file_name: str, message: str) -> X12ReadError:
    """The error for a readable file without the transaction a parser wants (an 837 dropped
    into the 835 inbox, say), pointing at what the file holds instead: its first ST, else the
    last segment read. Only called on that error path: it reads the file a second time."""
    first: Segment | None = None
    last = 0
    try:
        for seg in iter_segments(data, file_name):
            last = seg.position
            if first is None and seg.id == "ST":
                first = seg
    except X12ReadError:  # pragma: no cover - the parser read the same data without error
        return X12ReadError(file_name, None, message)
    if first is not None:
        kind = first.get(1).strip()
        if not (kind.isascii() and kind.isalnum() and len(kind) <= 6):
            kind = "unrecognised"  # ST01 is a code, but do not echo arbitrary text
        return X12ReadError(
            file_name, first.position, f"{message}: its first transaction set is {kind} (ST01)"
        )
    return X12ReadError(file_name, last or None, f"{message}: no ST segment in its {last} segments")


def parse_835_file(path: str | Path) -> Remit835Tables:
    """:func:`parse_835` on a file; the tables and errors name the file, not its full path."""
    path = Path(path)
    return parse_835(path.read_bytes(), path.name)

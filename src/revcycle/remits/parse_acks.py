"""Acknowledgments in: 999 (005010X231A1) and 277CA (005010X214) into their tables.

``parse_999(data, file_name)`` -> rows of ``ack_999_transactions``: one per AK2 (a transaction
set the receiver acknowledged), or one per AK1 group that has no AK2. ``transaction_status`` is
IK501 (A accepted, E accepted with errors, M, R rejected, W, X), ``group_status`` AK901.
``error_summary`` lists the IK3 segment errors and IK4 element errors as ``NM1 at position
17: 8; NM1 at position 17, element 3: 7`` followed by the IK502-IK506 transaction codes
(``transaction: 5``) and, on a group row, the AK905-AK909 codes (``group: 2``);
``error_count`` counts the IK3 and IK4 segments. IK404 (a copy of the bad data, possibly a
name or member id) is never kept. 4010 997 files (AK3/AK4/AK5) are read the same way.

``parse_277ca(data, file_name)`` -> rows of ``ack_277ca_claims``: one per claim status loop,
i.e. a ``TRN*2`` (the claim's patient control number) under a patient level HL (``PT`` in
277CA; ``22``/``23`` subscriber/dependent in a 277 claim status response, 005010X212, which is
read the same way). Per claim: the first claim-level ``STC`` gives ``status_category`` /
``status_code`` (STC01-1/-2), ``status_effective_date`` (STC02) and ``total_charge_amount``
(STC04); ``status_codes`` lists every STC01/STC10/STC11 composite of the claim
(``A7:562:85; A7:21``); ``is_accepted`` is False when any of them has a rejection category
(A3, A4, A6, A7, A8), else True when one has an acknowledgment category (A0, A1, A2, A5),
else null (e.g. the pending/finalized categories of a 277 status response). ``REF*1K`` is the
payer claim control number, ``service_date`` the claim's ``DTP*472`` (start of an RD8 range),
else its first service line's. Service line (``SVC``) statuses are not rows.
Information source/receiver/provider level ``STC`` (batch acceptance) are not claim rows.

The 999 reader walks :func:`revcycle.x12.reader.iter_transactions`; the 277CA reader, whose
files hold one row per claim sent, walks :func:`revcycle.x12.reader.iter_segments` in one pass
(grouping segments into transactions the same way) and builds plain tuples
(:func:`parse_277ca_rows`, what the inbox loads; :func:`parse_277ca` names them). An amount
that is not a decimal number raises :class:`~revcycle.x12.reader.X12ReadError`, as does a
file with no 999/997 (or 277) transaction; impossible dates are kept as null. Names, birth
dates and member ids (``NM1``, ``DMG``) are never read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from revcycle.remits.parse_835 import (
    _BadValueError,
    _components,
    _DateCache,
    _DecimalCache,
    _element_name,
    no_transaction_error,
)
from revcycle.remits.tables import MONEY_SCALE, Ack277caClaim, Ack999Transaction
from revcycle.x12.reader import Segment, X12ReadError, iter_segments, iter_transactions

__all__ = ["Ack277caRow", "parse_277ca", "parse_277ca_rows", "parse_999"]

ACCEPTED_CATEGORIES = frozenset({"A0", "A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8"})
CLAIM_LEVELS = frozenset({"PT", "22", "23"})  # HL03 of the loops whose TRN*2 is a claim


_Row = TypeVar("_Row")


def _guarded(
    kind: str, parse: Callable[[bytes, str], list[_Row]], data: bytes, file_name: str
) -> list[_Row]:
    """Run ``parse``; whatever goes wrong surfaces as :class:`X12ReadError`, never another."""
    try:
        return parse(data, file_name)
    except X12ReadError:
        raise
    except Exception as exc:  # a parser bug must still surface as the project's error
        raise X12ReadError(
            file_name, None, f"unexpected error reading the {kind} ({type(exc).__name__})"
        ) from exc


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _none(value: str) -> str | None:
    value = value.strip()
    return value or None


# --------------------------------------------------------------------------------------------
# 999


@dataclass
class _Ak2:
    """An AK2 being read (or an AK1 group without AK2, when ``set_id`` is None)."""

    position: int
    set_id: str | None = None
    control_number: str | None = None
    status: str | None = None
    errors: list[str] = field(default_factory=list)
    error_count: int = 0


def _ik3_text(seg: Segment) -> str:
    """``NM1 at position 17: 8`` (IK301, IK302, IK304)."""
    text = f"{seg.get(1).strip() or '?'} at position {seg.get(2).strip() or '?'}"
    code = seg.get(4).strip()
    return f"{text}: {code}" if code else text


def _ik4_text(seg: Segment, context: str) -> str:
    """``NM1 at position 17, element 3: 7`` (IK401 as element[-component], IK403)."""
    where = "-".join(p for p in seg.composite(1) if p) or "?"
    code = seg.get(3).strip()
    text = f"{context}, element {where}"
    return f"{text}: {code}" if code else text


def _codes(seg: Segment, first: int, last: int) -> list[str]:
    return [seg.get(n).strip() for n in range(first, last + 1) if seg.get(n).strip()]


@dataclass
class _Group:
    """An AK1 functional group response being read."""

    position: int
    functional_id: str | None
    control_number: str | None
    ak2s: list[_Ak2] = field(default_factory=list)


def _group_rows(
    group: _Group, status: str | None, group_codes: list[str], prefix: str, file_name: str, sha: str
) -> list[Ack999Transaction]:
    """One row per AK2 of the group, or one for the group itself when it has no AK2."""
    entries = group.ak2s or [_Ak2(position=group.position)]
    rows = []
    for ak2 in entries:
        errors = list(ak2.errors)
        if ak2.set_id is None:
            errors.extend(f"group: {code}" for code in group_codes)
        rows.append(
            Ack999Transaction(
                ack_id=f"{prefix}-{ak2.position}",
                file_name=file_name,
                file_sha256=sha,
                acknowledged_group_control_number=group.control_number,
                functional_id=group.functional_id,
                acknowledged_transaction_set_id=ak2.set_id,
                acknowledged_transaction_control_number=ak2.control_number,
                transaction_status=ak2.status,
                group_status=status,
                error_count=ak2.error_count,
                error_summary="; ".join(errors) or None,
                position=ak2.position,
            )
        )
    return rows


def parse_999(data: bytes, file_name: str) -> list[Ack999Transaction]:
    """Rows of ``ack_999_transactions`` for every 999 (or 997) transaction in ``data``."""
    return _guarded("999", _parse_999, data, file_name)


def _parse_999(data: bytes, file_name: str) -> list[Ack999Transaction]:
    sha = _sha(data)
    rows: list[Ack999Transaction] = []
    seen = 0
    for _interchange, _group, tx in iter_transactions(data, file_name):
        if tx.transaction_set_id not in ("999", "997"):
            continue
        seen += 1
        prefix = f"{sha[:16]}-{tx.control_number}"
        group: _Group | None = None
        current: _Ak2 | None = None
        context = "?"  # "NM1 at position 17": the IK3 that the next IK4 details
        for seg in tx.segments:
            sid = seg.id
            if sid == "AK1":
                if group is not None:  # the previous group had no AK9
                    rows.extend(_group_rows(group, None, [], prefix, file_name, sha))
                group = _Group(seg.position, _none(seg.get(1)), _none(seg.get(2)))
                current = None
            elif sid == "AK2":
                if group is None:  # an AK2 without AK1: keep it, with unknown group
                    group = _Group(seg.position, None, None)
                current = _Ak2(seg.position, _none(seg.get(1)), _none(seg.get(2)))
                group.ak2s.append(current)
            elif current is not None and sid in ("IK3", "AK3"):
                text = _ik3_text(seg)
                context = text.partition(":")[0]
                current.errors.append(text)
                current.error_count += 1
            elif current is not None and sid in ("IK4", "AK4"):
                current.errors.append(_ik4_text(seg, context))
                current.error_count += 1
            elif current is not None and sid in ("IK5", "AK5"):
                current.status = _none(seg.get(1))
                current.errors.extend(f"transaction: {code}" for code in _codes(seg, 2, 6))
            elif sid == "AK9" and group is not None:
                rows.extend(
                    _group_rows(group, _none(seg.get(1)), _codes(seg, 5, 9), prefix, file_name, sha)
                )
                group = current = None
        if group is not None:
            rows.extend(_group_rows(group, None, [], prefix, file_name, sha))
    if not seen:
        raise no_transaction_error(data, file_name, "no 999 (or 997) transaction in the file")
    return rows


# --------------------------------------------------------------------------------------------
# 277CA


class _Claim277:
    """A claim status loop (2200D) being read."""

    __slots__ = (
        "composites",
        "first_stc",
        "line_service_date",
        "patient_control_number",
        "payer_claim_control_number",
        "position",
        "service_date",
    )

    def __init__(self, position: int, patient_control_number: str | None) -> None:
        self.position = position
        self.patient_control_number = patient_control_number
        self.payer_claim_control_number: str | None = None
        self.first_stc: Segment | None = None
        self.composites: list[list[str]] = []
        self.service_date: date | None = None
        self.line_service_date: date | None = None


def _accepted(composites: list[list[str]]) -> bool | None:
    categories = {parts[0].strip() for parts in composites if parts}
    if categories & REJECTED_CATEGORIES:
        return False
    if categories & ACCEPTED_CATEGORIES:
        return True
    return None


def _dtp_start(seg: Segment, dates: _DateCache) -> date | None:
    """DTP03 as D8, or the start of an RD8 range; an impossible date is null."""
    value = seg.get(3).strip()
    try:
        return dates[value.partition("-")[0]]
    except _BadValueError:
        return None


Ack277caRow = tuple[
    str, str, str, str | None, str | None, str | None, str | None, date | None, bool | None,
    Decimal | None, date | None, str | None, int,
]  # fmt: skip
"""A row of ``ack_277ca_claims`` as a plain tuple, in :class:`Ack277caClaim` column order."""


def _claim_row(
    claim: _Claim277,
    prefix: str,
    file_name: str,
    sha: str,
    money: _DecimalCache,
    dates: _DateCache,
) -> Ack277caRow:
    stc = claim.first_stc
    parts = claim.composites[0] if claim.composites else []
    effective: date | None = None
    total: Decimal | None = None
    if stc is not None:
        try:
            effective = dates[stc.get(2).strip()]
        except _BadValueError:
            effective = None  # an impossible date is kept as null
        try:
            total = money[stc.get(4)]
        except _BadValueError as bad:
            element = _element_name("STC", stc.elements, bad.value)
            raise X12ReadError(
                file_name, stc.position, f"{element} is not a valid {bad.kind}"
            ) from None
    codes = "; ".join(":".join(part.strip() for part in c) for c in claim.composites)
    return (
        f"{prefix}-{claim.position}",
        file_name,
        sha,
        claim.patient_control_number,
        claim.payer_claim_control_number,
        _none(parts[0]) if parts else None,
        _none(parts[1]) if len(parts) > 1 else None,
        effective,
        _accepted(claim.composites),
        total,
        claim.service_date or claim.line_service_date,
        codes or None,
        claim.position,
    )


def parse_277ca(data: bytes, file_name: str) -> list[Ack277caClaim]:
    """Rows of ``ack_277ca_claims`` for every 277 transaction in ``data``."""
    return list(map(Ack277caClaim._make, parse_277ca_rows(data, file_name)))


def parse_277ca_rows(data: bytes, file_name: str) -> list[Ack277caRow]:
    """:func:`parse_277ca` as plain tuples (cheaper to build and keep; what the inbox loads)."""
    return _guarded("277", _parse_277ca, data, file_name)


# Envelope segments: each closes the open transaction (as the reader's grouping does), an
# SE after being read as its last segment.
_CONTROL_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_PAD = ["", "", "", ""]


def _parse_277ca(data: bytes, file_name: str) -> list[Ack277caRow]:
    """One pass over the segments (no transaction objects): a transaction is an ST and the
    segments up to the next envelope segment, as :func:`iter_transactions` groups them, and
    its claims become rows when it closes, so errors surface in the same order."""
    sha = _sha(data)
    money = _DecimalCache(MONEY_SCALE, "decimal amount")
    dates = _DateCache()
    rows: list[Ack277caRow] = []
    seen = 0
    in_277 = False  # inside an open 277 transaction
    prefix = ""
    found: list[_Claim277] = []
    level = ""
    claim: _Claim277 | None = None  # the claim status loop being read, if any
    in_line = False

    for seg in iter_segments(data, file_name):
        sid, el = seg[0], seg[1]  # id and elements: tuple indexing is the cheapest access
        if sid in _CONTROL_IDS:
            if in_277:
                rows.extend(_claim_row(c, prefix, file_name, sha, money, dates) for c in found)
                in_277 = False
                found = []
                claim = None
            if sid == "ST" and seg.get(1).strip() == "277":
                seen += 1
                in_277 = True
                prefix = f"{sha[:16]}-{seg.get(2).strip()}"
                level = ""
                in_line = False
            continue
        if not in_277 or sid == "NM1":
            continue
        if len(el) < 4:
            el = el + _PAD  # el[1] .. el[3] read as "" when absent, as Segment.get does
        if sid == "HL":
            claim = None
            level = el[3].strip()
        elif sid == "TRN":
            claim = None
            if level in CLAIM_LEVELS and el[1].strip() == "2":
                claim = _Claim277(seg.position, _none(el[2]))
                found.append(claim)
                in_line = False
        elif claim is None:
            continue
        elif sid == "SVC":
            in_line = True
        elif sid == "STC" and not in_line:
            if claim.first_stc is None:
                claim.first_stc = seg
            separator = seg.delimiters.component
            for n in (1, 10, 11):
                value = el[n] if n < len(el) else ""
                if value.strip():
                    claim.composites.append(_components(value, separator))
        elif sid == "REF" and not in_line and el[1].strip() == "1K":
            claim.payer_claim_control_number = _none(el[2])
        elif sid == "DTP" and el[1].strip() == "472":
            if not in_line:
                claim.service_date = _dtp_start(seg, dates)
            elif claim.line_service_date is None:
                claim.line_service_date = _dtp_start(seg, dates)
    if in_277:
        rows.extend(_claim_row(c, prefix, file_name, sha, money, dates) for c in found)
    if not seen:
        raise no_transaction_error(data, file_name, "no 277 transaction in the file")
    return rows

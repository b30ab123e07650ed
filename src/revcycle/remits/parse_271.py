"""Eligibility responses in: 271 (005010X279A1) into their tables.

``parse_271(data, file_name)`` -> ``{"eligibility_responses": [...], "eligibility_benefits":
[...]}`` (:class:`~revcycle.remits.tables.EligibilityResponse`,
:class:`~revcycle.remits.tables.EligibilityBenefit`; the contract is
``docs/remittance-tables.md``).

One **response** per answered inquiry: a ``TRN*2`` (the trace of our 270, echoed) in a
subscriber (HL ``22``) or dependent (HL ``23``) loop. The response carries the envelope
(ISA13, ST02), ``BHT04`` (``response_date``), the payer of its 2000A (``NM1*PR`` 03/09), the
receiver id of its 2000B (``NM1*1P`` 09), the date it is about (``eligibility_date``: the
2100C/2100D ``DTP`` 291, else 307, else 346, start of a ``RD8`` range), the first ``AAA03``
of the loop (``reject_reason_code``: 72 invalid member id, 75 subscriber not found ...) and
``coverage_status``: ``active`` when an ``EB01`` is 1-5 (active coverage), else ``inactive``
when one is 6-8, else null (a rejection, or benefits without a status).

One **benefit** per ``EB`` of that loop: ``EB01`` code, ``EB02`` coverage level, ``EB03``
service types (repetitions joined with ``,``), ``EB04`` insurance type, ``EB05`` plan
description, ``EB06`` time period (27 visit, 29 remaining ...), ``EB07`` amount, ``EB08``
percent as sent (a fraction: 0.2 is 20 %), ``EB09``/``EB10`` quantity, ``EB11``
authorization required, ``EB12`` in-plan network (Y/N/U/W).

Read through :func:`revcycle.x12.reader.iter_transactions`. An amount, percent or quantity
that is not a decimal number raises :class:`~revcycle.x12.reader.X12ReadError`, as does a
file with no 271 transaction; impossible dates are kept as null. Names, birth dates,
addresses and member ids (``NM1*IL``/``NM1*03``, ``N3``, ``N4``, ``DMG``) are never read: the
trace number links a response to the inquiry (``ops.eligibility_inquiries``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from revcycle.remits.parse_835 import (
    _BadValueError,
    _DateCache,
    _DecimalCache,
    _element_name,
    no_transaction_error,
)
from revcycle.remits.tables import (
    MONEY_SCALE,
    QUANTITY_SCALE,
    EligibilityBenefit,
    EligibilityResponse,
)
from revcycle.x12.reader import Segment, X12ReadError, iter_transactions

__all__ = ["parse_271"]

ACTIVE_CODES = frozenset({"1", "2", "3", "4", "5"})
INACTIVE_CODES = frozenset({"6", "7", "8"})
_DATE_QUALIFIERS = ("291", "307", "346")  # preferred first
_LEVELS = {"22": "subscriber", "23": "dependent"}


def _none(value: str) -> str | None:
    value = value.strip()
    return value or None


@dataclass
class _Response:
    position: int
    trace_number: str | None
    trace_originator_id: str | None
    level: str
    dates: dict[str, date | None] = field(default_factory=dict)
    reject_reason_code: str | None = None
    benefits: list[Segment] = field(default_factory=list)


class _Values:
    """Typed element values, raising the reader's error with the element's name."""

    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.money = _DecimalCache(MONEY_SCALE, "decimal amount")
        self.quantity = _DecimalCache(QUANTITY_SCALE, "decimal number")
        self.dates = _DateCache()

    def number(self, seg: Segment, n: int, cache: _DecimalCache) -> Decimal | None:
        try:
            return cache[seg.get(n).strip()]
        except _BadValueError as bad:
            element = _element_name(seg.id, seg.elements, bad.value)
            raise X12ReadError(
                self.file_name, seg.position, f"{element} is not a valid {bad.kind}"
            ) from None

    def day(self, value: str) -> date | None:
        try:
            return self.dates[value.strip().partition("-")[0]]
        except _BadValueError:
            return None  # an impossible date is kept as null


def _status(codes: Sequence[str]) -> str | None:
    if any(code in ACTIVE_CODES for code in codes):
        return "active"
    if any(code in INACTIVE_CODES for code in codes):
        return "inactive"
    return None


def parse_271(data: bytes, file_name: str) -> dict[str, list[Any]]:
    """Rows of ``eligibility_responses`` and ``eligibility_benefits`` for every 271 in
    ``data``."""
    try:
        return _parse_271(data, file_name)
    except X12ReadError:
        raise
    except Exception as exc:  # a parser bug must still surface as the project's error
        raise X12ReadError(
            file_name, None, f"unexpected error reading the 271 ({type(exc).__name__})"
        ) from exc


def _parse_271(data: bytes, file_name: str) -> dict[str, list[Any]]:
    sha = hashlib.sha256(data).hexdigest()
    values = _Values(file_name)
    responses: list[EligibilityResponse] = []
    benefits: list[EligibilityBenefit] = []
    seen = 0
    for interchange, _group, tx in iter_transactions(data, file_name):
        if tx.transaction_set_id != "271":
            continue
        seen += 1
        prefix = f"{sha[:16]}-{tx.control_number}"
        response_date: date | None = None
        payer_id = payer_name = receiver_id = None
        level = ""
        found: list[tuple[_Response, str | None, str | None, str | None]] = []
        current: _Response | None = None
        for seg in tx.segments:
            sid = seg.id
            if sid == "BHT":
                response_date = values.day(seg.get(4))
            elif sid == "HL":
                level = seg.get(3).strip()
                current = None
            elif sid == "NM1" and level == "20" and seg.get(1).strip() == "PR":
                payer_name, payer_id = _none(seg.get(3)), _none(seg.get(9))
            elif sid == "NM1" and level == "21":
                receiver_id = _none(seg.get(9))
            elif sid == "TRN" and level in _LEVELS and seg.get(1).strip() == "2":
                current = _Response(
                    seg.position, _none(seg.get(2)), _none(seg.get(3)), _LEVELS[level]
                )
                found.append((current, payer_id, payer_name, receiver_id))
            elif current is None:
                continue
            elif sid == "EB":
                current.benefits.append(seg)
            elif sid == "DTP" and not current.benefits:  # 2100C/2100D, not a 2110 benefit date
                qualifier = seg.get(1).strip()
                if qualifier in _DATE_QUALIFIERS and qualifier not in current.dates:
                    current.dates[qualifier] = values.day(seg.get(3))
            elif sid == "AAA" and current.reject_reason_code is None:
                current.reject_reason_code = _none(seg.get(3))
        for response, r_payer_id, r_payer_name, r_receiver_id in found:
            response_id = f"{prefix}-{response.position}"
            eligibility_date = next(
                (response.dates[q] for q in _DATE_QUALIFIERS if response.dates.get(q)), None
            )
            responses.append(
                EligibilityResponse(
                    response_id=response_id,
                    file_name=file_name,
                    file_sha256=sha,
                    interchange_control_number=_none(interchange.control_number),
                    transaction_control_number=_none(tx.control_number),
                    response_date=response_date,
                    trace_number=response.trace_number,
                    trace_originator_id=response.trace_originator_id,
                    payer_id=r_payer_id,
                    payer_name=r_payer_name,
                    information_receiver_id=r_receiver_id,
                    subscriber_level=response.level,
                    eligibility_date=eligibility_date,
                    coverage_status=_status([b.get(1).strip() for b in response.benefits]),
                    reject_reason_code=response.reject_reason_code,
                    benefit_count=len(response.benefits),
                    position=response.position,
                )
            )
            for eb in response.benefits:
                benefits.append(
                    EligibilityBenefit(
                        benefit_id=f"{response_id}-{eb.position}",
                        response_id=response_id,
                        benefit_code=_none(eb.get(1)),
                        coverage_level_code=_none(eb.get(2)),
                        service_type_codes=",".join(r.strip() for r in eb.repeats(3) if r.strip())
                        or None,
                        insurance_type_code=_none(eb.get(4)),
                        plan_coverage_description=_none(eb.get(5)),
                        time_period_qualifier=_none(eb.get(6)),
                        benefit_amount=values.number(eb, 7, values.money),
                        benefit_percent=values.number(eb, 8, values.quantity),
                        quantity_qualifier=_none(eb.get(9)),
                        benefit_quantity=values.number(eb, 10, values.quantity),
                        authorization_required=_none(eb.get(11)),
                        in_plan_network=_none(eb.get(12)),
                        position=eb.position,
                    )
                )
    if not seen:
        raise no_transaction_error(data, file_name, "no 271 transaction in the file")
    return {"eligibility_responses": responses, "eligibility_benefits": benefits}

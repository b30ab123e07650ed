"""999 implementation acknowledgments (005010X231A1) from the simulated clearinghouse.

One interchange answers one 837 interchange; one 999 transaction per functional group::

    ST*999*0001*005010X231A1
    AK1*HC*<GS06>*<GS08>                         the group acknowledged
      AK2*837*<ST02>*<ST03>                      one per transaction set
        [IK3*<segment>*<position in ST>*<loop>*8 a segment in error (rejected sets only)
         CTX*CLM01:<claim id>                    the claim it belongs to, when there is one
         IK4*<element[:component]>*<element ref>*<error code>*<bad value>]
      IK5*A  |  IK5*R*5                          accepted / rejected (5: segments in error)
    AK9*<A|P|R>*<sets included>*<received>*<accepted>
    SE
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from revcycle.sim.envelope import (
    ReplyEnvelope,
    interchange_header,
    interchange_trailer,
    st_control,
)
from revcycle.x12.envelope import SEGMENT_END, segment
from revcycle.x12.text import clean_id

VERSION = "005010X231A1"


@dataclass(frozen=True)
class ElementError:
    """A (pretend) error in one element of the acknowledged transaction (IK3 + IK4)."""

    segment_id: str
    segment_position: int  # within the transaction set, ST = 1
    loop_id: str  # e.g. 2300
    element_position: int
    component_position: int | None
    element_reference: str  # data element dictionary number, e.g. 1325
    error_code: str  # IK403: 7 invalid code value, 8 invalid date ...
    bad_value: str
    claim_id: str | None = None  # CTX*CLM01


@dataclass(frozen=True)
class TransactionAck:
    set_id: str  # AK201
    control_number: str  # AK202
    guide: str  # AK203
    accepted: bool
    errors: tuple[ElementError, ...] = ()
    segment_id_only: tuple[tuple[str, int], ...] = ()  # IK3 without IK4 (unreadable segment)


@dataclass(frozen=True)
class GroupAck:
    functional_id: str  # AK101
    control_number: str  # AK102
    version: str  # AK103
    transactions: tuple[TransactionAck, ...]

    @property
    def accepted_count(self) -> int:
        return sum(1 for t in self.transactions if t.accepted)

    @property
    def status(self) -> str:
        accepted = self.accepted_count
        if accepted == len(self.transactions):
            return "A"
        return "P" if accepted else "R"


def _transaction_segments(ack: TransactionAck) -> list[str]:
    segs = [segment("AK2", clean_id(ack.set_id, 3), ack.control_number, clean_id(ack.guide, 35))]
    for seg_id, position in ack.segment_id_only:
        segs.append(segment("IK3", seg_id, str(position), "", "8"))
    for error in ack.errors:
        segs.append(
            segment("IK3", error.segment_id, str(error.segment_position), error.loop_id, "8")
        )
        if error.claim_id:
            segs.append(f"CTX*CLM01:{clean_id(error.claim_id, 35)}{SEGMENT_END}")
        where = str(error.element_position)
        if error.component_position is not None:
            where += f":{error.component_position}"
        segs.append(
            segment(
                "IK4",
                where,
                error.element_reference,
                error.error_code,
                clean_id(error.bad_value, 99),
            )
        )
    segs.append(f"IK5*A{SEGMENT_END}" if ack.accepted else f"IK5*R*5{SEGMENT_END}")
    return segs


def write_999(
    envelope: ReplyEnvelope,
    control: int,
    now: datetime,
    groups: Sequence[GroupAck],
) -> str:
    """The text of one 999 interchange acknowledging ``groups``."""
    parts = [interchange_header(envelope, control, "FA", VERSION, now)]
    for number, group in enumerate(groups, 1):
        st = st_control(number)
        segs = [
            f"ST*999*{st}*{VERSION}{SEGMENT_END}",
            segment("AK1", clean_id(group.functional_id, 2), group.control_number, group.version),
        ]
        for ack in group.transactions:
            segs += _transaction_segments(ack)
        count = str(len(group.transactions))
        segs.append(f"AK9*{group.status}*{count}*{count}*{group.accepted_count}{SEGMENT_END}")
        segs.append(f"SE*{len(segs) + 1}*{st}{SEGMENT_END}")
        parts.append("".join(segs))
    parts.append(interchange_trailer(len(groups), control))
    return "".join(parts)

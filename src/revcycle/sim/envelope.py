"""Envelopes of the files the simulated clearinghouse sends back (999, 277CA, 835).

The same one clean form as our own writers (:mod:`revcycle.x12.envelope`): ``*`` element,
``^`` repetition, ``:`` component, ``~`` plus a newline after each segment, a fixed-width ISA
of 106 characters. Replies are addressed back to whoever sent the 837: ISA sender and receiver
swapped, GS02/GS03 likewise. Control numbers are the clearinghouse's own (ISA13 = GS06, from
the simulation's state), not ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from revcycle.sim.inbound import SubmittedGroup, SubmittedInterchange
from revcycle.x12.envelope import ISA_LENGTH, MAX_CONTROL_NUMBER, SEGMENT_END
from revcycle.x12.text import clean_id

DEFAULT_CLEARINGHOUSE_ID = "SIMCLEARING"
DEFAULT_PROVIDER_ID = "SUBMITTER"


class SimWriteError(ValueError):
    """The simulation cannot write a valid reply (control numbers exhausted, bad ids)."""


@dataclass(frozen=True)
class ReplyEnvelope:
    """Who a reply comes from and goes to (ISA05-08, GS02/GS03), and ISA15."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    application_sender: str
    application_receiver: str
    usage_indicator: str = "T"


def _isa_id(value: str, default: str) -> str:
    return clean_id(value, 15) or default


def reply_envelope(
    interchange: SubmittedInterchange, group: SubmittedGroup | None = None
) -> ReplyEnvelope:
    """The envelope of a reply to ``interchange``: from its receiver back to its sender."""
    sender = _isa_id(interchange.receiver_id, DEFAULT_CLEARINGHOUSE_ID)
    receiver = _isa_id(interchange.sender_id, DEFAULT_PROVIDER_ID)
    app_sender = clean_id(group.receiver_code, 15) if group is not None else ""
    app_receiver = clean_id(group.sender_code, 15) if group is not None else ""
    return ReplyEnvelope(
        sender_qualifier=_qualifier(interchange.receiver_qualifier),
        sender_id=sender,
        receiver_qualifier=_qualifier(interchange.sender_qualifier),
        receiver_id=receiver,
        application_sender=app_sender or sender,
        application_receiver=app_receiver or receiver,
        usage_indicator="P" if interchange.usage_indicator == "P" else "T",
    )


def _qualifier(value: str) -> str:
    value = clean_id(value, 2)
    return value if len(value) == 2 else "ZZ"


def interchange_header(
    envelope: ReplyEnvelope, control: int, functional_id: str, version: str, now: datetime
) -> str:
    """ISA and GS of a reply (one group per interchange; GS06 = ISA13)."""
    if not 1 <= control <= MAX_CONTROL_NUMBER:
        raise SimWriteError(f"control number {control} is not within 1-999999999")
    isa = (
        f"ISA*00*{'':10}*00*{'':10}"
        f"*{envelope.sender_qualifier}*{envelope.sender_id:<15}"
        f"*{envelope.receiver_qualifier}*{envelope.receiver_id:<15}"
        f"*{now:%y%m%d}*{now:%H%M}*^*00501*{control:09d}*0*{envelope.usage_indicator}*:~"
    )
    if len(isa) != ISA_LENGTH:  # pragma: no cover - ids are cleaned and cut to 15 above
        raise SimWriteError(f"ISA is {len(isa)} characters, not {ISA_LENGTH}")
    gs = (
        f"GS*{functional_id}*{envelope.application_sender}*{envelope.application_receiver}"
        f"*{now:%Y%m%d}*{now:%H%M}*{control}*X*{version}{SEGMENT_END}"
    )
    return isa + "\n" + gs


def interchange_trailer(transaction_count: int, control: int) -> str:
    return f"GE*{transaction_count}*{control}{SEGMENT_END}IEA*1*{control:09d}{SEGMENT_END}"


def st_control(number: int) -> str:
    return f"{number:04d}"

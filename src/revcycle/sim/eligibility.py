"""The simulated payers answer our eligibility inquiries: 270 in, 271 out.

:func:`answer_eligibility` reads every ``*.x12`` file in the 270 outbox (``outbox/270/``, or
the folder given) it has not answered before and writes one 271 interchange per 270
interchange into ``inbox/271/``, answering every inquiry (each ``TRN*1`` trace) with its
trace echoed as ``TRN*2``. What each payer says (:class:`~revcycle.sim.config.SimConfig`,
``eligibility_*``): the coverage is inactive (``EB*6``), or active (``EB*1``) with the
deductible remaining (``EB*C``, period 29), an office visit copay (``EB*B``) and coinsurance
(``EB*A``), in or out of network (``EB12`` ``Y``/``N``). Decisions are draws keyed by the
seed, the payer and the member id (network: payer and billing provider NPI), so the same
coverage gets the same answer whenever it is asked about.

It shares the clearinghouse's state (``<inbox>/.sim_state.json``, under its lock): the 270
file names answered (never answered twice) and the interchange numbering of everything the
simulation sends. The simulated clearinghouse sends no 999 for 270s (a real one would): the
271 is the answer the pipeline needs, and a 999 for a non-claim transaction would only be
noise in the claim acknowledgment matching. Files are written atomically and owner-only;
logs carry counts and file names, never names, birth dates or member ids.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from revcycle.sim import draws
from revcycle.sim.config import SimConfig
from revcycle.sim.envelope import reply_envelope
from revcycle.sim.inbound import SubmittedGroup, SubmittedInterchange
from revcycle.sim.state import load_state, locked, save_state, write_atomic
from revcycle.sim.writer_271 import (
    Answer,
    Benefit,
    Person271,
    ProviderAnswers,
    Response271,
    write_271,
)
from revcycle.x12.reader import Interchange, Segment, X12ReadError, read_interchanges

log = logging.getLogger(__name__)

KIND_271 = "271"
INBOX_MODE = 0o700
_ANSWER_TIME = time(5, 30)
_HUNDRED = 100


@dataclass(frozen=True)
class EligibilitySimResult:
    files_answered: tuple[str, ...] = ()
    files_unreadable: tuple[str, ...] = ()
    files_271: tuple[Path, ...] = ()
    inquiries: int = 0
    active: int = 0
    inactive: int = 0
    out_of_network: int = 0


@dataclass
class _Asked:
    """One inquiry read from a 270."""

    trace_number: str
    trace_originator: str
    subscriber: Person271
    dependent: Person271 | None = None
    plan_date: str = ""


@dataclass
class _Group:
    payer_name: str
    payer_id: str
    provider_name: str = ""
    provider_npi: str = ""
    asked: list[_Asked] = field(default_factory=list)


def _person(seg: Segment) -> Person271:
    return Person271(
        last_name=seg.get(3).strip(),
        first_name=seg.get(4).strip(),
        middle_name=seg.get(5).strip(),
        member_id=seg.get(9).strip() if seg.get(8).strip() == "MI" else "",
    )


def _with_dmg(person: Person271, seg: Segment) -> Person271:
    return Person271(
        person.last_name,
        person.first_name,
        person.middle_name,
        person.member_id,
        birth_date=seg.get(2).strip(),
        sex=seg.get(3).strip(),
    )


def _read_270(interchange: Interchange) -> list[tuple[str, list[_Group]]]:
    """(BHT03, groups) per 270 transaction of ``interchange``."""
    found: list[tuple[str, list[_Group]]] = []
    for group in interchange.groups:
        for tx in group.transactions:
            if tx.transaction_set_id != "270":
                continue
            reference = ""
            groups: list[_Group] = []
            current: _Group | None = None
            level = ""
            subscriber: Person271 | None = None
            pending: _Asked | None = None  # the inquiry of the current 2000C/2000D
            trace: tuple[str, str] | None = None
            for seg in tx.segments:
                sid = seg.id
                if sid == "BHT":
                    reference = seg.get(3).strip()
                elif sid == "HL":
                    level = seg.get(3).strip()
                    pending, trace = None, None
                elif sid == "NM1" and level == "20" and seg.get(1) == "PR":
                    current = _Group(seg.get(3).strip(), seg.get(9).strip())
                    groups.append(current)
                elif sid == "NM1" and level == "21" and seg.get(1) == "1P" and current:
                    if current.provider_name:  # a second 2000B under the same payer
                        current = _Group(current.payer_name, current.payer_id)
                        groups.append(current)
                    current.provider_name = seg.get(3).strip()
                    current.provider_npi = seg.get(9).strip()
                elif sid == "TRN" and level in ("22", "23"):
                    trace = (seg.get(2).strip(), seg.get(3).strip())
                elif sid == "NM1" and level == "22" and seg.get(1) == "IL":
                    subscriber = _person(seg)
                    if trace is not None and current is not None:
                        pending = _Asked(trace[0], trace[1], subscriber)
                        current.asked.append(pending)
                elif sid == "NM1" and level == "23" and seg.get(1) == "03":
                    if trace is not None and current is not None and subscriber is not None:
                        pending = _Asked(trace[0], trace[1], subscriber, _person(seg))
                        current.asked.append(pending)
                elif sid == "DMG" and level == "22" and subscriber is not None:
                    subscriber = _with_dmg(subscriber, seg)
                    if pending is not None:
                        pending.subscriber = subscriber
                elif sid == "DMG" and level == "23" and pending and pending.dependent:
                    pending.dependent = _with_dmg(pending.dependent, seg)
                elif sid == "DTP" and seg.get(1) == "291" and pending is not None:
                    pending.plan_date = seg.get(3).strip().partition("-")[0]
            found.append((reference, groups))
    return found


def _benefits(
    config: SimConfig, seed: int, payer_id: str, member_id: str, provider_npi: str
) -> tuple[Benefit, ...]:
    if member_id in config.eligibility_inactive_member_ids or draws.chance(
        config.eligibility_inactive_rate, seed, "271-inactive", payer_id, member_id
    ):
        return (Benefit("6"),)
    out_of_network = draws.chance(
        config.eligibility_out_of_network_rate, seed, "271-network", payer_id, provider_npi
    )
    network = "N" if out_of_network else "Y"
    deductible = draws.pick(
        config.eligibility_deductible_remaining_amounts, seed, "271-deductible", payer_id, member_id
    )
    copay = draws.pick(config.copay_amounts, seed, "271-copay", payer_id, member_id)
    percent = (
        config.eligibility_out_of_network_coinsurance_percent
        if out_of_network
        else draws.pick(config.coinsurance_percents, seed, "271-coinsurance", payer_id, member_id)
    )
    return (
        Benefit("1"),
        Benefit("C", time_period="29", amount=deductible, in_network=network),
        Benefit("B", service_type="98", time_period="27", amount=copay, in_network=network),
        Benefit("A", service_type="98", percent=percent / _HUNDRED, in_network=network),
    )


def _outbox_files(outbox_dir: Path) -> list[Path]:
    folder = outbox_dir / "270" if (outbox_dir / "270").is_dir() else outbox_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.x12") if p.is_file() and not p.name.startswith("."))


def _envelope_for(interchange: Interchange, file_name: str) -> SubmittedInterchange:
    group = interchange.groups[0] if interchange.groups else None
    groups = (
        (
            SubmittedGroup(
                functional_id=group.functional_id,
                control_number=group.control_number,
                version=group.version,
                sender_code=group.sender_code,
                receiver_code=group.receiver_code,
                transactions=(),
            ),
        )
        if group is not None
        else ()
    )
    return SubmittedInterchange(
        file_name=file_name,
        control_number=interchange.control_number,
        sender_qualifier=interchange.sender_qualifier,
        sender_id=interchange.sender_id,
        receiver_qualifier=interchange.receiver_qualifier,
        receiver_id=interchange.receiver_id,
        usage_indicator=interchange.usage_indicator,
        groups=groups,
    )


def _safe_part(value: str) -> str:
    return "".join(c for c in value if c.isascii() and c.isalnum()).upper() or "UNKNOWN"


def answer_eligibility(
    outbox_dir: Path,
    inbox_dir: Path,
    *,
    seed: int,
    today: date,
    config: SimConfig | None = None,
) -> EligibilitySimResult:
    """Answer every 270 in ``outbox_dir`` (or its ``270/`` folder) not answered before with a
    271 in ``inbox_dir/271/`` (simulation; see the module docstring)."""
    config = config or SimConfig()
    if not inbox_dir.is_dir():
        inbox_dir.mkdir(parents=True)
        inbox_dir.chmod(INBOX_MODE)
    answered: list[str] = []
    unreadable: list[str] = []
    written: list[Path] = []
    counts = {"inquiries": 0, "active": 0, "inactive": 0, "out_of_network": 0}
    now = datetime.combine(today, _ANSWER_TIME)
    with locked(inbox_dir):
        state = load_state(inbox_dir)
        for path in _outbox_files(outbox_dir):
            if path.name in state.answered:
                continue
            data = path.read_bytes()
            record: dict[str, object] = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "answered_on": today.isoformat(),
            }
            try:
                interchanges = read_interchanges(data, path.name)
            except X12ReadError as exc:
                log.warning("simulated payers cannot read %s: %s", path.name, exc.message)
                record["unreadable"] = True
                state.answered[path.name] = record
                unreadable.append(path.name)
                continue
            for interchange in interchanges:
                responses: list[Response271] = []
                for reference, groups in _read_270(interchange):
                    answers = _answers(groups, config, seed, today, counts)
                    if answers:
                        responses.append(Response271(reference, answers))
                if not responses:
                    continue
                control = state.take_control_number()
                envelope = reply_envelope(_envelope_for(interchange, path.name))
                text = write_271(envelope, control, now, responses)
                folder = inbox_dir / KIND_271
                folder.mkdir(parents=True, exist_ok=True)
                folder.chmod(INBOX_MODE)
                name = f"271_{control:09d}_{_safe_part(interchange.control_number)}.x12"
                write_atomic(folder / name, text.encode("ascii"))
                written.append(folder / name)
            state.answered[path.name] = record
            answered.append(path.name)
        save_state(inbox_dir, state)
    result = EligibilitySimResult(
        files_answered=tuple(answered),
        files_unreadable=tuple(unreadable),
        files_271=tuple(written),
        **counts,
    )
    log.info(
        "simulated payers answered %d eligibility inquiries in %d 271 file(s): %d active, "
        "%d inactive, %d out of network",
        result.inquiries,
        len(result.files_271),
        result.active,
        result.inactive,
        result.out_of_network,
    )
    return result


def _answers(
    groups: Sequence[_Group],
    config: SimConfig,
    seed: int,
    today: date,
    counts: dict[str, int],
) -> tuple[ProviderAnswers, ...]:
    out: list[ProviderAnswers] = []
    for group in groups:
        answers: list[Answer] = []
        for asked in group.asked:
            benefits = _benefits(
                config, seed, group.payer_id, asked.subscriber.member_id, group.provider_npi
            )
            counts["inquiries"] += 1
            if benefits[0].code == "6":
                counts["inactive"] += 1
            else:
                counts["active"] += 1
                counts["out_of_network"] += benefits[1].in_network == "N"
            answers.append(
                Answer(
                    trace_number=asked.trace_number,
                    trace_originator=asked.trace_originator,
                    subscriber=asked.subscriber,
                    dependent=asked.dependent,
                    plan_date=asked.plan_date or f"{today:%Y%m%d}",
                    benefits=benefits,
                )
            )
        if answers:
            out.append(
                ProviderAnswers(
                    group.payer_name,
                    group.payer_id,
                    group.provider_name,
                    group.provider_npi,
                    tuple(answers),
                )
            )
    return tuple(out)


__all__ = ["EligibilitySimResult", "answer_eligibility"]

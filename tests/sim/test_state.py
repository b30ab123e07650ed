"""The simulation's state file: written a piece at a time, the same text as one json.dumps of
the whole state, and read back as it was."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from revcycle.sim.remittance import Adjustment
from revcycle.sim.state import STATE_FILE, LedgerRecord, SimState, load_state, save_state


def _record(claim_id: str, **changes: Any) -> LedgerRecord:
    fields: dict[str, Any] = {
        "claim_id": claim_id,
        "payer_id": "87726",
        "payee_npi": "1234567893",
        "status": "1",
        "charge": Decimal("225.00"),
        "paid": Decimal("140.6"),
        "patient_responsibility": Decimal("0"),
        "filing_indicator": "12",
        "facility_code": "11",
        "frequency_code": "1",
        "statement_from": date(2026, 9, 1),
        "statement_to": date(2026, 9, 2),
        "adjustments": (Adjustment("CO", "45", Decimal("84.40")),),
    }
    fields.update(changes)
    return LedgerRecord(**fields)


def _one_dumps(state: SimState) -> str:
    """The state file as one json.dumps of the whole state (how it was first written)."""

    def row(r: LedgerRecord) -> list[Any]:
        return [
            r.claim_id,
            r.payer_id,
            r.payee_npi,
            r.status,
            str(r.charge),
            str(r.paid),
            str(r.patient_responsibility),
            r.filing_indicator,
            r.facility_code,
            r.frequency_code,
            r.statement_from.isoformat() if r.statement_from else "",
            r.statement_to.isoformat() if r.statement_to else "",
            [[a.group, a.reason, str(a.amount)] for a in r.adjustments],
            r.current,
        ]

    whole = {
        "version": 1,
        "next_control_number": state.next_control_number,
        "next_trace_number": state.next_trace_number,
        "answered": state.answered,
        "adjudications": {k: row(v) for k, v in sorted(state.adjudications.items())},
        "claims": dict(sorted(state.claims.items())),
        "balances_forward": {
            k: [str(amount), reference]
            for k, (amount, reference) in sorted(state.balances_forward.items())
        },
    }
    return json.dumps(whole, separators=(",", ":"), sort_keys=True) + "\n"


def _state() -> SimState:
    state = SimState(next_control_number=48, next_trace_number=1201)
    state.answered = {
        "b.x12": {"sha256": "ab", "answered_on": "2026-11-01"},
        "a.x12": {"unreadable": True, "sha256": "cd", "answered_on": "2026-11-01"},
    }
    state.record("300000000000001", _record("C2"))
    state.record("200000000000002", _record("C1", statement_from=None, statement_to=None))
    state.record(
        "100000000000003",
        _record(
            'C"1\\é',  # quotes, a backslash and a non-ASCII letter are escaped as json does
            charge=Decimal("-1E+2"),
            paid=Decimal("0E-7"),
            adjustments=(
                Adjustment("PR", "1", Decimal("-0.00")),
                Adjustment("CO", "9\t7", Decimal("12.5")),
            ),
        ),
    )
    state.record("400000000000004", _record("C1", adjustments=()))
    state.retire("200000000000002")
    state.balances_forward = {"87726|1234567893": (Decimal("12.30"), "0000001200")}
    return state


def test_the_state_file_is_the_text_of_one_json_dumps(tmp_path: Path) -> None:
    state = _state()
    save_state(tmp_path, state)
    assert (tmp_path / STATE_FILE).read_text(encoding="ascii") == _one_dumps(state)


def test_an_empty_state_is_the_text_of_one_json_dumps(tmp_path: Path) -> None:
    save_state(tmp_path, SimState())
    assert (tmp_path / STATE_FILE).read_text(encoding="ascii") == _one_dumps(SimState())


def test_a_saved_state_loads_as_it_was(tmp_path: Path) -> None:
    state = _state()
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state


def test_renumber_files_records_under_their_final_numbers() -> None:
    state = SimState()
    state.record("100000000000001", _record("C1"))
    state.record("\x00provisional-0", _record("C1", paid=Decimal("1.00")))
    state.record("\x00provisional-1", _record("C2"))
    state.renumber({"\x00provisional-0": "900000000000009", "\x00provisional-1": "8" * 15})
    assert state.claims == {"C1": ["100000000000001", "900000000000009"], "C2": ["8" * 15]}
    assert state.adjudications["900000000000009"].paid == Decimal("1.00")
    assert not any(number.startswith("\x00") for number in state.adjudications)

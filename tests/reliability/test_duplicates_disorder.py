"""Duplicates and disorder: files delivered twice, out of order or about something we never
sent end correctly posted, or in the remittance work queue with a reason; checked in the
warehouse after the dbt rebuild, against the same deliveries made once and in order.

One billing night of a generated extract (150 encounters, fixed seeds and date) is billed and
answered by the simulated clearinghouse and payers (999, 277CA and 835 files in the inbox).
Then two work areas are made from it:

- **in order**: the inbox loaded as delivered, then the reconciliation build;
- **disordered**, over two nights:

  night 1: the extract folder again (every file already loaded under its name), plus
  ``charges_again.csv`` (the same bytes under another name) and ``charges_20261102.csv`` (the
  same rows re-exported with CRLF line ends: new bytes, same keys); in the inbox only 835s:
  no 999 or 277CA yet (an 835 before its 999), the 835 file holding a claim's *original*
  payment held back while the file with its reversal (CLP02 22) and correction arrives, and
  a byte-identical copy of another 835 under another name; a full ``dbt build``;

  night 2: the 999s, 277CAs and the held-back original arrive, with a 999 acknowledging a
  group we never sent, the copied 835 once more under its own name, and the same 835
  re-sent in a new interchange (new ISA13, so new bytes, same payments and trace numbers);
  ``dbt build`` of what depends on the X12 and ops sources.

The claim payment reversed and the files copied are found in what the simulated payers wrote
(the seed makes them the same on every run); their figures are read from those files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from revcycle.extracts.load import FileOutcome, LoadStatus, load_extract_dir
from revcycle.inbox import InboxOutcome, load_inbox
from revcycle.paths import WorkArea
from tests.cycle_support import SIM_SEED, CycleBuildError, dbt_build, ingest_and_build
from tests.reliability.area_state import RUN_HISTORY, diff, query, warehouse_state

AS_OF = date(2026, 11, 1)
ENCOUNTERS = 150
EXTRACT_SEED = 11
RECONCILE = ["source:x12+", "source:ops+"]
UNKNOWN_GROUP, UNKNOWN_TRANSACTION = "987654", "4321"
UNKNOWN_999_NAME = "999_unknown_interchange.x12"


def _isa(sender: str, control: str) -> str:
    """An ISA of the fixed width X12 requires (106 characters with its terminator)."""
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{'REVCYCLE01':<15}*261102*0600*^*00501*"
        f"{control}*0*T*:~"
    )


# A 999 from a clearinghouse acknowledging GS06 987654 / ST02 4321: numbers we never used.
UNKNOWN_999 = (
    _isa("OTHERCH", "000000901")
    + "\nGS*FA*OTHERCH*REVCYCLE01*20261102*0600*901*X*005010X231A1~"
    + "\nST*999*0001*005010X231A1~"
    + f"\nAK1*HC*{UNKNOWN_GROUP}*005010X222A1~"
    + f"\nAK2*837*{UNKNOWN_TRANSACTION}*005010X222A1~"
    + "\nIK5*A~"
    + "\nAK9*A*1*1*1~"
    + "\nSE*6*0001~"
    + "\nGE*1*901~"
    + "\nIEA*1*000000901~\n"
)


# ------------------------------------------------------------------------------ X12 reading


def segments(data: bytes) -> list[list[str]]:
    """The segments of one X12 file, split on its own delimiters (ISA04 and ISA16)."""
    text = data.decode("ascii")
    element, terminator = text[3], text[105]
    return [s.strip().split(element) for s in text.split(terminator) if s.strip()]


@dataclass(frozen=True)
class ClaimPayment:
    file_name: str
    claim_id: str  # CLP01
    status: str  # CLP02
    paid: Decimal  # CLP04
    payer_claim_number: str  # CLP07


def claim_payments(folder: Path) -> list[ClaimPayment]:
    found = []
    for path in sorted(folder.glob("*.x12")):
        for seg in segments(path.read_bytes()):
            if seg[0] == "CLP":
                found.append(ClaimPayment(path.name, seg[1], seg[2], Decimal(seg[4]), seg[7]))
    return found


def trace_numbers(data: bytes) -> list[str]:
    return [seg[2] for seg in segments(data) if seg[0] == "TRN"]


@dataclass(frozen=True)
class Reversal:
    claim_id: str
    reversal: ClaimPayment  # CLP02 22, in a later file than ...
    original: ClaimPayment  # ... the payment it reverses (same claim, same CLP07)
    correction: ClaimPayment  # the claim's next payment in the reversal's file


def find_reversal(folder: Path) -> Reversal:
    listed = claim_payments(folder)
    for index, reversal in enumerate(listed):
        if reversal.status != "22":
            continue
        originals = [
            p
            for p in listed
            if p.claim_id == reversal.claim_id
            and p.status != "22"
            and p.payer_claim_number == reversal.payer_claim_number
            and p.file_name < reversal.file_name
        ]
        corrections = [
            p
            for p in listed[index + 1 :]
            if p.claim_id == reversal.claim_id
            and p.status != "22"
            and p.file_name == reversal.file_name
        ]
        if len(originals) == 1 and corrections:
            return Reversal(reversal.claim_id, reversal, originals[0], corrections[0])
    raise AssertionError("the simulated payers wrote no reversal of an earlier file's payment")


# ---------------------------------------------------------------------------------- areas


def bill_and_answer(area: WorkArea) -> None:
    """tests/cycle_support.py's billing night up to the simulated payers' answers (the
    inbox is not loaded)."""
    from revcycle.claims.emit import emit_claim_files
    from revcycle.config import submitter_from_env
    from revcycle.gates.claims_gate import run_claims_gate
    from revcycle.sim import answer_outbox

    ingest_and_build(area, AS_OF)
    with duckdb.connect(str(area.warehouse)) as con:
        gate = run_claims_gate(con)
        if not gate.success:
            raise CycleBuildError(gate.summary())
        emit_claim_files(
            con,
            gate.claims,
            gate.lines,
            area.outbox / "837",
            submitter_from_env(),
            datetime.combine(AS_OF, time(9, 0)),
        )
        fees = {
            str(payer): Decimal(percent)
            for payer, percent in con.execute(
                "select payer_id, allowed_percent_of_charge from marts.dim_payers"
            ).fetchall()
        }
    answered = answer_outbox(area.outbox, area.inbox, fees, seed=SIM_SEED, today=AS_OF)
    if not answered.files_835:
        raise CycleBuildError("the simulated payers wrote no 835")


def rebuild(area: WorkArea, select: list[str] | None) -> None:
    built = dbt_build(area, AS_OF, select=select)
    assert built.returncode == 0, built.stdout[-6000:]


def copy_of(area: WorkArea, root: Path) -> WorkArea:
    shutil.copytree(area.root, root, ignore=shutil.ignore_patterns("logs"))
    return WorkArea(root)


@pytest.fixture(scope="module")
def answered(tmp_path_factory: pytest.TempPathFactory) -> WorkArea:
    from revcycle.extracts.generate import generate_extract

    base = tmp_path_factory.mktemp("disorder")
    area = WorkArea(base / "answered")
    generate_extract(
        out_dir=area.extracts,
        answer_key_dir=base / "answer_keys",
        encounters=ENCOUNTERS,
        seed=EXTRACT_SEED,
        as_of=AS_OF,
    )
    bill_and_answer(area)
    return area


@pytest.fixture(scope="module")
def in_order(answered: WorkArea, tmp_path_factory: pytest.TempPathFactory) -> WorkArea:
    area = copy_of(answered, tmp_path_factory.mktemp("in_order") / "data")
    outcomes = load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine)
    assert {o.outcome.status for o in outcomes} == {LoadStatus.LOADED}
    rebuild(area, RECONCILE)
    return area


@dataclass(frozen=True)
class Disordered:
    area: WorkArea
    reversal: Reversal
    copied_835: str  # delivered again byte for byte: another name (night 1), its own (night 2)
    resent_835: str  # the copied 835's payments re-sent in a new interchange (night 2)
    extract_night_1: dict[str, FileOutcome]
    inbox_night_1: dict[str, FileOutcome]
    inbox_night_2: dict[str, FileOutcome]
    night_1: dict[str, list[tuple[Any, ...]]]  # marts read after night 1's build


def _by_name(outcomes: list[InboxOutcome]) -> dict[str, FileOutcome]:
    return {o.outcome.file_name: o.outcome for o in outcomes}


@pytest.fixture(scope="module")
def disordered(answered: WorkArea, tmp_path_factory: pytest.TempPathFactory) -> Disordered:
    base = tmp_path_factory.mktemp("disordered")
    area = copy_of(answered, base / "data")
    held = base / "held"
    reversal = find_reversal(area.inbox / "835")
    busy = {reversal.reversal.file_name, reversal.original.file_name}
    copied = next(p for p in sorted((area.inbox / "835").glob("*.x12")) if p.name not in busy)
    copied_bytes = copied.read_bytes()

    # Night 1: the extract again, plus the same charges twice more; only some 835s.
    charges = (area.extracts / "charges.csv").read_bytes()
    (area.extracts / "charges_again.csv").write_bytes(charges)
    crlf = charges.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert crlf != charges
    (area.extracts / "charges_20261102.csv").write_bytes(crlf)
    extract_night_1 = {
        o.file_name: o for o in load_extract_dir(area.extracts, area.warehouse, area.quarantine)
    }

    held.mkdir()
    for kind in ("999", "277ca"):
        shutil.move(area.inbox / kind, held / kind)
    (held / "835").mkdir(parents=True)
    shutil.move(area.inbox / "835" / reversal.original.file_name, held / "835")
    (area.inbox / "835" / f"{copied.stem}_copy.x12").write_bytes(copied_bytes)
    inbox_night_1 = _by_name(load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine))
    rebuild(area, None)
    night_1 = {
        "work_queue": query(
            area.root,
            "select work_item_type, reason_code, claim_id, amount, claim_payment_id "
            "from marts.fct_remit_work_queue order by all",
        ),
        "statuses": query(
            area.root,
            "select status, count(*) from marts.fct_claim_status_history group by 1 order by 1",
        ),
    }

    # Night 2: the acknowledgements and the held-back original arrive, and more duplicates.
    for kind in ("999", "277ca", "835"):
        (area.inbox / kind).mkdir(exist_ok=True)
        for path in sorted((held / kind).iterdir()):
            shutil.move(path, area.inbox / kind / path.name)
    (area.inbox / "999" / UNKNOWN_999_NAME).write_text(UNKNOWN_999, encoding="ascii")
    (area.inbox / "835" / copied.name).write_bytes(copied_bytes)  # again, under its own name
    isa13 = segments(copied_bytes)[0][13]
    resent = copied_bytes.replace(f"*{isa13}*".encode(), b"*000000999*", 1).replace(
        f"IEA*1*{isa13}".encode(), b"IEA*1*000000999"
    )
    assert resent != copied_bytes and trace_numbers(resent) == trace_numbers(copied_bytes)
    resent_name = f"{copied.stem}_resent.x12"
    (area.inbox / "835" / resent_name).write_bytes(resent)
    inbox_night_2 = _by_name(load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine))
    rebuild(area, RECONCILE)
    return Disordered(
        area=area,
        reversal=reversal,
        copied_835=copied.name,
        resent_835=resent_name,
        extract_night_1=extract_night_1,
        inbox_night_1=inbox_night_1,
        inbox_night_2=inbox_night_2,
        night_1=night_1,
    )


# ---------------------------------------------------------------------------------- tests


def test_extract_file_delivered_again_changes_nothing(
    disordered: Disordered, in_order: WorkArea
) -> None:
    outcomes = disordered.extract_night_1
    # The files already loaded, under their own names and under another name: skipped.
    assert outcomes["charges.csv"].status is LoadStatus.SKIPPED
    again = outcomes["charges_again.csv"]
    assert again.status is LoadStatus.SKIPPED and again.rows_loaded == 0
    assert again.reason == "same content already loaded from charges.csv"
    assert {o.status for name, o in outcomes.items() if not name.startswith("charges_")} == {
        LoadStatus.SKIPPED
    }
    # The re-export (new bytes, the same rows) is a new delivery: loaded beside the first ...
    reexport = outcomes["charges_20261102.csv"]
    first = query(
        in_order.root, "select rows_loaded from ops.load_manifest where file_name = 'charges.csv'"
    )[0][0]
    assert reexport.status is LoadStatus.LOADED and reexport.rows_loaded == first > 0
    root = disordered.area.root
    assert query(root, "select count(*) from raw.charges") == [(2 * first,)]
    # ... and staging keeps one row per charge: the marts do not change, to the cent.
    figures = (
        "select count(*), sum(charge_amount), count(distinct charge_id) from marts.fct_charges"
    )
    assert query(root, figures) == query(in_order.root, figures)
    claims = "select count(*), sum(total_charge_amount) from marts.fct_claims"
    assert query(root, claims) == query(in_order.root, claims)
    charged = "select sum(amount) from marts.fct_ar_ledger where event_type = 'charge'"
    assert query(root, charged) == query(in_order.root, charged) != [(None,)]


def test_same_835_twice_posts_once(disordered: Disordered, in_order: WorkArea) -> None:
    root, name = disordered.area.root, disordered.copied_835
    stem = name.removesuffix(".x12")
    # Byte for byte again, under another name and (the next night) under its own: skipped.
    copy = disordered.inbox_night_1[f"{stem}_copy.x12"]
    assert copy.status is LoadStatus.SKIPPED
    assert copy.reason == f"same content already loaded from {name}"
    assert disordered.inbox_night_2[name].status is LoadStatus.SKIPPED
    archived = sorted(p.name for p in (disordered.area.archive / "835").glob(f"{stem}*"))
    assert archived == [f"{stem}.2.x12", name, f"{stem}_copy.x12", f"{stem}_resent.x12"]
    # Re-sent in a new interchange: loaded (new bytes), but every payment of it is a
    # duplicate delivery of the first file's payment with its trace number, and posts nothing.
    assert disordered.inbox_night_2[disordered.resent_835].status is LoadStatus.LOADED
    resent = query(
        root,
        """
        select resent.trace_number, resent.is_duplicate_delivery, first.file_name
        from intermediate.int_remit_payments_deduplicated as resent
        left join intermediate.int_remit_payments_deduplicated as first
            on resent.duplicate_of_payment_id = first.payment_id
        where resent.file_name = ?
        order by 1
        """,
        [disordered.resent_835],
    )
    assert resent and all(dup and first == name for _, dup, first in resent)
    posted = query(
        root,
        """
        select count(*) from marts.fct_ar_ledger
        where payment_id in (select payment_id from raw.x12_remit_payments where file_name = ?)
        """,
        [disordered.resent_835],
    )
    assert posted == [(0,)]
    queued = query(
        root,
        """
        select count(*) from marts.fct_remit_work_queue
        where payment_id in (select payment_id from raw.x12_remit_payments where file_name = ?)
        """,
        [disordered.resent_835],
    )
    assert queued == [(0,)]
    # The cash of the ledger is the cash of the deliveries made once.
    cash = "select count(*), sum(amount) from marts.fct_ar_ledger where is_cash"
    assert query(root, cash) == query(in_order.root, cash)
    assert query(in_order.root, cash)[0][0] > 0


def test_999_for_an_unknown_interchange_is_a_work_item(disordered: Disordered) -> None:
    assert disordered.inbox_night_2[UNKNOWN_999_NAME].status is LoadStatus.LOADED
    items = query(
        disordered.area.root,
        """
        select work_item_type, reason_code, reason, claim_id, amount
        from marts.fct_remit_work_queue
        where ack_id in (
            select ack_id from raw.x12_ack_999_transactions where file_name = ?
        )
        """,
        [UNKNOWN_999_NAME],
    )
    assert items == [
        (
            "ack_999_unmatched",
            "unknown_control_numbers",
            f"999 acknowledges GS06 {UNKNOWN_GROUP} ST02 {UNKNOWN_TRANSACTION}, which revcycle "
            "never sent: check the trading partner set-up (or a 999 meant for another system).",
            None,
            None,
        )
    ]
    # It names no claim, so no claim's status moved.
    events = query(
        disordered.area.root,
        "select count(*) from marts.fct_claim_status_history where source_id in ("
        "select ack_id from raw.x12_ack_999_transactions where file_name = ?)",
        [UNKNOWN_999_NAME],
    )
    assert events == [(0,)]


def test_835_before_its_999_ends_as_delivered_in_order(
    disordered: Disordered, in_order: WorkArea
) -> None:
    # Night 1 had payments but no acknowledgement: claims were already paid, none accepted.
    statuses = dict(disordered.night_1["statuses"])
    assert statuses.get("paid", 0) > 0 and "accepted" not in statuses
    # Payments without acknowledgements matched their claims (submitted, right payer): the
    # only item to act on was the reversal whose original had not come (see below).
    assert {row[0] for row in disordered.night_1["work_queue"]} == {"reversal_without_original"}
    # Once the 999s and 277CAs came, each claim's history and balance are those of the
    # deliveries in order: acknowledgements before payments, every dollar in its place.
    for mart in ("fct_claim_status_history", "fct_claim_balances"):
        got = warehouse_state(disordered.area.root, ("marts",))[f"marts.{mart}"]
        want = warehouse_state(in_order.root, ("marts",))[f"marts.{mart}"]
        assert got == want, diff(mart, got, want)
    accepted = query(
        disordered.area.root,
        "select count(*) from marts.fct_claim_status_history where status = 'accepted'",
    )
    assert accepted[0][0] > 0


def test_reversal_before_the_original_payment(disordered: Disordered, in_order: WorkArea) -> None:
    reversal = disordered.reversal
    claim = reversal.claim_id
    assert reversal.reversal.paid == -reversal.original.paid < 0
    # Night 1: the reversal came first; it reverses a payment not received yet: a work item
    # with the amount, not a guess.
    orphans = [
        row for row in disordered.night_1["work_queue"] if row[0] == "reversal_without_original"
    ]
    assert [(kind, code, claim_id, amount) for kind, code, claim_id, amount, _ in orphans] == [
        ("reversal_without_original", "reversal_without_original", claim, reversal.reversal.paid)
    ]
    # Night 2: the original arrived; the reversal found it, the item is gone, and the claim is
    # paid what the correction paid: the original and its reversal net to zero.
    root = disordered.area.root
    assert query(
        root,
        "select count(*) from marts.fct_remit_work_queue "
        "where work_item_type = 'reversal_without_original'",
    ) == [(0,)]
    balance = (
        "select claim_status, paid_amount, open_balance_amount "
        "from marts.fct_claim_balances where claim_id = ?"
    )
    assert query(root, balance, [claim]) == query(in_order.root, balance, [claim])
    assert query(root, balance, [claim])[0][1] == reversal.correction.paid
    by_payment = """
        select claim_payment.claim_status_code, sum(ledger.amount)
        from marts.fct_ar_ledger as ledger
        inner join intermediate.int_remit_claims_matched as claim_payment
            using (claim_payment_id)
        where ledger.claim_id = ? and ledger.balance_component = 'payment'
        group by 1 order by 1
    """
    assert query(root, by_payment, [claim]) == [
        ("1", -(reversal.original.paid + reversal.correction.paid)),
        ("22", reversal.original.paid),
    ]
    ledger = "select * from marts.fct_ar_ledger where claim_id = ? order by all"
    assert query(root, ledger, [claim]) == query(in_order.root, ledger, [claim])
    # The claim's current status is the correction's, as when the files came in order.
    current = (
        "select status, claim_payment_id from marts.fct_claim_status_history "
        "where claim_id = ? and is_current"
    )
    assert query(root, current, [claim]) == query(in_order.root, current, [claim])
    assert query(root, current, [claim])[0][0] == "paid"


def test_marts_end_as_if_delivered_once_and_in_order(
    disordered: Disordered, in_order: WorkArea
) -> None:
    got = warehouse_state(disordered.area.root, ("marts",))
    want = warehouse_state(in_order.root, ("marts",))
    assert sorted(got) == sorted(want)
    queue = "marts.fct_remit_work_queue"
    different = [
        diff(name, got[name], want[name])
        for name in sorted(got)
        if name != queue and name not in RUN_HISTORY and got[name] != want[name]
    ]
    assert not different, "\n".join(different)
    # The work queue holds what the in-order run holds, plus the unknown interchange's 999.
    assert not want[queue] - got[queue]
    extra = got[queue] - want[queue]
    assert [row[1:3] for row in extra.elements()] == [
        ("ack_999_unmatched", "unknown_control_numbers")
    ]

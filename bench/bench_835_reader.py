"""Benchmark: an 835 of 100,000 claims read into tables, against pyx12 and edi-835-parser.

Run from the project root::

    .venv/bin/python bench/bench_835_reader.py                    # 100,000 claims, records
    .venv/bin/python bench/bench_835_reader.py --claims 20000 --pyx12-claims 2000 --no-record

What it does, in order:

1. generates one synthetic 835 (deterministic: same arguments, same bytes): ``--claims``
   claims, 5,000 per ST (so several ST/BPR/TRN per file), 1-4 service lines per claim (2.4 on
   average) each with CAS (contractual, and patient responsibility on some), some claim-level
   CAS, denials (CLP02 4), reversals (CLP02 22, negative amounts), LQ*HE remarks, REF*6R line
   ids, and a PLB (interest and a takeback) in every other ST; everything balances;
2. runs each contender on that same file, each in a fresh subprocess (clean peak RSS, no
   shared caches), timing only its work (imports done first): wall clock and CPU seconds;
   - ``split``: the file split into segments and elements with ``str.split``, nothing kept;
   - ``reader``: the project's tolerant reader alone (``iter_segments``), nothing kept;
   - ``revcycle``: ``parse_835`` filling all six tables (``--runs`` times, best and median);
   - ``edi-835-parser``: ``parse(path)`` then its ``to_dataframe`` flattening (per
     transaction set: its own ``to_dataframe`` asserts one payer per file, and this file has
     one per ST);
   - ``pyx12``: ``X12ContextReader.iter_segments("2100")`` walking every claim loop and
     every header/trailer segment, reading the same elements ``parse_835`` reads, money
     as ``Decimal``; on the whole file, or on a ``--pyx12-claims`` slice (the first claims
     of the same generator) with its time extrapolated linearly and said so;
3. checks the contenders agree (claims, lines, total paid) and prints ratios;
4. prepends a section to ``bench/RESULTS.md`` (newest first) unless ``--no-record``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

try:  # run as a script: bench/ is on sys.path
    from bench_support import BENCH_DIR, RESULTS, machine, peak_rss_mb, record
except ModuleNotFoundError:  # imported as bench.<module> (the tests)
    from bench.bench_support import BENCH_DIR, RESULTS, machine, peak_rss_mb, record

CLAIMS_PER_ST = 5000
SEED = 20261128

# --------------------------------------------------------------------------------------------
# The synthetic 835

PROCEDURES = [
    ("99213", 14500),
    ("99214", 21000),
    ("99203", 17500),
    ("36415", 2500),
    ("85025", 3800),
    ("80053", 5200),
    ("93000", 6400),
    ("71046", 11800),
    ("G0439", 19900),
    ("97110", 8600),
]
MODIFIERS = ["", "", "", "", "25", "59", "GT", "26:TC"]
REMARKS = ["N130", "M15", "N381", "MA130", "N20"]
LINES_PER_CLAIM = (1, 1, 2, 2, 2, 3, 3, 3, 3, 4)  # 2.4 on average


def _money(cents: int) -> str:
    """Cents as X12 decimal text; some whole amounts without decimals, as payers send them."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    if fraction == 0 and whole % 3 == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:02d}"


def _negated(cas: str) -> str:
    parts = cas.split("*")
    for index in range(3, len(parts), 3):
        if parts[index]:
            value = parts[index]
            parts[index] = value[1:] if value.startswith("-") else "-" + value
    return "*".join(parts)


def _line(rng: random.Random, status: str, date: str, line_id: str) -> tuple[list[str], int, int]:
    """The segments of one service line, its paid and patient-responsibility cents."""
    code, price = rng.choice(PROCEDURES)
    units = rng.choice((1, 1, 1, 2))
    charge = price * units
    modifier = rng.choice(MODIFIERS)
    cas: list[str] = []
    patient = 0
    if status == "4":  # denied
        paid = 0
        cas.append(f"CAS*CO*{rng.choice(('50', '97', '16'))}*{_money(charge)}")
    else:
        allowed = charge * rng.randrange(55, 90) // 100
        contractual = charge - allowed
        kind = rng.random()
        if kind < 0.6:
            cas.append(f"CAS*CO*45*{_money(contractual)}")
        elif kind < 0.8:
            patient = min(allowed, 2000)
            cas.append(f"CAS*CO*45*{_money(contractual)}")
            cas.append(f"CAS*PR*3*{_money(patient)}")
        else:
            deductible = allowed // 3
            coinsurance = (allowed - deductible) // 5
            patient = deductible + coinsurance
            cas.append(f"CAS*CO*45*{_money(contractual)}**253*0")
            cas.append(f"CAS*PR*1*{_money(deductible)}*1*2*{_money(coinsurance)}")
        paid = allowed - patient
    if status == "22":  # a reversal: the original payment negated, reasons kept
        charge, paid, patient = -charge, -paid, -patient
        cas = [_negated(c) for c in cas]
    procedure = f"HC:{code}" + (f":{modifier}" if modifier else "")
    segments = [f"SVC*{procedure}*{_money(charge)}*{_money(paid)}**{units}"]
    if rng.random() < 0.6:
        segments.append(f"DTM*472*{date}")
    segments.extend(cas)
    segments.append(f"REF*6R*{line_id}")
    if status not in ("4", "22") and rng.random() < 0.2:
        segments.append(f"AMT*B6*{_money(paid + patient)}")
    if status == "4" or rng.random() < 0.05:
        segments.append(f"LQ*HE*{rng.choice(REMARKS)}")
    return segments, paid, patient


def generate_835(claims: int, *, seed: int = SEED, claims_per_st: int = CLAIMS_PER_ST) -> bytes:
    """A balanced 835 interchange of ``claims`` claims, ``claims_per_st`` per transaction.

    The random draws are sequential, so the first N claims of a bigger file are the claims of
    ``generate_835(N)`` (the ST holding the last one may differ in PLB and totals).
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    out = [
        "ISA*00*          *00*          *ZZ*87726          *ZZ*BENCHPROV      *261128*1200*^*"
        "00501*000000101*0*T*:~",
        "GS*HP*87726*BENCHPROV*20261128*1200*101*X*005010X221A1~",
    ]
    st_count = 0
    number = 0
    while number < claims:
        st_count += 1
        body: list[str] = ["LX*1"]
        total_paid = 0
        for _ in range(min(claims_per_st, claims - number)):
            number += 1
            pcn = f"C{number:011d}"
            date = f"202609{1 + rng.randrange(28):02d}"
            roll = rng.random()
            status = "4" if roll < 0.07 else "22" if roll < 0.10 else "2" if roll < 0.15 else "1"
            lines: list[str] = []
            charge = paid = patient = 0
            for index in range(rng.choice(LINES_PER_CLAIM)):
                segments, line_paid, line_patient = _line(rng, status, date, f"{pcn}-{index + 1}")
                lines.extend(segments)
                charge += int(Decimal(segments[0].split("*")[2]) * 100)
                paid += line_paid
                patient += line_patient
            claim_cas = []
            if status == "2" and paid > 0:  # secondary: the prior payer's share, claim level
                prior = paid // 4
                claim_cas.append(f"CAS*OA*23*{_money(prior)}")
                paid -= prior
            total_paid += paid
            frequency = "8" if status == "22" else "1"
            body.append(
                f"CLP*{pcn}*{status}*{_money(charge)}*{_money(paid)}*"
                f"{_money(patient) if patient else ''}*12*P{number:013d}*11*{frequency}"
            )
            body.extend(claim_cas)
            body.append(
                f"NM1*QC*1*LAST{rng.randrange(3000):04d}*FIRST{rng.randrange(400):03d}****MI*"
                f"W{rng.randrange(10**9):09d}"
            )
            if rng.random() < 0.1:
                body.append("NM1*82*1*RENDER*DOC****XX*1234567893")
            body.append(f"DTM*232*{date}")
            if rng.random() < 0.2:
                body.append(f"DTM*233*{date}")
            body.extend(lines)
        plb_total = 0
        if st_count % 2 == 1:
            interest = rng.randrange(100, 5000)
            takeback = rng.randrange(1000, 20000)
            plb_total = takeback - interest
            body.append(
                f"PLB*1234567893*20261231*L6*{_money(-interest)}*"
                f"WO:C{rng.randrange(1, number + 1):011d}*{_money(takeback)}"
            )
        header = [
            f"ST*835*{st_count:04d}",
            f"BPR*I*{_money(total_paid - plb_total)}*C*ACH*CCP*01*011000015*DA*123456789*"
            "1512345678**01*021000021*DA*987654321*20261128",
            f"TRN*1*EFT{st_count:08d}*1512345678",
            "DTM*405*20261127",
            "N1*PR*ACME HEALTH PLAN",
            "N3*PO BOX 1000",
            "N4*HARTFORD*CT*06101",
            "REF*2U*87726",
            "PER*BL*PROVIDER SERVICES*TE*8005550100",
            "N1*PE*CLINIC 01 MEDICAL GROUP*XX*1234567893",
            "REF*TJ*100000001",
        ]
        segments = header + body
        out.append("~".join(segments) + "~")
        out.append(f"SE*{len(segments) + 1}*{st_count:04d}~")
    out.append(f"GE*{st_count}*101~IEA*1*000000101~")
    return "".join(out).encode("ascii")


# --------------------------------------------------------------------------------------------
# Contenders (each runs in its own subprocess; each returns what it counted)


def run_split(path: Path) -> dict[str, Any]:
    text = path.read_bytes().decode("ascii")
    segments = 0
    for segment in text.split("~"):
        segment.split("*")
        segments += 1
    return {"segments": segments}


def run_reader(path: Path) -> dict[str, Any]:
    from revcycle.x12.reader import _gc_paused, iter_segments

    segments = 0
    with _gc_paused():  # as parse_835 runs it
        for _segment in iter_segments(path.read_bytes(), path.name):
            segments += 1
    return {"segments": segments}


def run_revcycle(path: Path) -> dict[str, Any]:
    from revcycle.remits.parse_835 import parse_835_file

    tables = parse_835_file(path)
    return {
        "claims": len(tables.claim_rows),
        "lines": len(tables.service_line_rows),
        "adjustments": len(tables.adjustment_rows),
        "paid": str(sum((row[5] for row in tables.claim_rows), Decimal(0))),  # CLP04 paid_amount
        "unbalanced": len(tables.unbalanced),
        "rows": sum(len(rows) for rows in tables.as_dict().values()),
    }


def run_edi_835_parser(path: Path) -> dict[str, Any]:
    import warnings

    import pandas as pd
    from edi_835_parser import parse
    from edi_835_parser.transaction_set.transaction_set import TransactionSet
    from edi_835_parser.transaction_set.transaction_sets import TransactionSets

    warnings.simplefilter("ignore")  # it warns for every segment it does not know (CAS, LX)
    sets = parse(str(path))
    frames = []
    for transaction_set in sets:  # TransactionSet.to_dataframe, one payer per ST
        payer = next(o for o in transaction_set.organizations if o.organization.type == "payer")
        data = []
        for claim in transaction_set.claims:
            for service in claim.services:
                datum = TransactionSet.serialize_service(
                    transaction_set.financial_information, payer, claim, service
                )
                for index, adjustment in enumerate(service.adjustments):
                    datum[f"adj_{index}_group"] = adjustment.group_code.code
                    datum[f"adj_{index}_code"] = adjustment.reason_code.code
                    datum[f"adj_{index}_amount"] = adjustment.amount
                for index, reference in enumerate(service.references):
                    datum[f"ref_{index}_qual"] = reference.qualifier.code
                    datum[f"ref_{index}_value"] = reference.value
                for index, remark in enumerate(service.remarks):
                    datum[f"rem_{index}_qual"] = remark.qualifier.code
                    datum[f"rem_{index}_code"] = remark.code.code
                data.append(datum)
        frames.append(pd.DataFrame(data))
    frame = TransactionSets.sort_columns(pd.concat(frames))
    paid = sum(c.claim.paid_amount for s in sets for c in s.claims)
    return {"claims": sets.count_claims(), "lines": len(frame), "paid": f"{paid:.2f}"}


def run_pyx12(path: Path) -> dict[str, Any]:
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    def amount(segment: Any, name: str) -> Decimal | None:
        value = segment.get_value(name)
        return Decimal(value) if value else None

    claims = lines = adjustments = 0
    paid = Decimal(0)
    with path.open(encoding="ascii") as handle:
        reader = pyx12.x12context.X12ContextReader(
            pyx12.params.params(), pyx12.error_handler.errh_null(), handle
        )
        for node in reader.iter_segments("2100"):
            if node.id != "2100":  # header and trailer segments: BPR, TRN, N1, REF, DTM, PLB
                segment = node.seg_data
                sid = segment.get_seg_id()
                if sid == "BPR":
                    amount(segment, "BPR02")
                    segment.get_value("BPR16")
                elif sid in ("TRN", "N1", "REF", "DTM"):
                    segment.get_value(f"{sid}02")
                elif sid == "PLB":
                    for n in range(4, 15, 2):
                        amount(segment, f"PLB{n:02d}")
                continue
            claims += 1
            for item in node.iterate_segments():  # every segment of the claim and its lines
                segment = item["segment"]
                sid = segment.get_seg_id()
                if sid == "CLP":
                    [segment.get_value(f"CLP{n:02d}") for n in (1, 2, 6, 7, 8, 9)]
                    amount(segment, "CLP03")
                    paid += amount(segment, "CLP04") or 0
                    amount(segment, "CLP05")
                elif sid == "SVC":
                    lines += 1
                    segment.get_value("SVC01")
                    amount(segment, "SVC02")
                    amount(segment, "SVC03")
                    segment.get_value("SVC04")
                    segment.get_value("SVC05")
                elif sid == "CAS":
                    segment.get_value("CAS01")
                    for n in range(2, 19, 3):
                        if segment.get_value(f"CAS{n:02d}"):
                            adjustments += 1
                            amount(segment, f"CAS{n + 1:02d}")
                elif sid in ("DTM", "REF", "AMT", "LQ"):
                    segment.get_value(f"{sid}01")
                    segment.get_value(f"{sid}02")
    return {"claims": claims, "lines": lines, "adjustments": adjustments, "paid": str(paid)}


CONTENDERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "split": run_split,
    "reader": run_reader,
    "revcycle": run_revcycle,
    "edi-835-parser": run_edi_835_parser,
    "pyx12": run_pyx12,
}


def contender_main(name: str, path: Path) -> None:
    """In the subprocess: import, then time the contender's work alone; print one JSON line."""
    CONTENDERS[name](path.with_name("warmup.835"))  # imports, lazy set-up, map loading
    rss_before = peak_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    counts = CONTENDERS[name](path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "rss_before_mb": rss_before,
                "rss_peak_mb": peak_rss_mb(),
                **counts,
            }
        )
    )


def run_contender(name: str, path: Path) -> dict[str, Any]:
    completed = subprocess.run(  # noqa: S603 - our own script and interpreter
        [sys.executable, __file__, "--contender", name, "--file", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------------------------
# Report


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of parse_835 and baselines")
    parser.add_argument(
        "--pyx12-claims",
        type=int,
        default=0,
        help="run pyx12 on the first N claims only and extrapolate (0: the whole file)",
    )
    parser.add_argument("--no-record", action="store_true", help="do not update RESULTS.md")
    parser.add_argument("--contender", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.contender:
        contender_main(args.contender, args.file)
        return 0

    load_start = _load()
    with tempfile.TemporaryDirectory(prefix="bench835-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        data = generate_835(args.claims)
        generated = time.perf_counter() - started
        path = folder / "bench.835"
        path.write_bytes(data)
        (folder / "warmup.835").write_bytes(generate_835(50, claims_per_st=25, seed=1))
        segments = data.count(b"~")
        st_count = data.count(b"~ST*")
        plb_pairs = sum(len(s.split(b"*")) // 2 - 1 for s in data.split(b"~") if s[:4] == b"PLB*")
        print(
            f"generated {args.claims:,} claims, {len(data) / 1e6:.1f} MB, {segments:,} segments, "
            f"{st_count} ST in {generated:.1f} s"
        )

        results: dict[str, list[dict[str, Any]]] = {}
        for name in ("split", "reader", "revcycle"):
            results[name] = [run_contender(name, path) for _ in range(args.runs)]
            print(name, [f"{r['cpu']:.2f}" for r in results[name]], "CPU s")
        results["edi-835-parser"] = [run_contender("edi-835-parser", path)]
        print("edi-835-parser", f"{results['edi-835-parser'][0]['cpu']:.2f} CPU s")

        pyx12_claims = args.pyx12_claims if 0 < args.pyx12_claims < args.claims else args.claims
        pyx12_path = path
        if pyx12_claims < args.claims:
            pyx12_path = folder / "slice.835"
            pyx12_path.write_bytes(generate_835(pyx12_claims))
        pyx12 = run_contender("pyx12", pyx12_path)
        scale = args.claims / pyx12_claims
        results["pyx12"] = [{**pyx12, "wall": pyx12["wall"] * scale, "cpu": pyx12["cpu"] * scale}]
        print("pyx12", f"{pyx12['cpu']:.2f} CPU s on {pyx12_claims:,} claims")
    load_end = _load()

    ours = results["revcycle"]
    best_cpu = min(r["cpu"] for r in ours)
    best_wall = min(r["wall"] for r in ours)
    median_cpu = statistics.median(r["cpu"] for r in ours)
    first = ours[0]

    # The contenders must have read the same claims.
    problems = []
    if results["edi-835-parser"][0]["claims"] != first["claims"]:
        problems.append("edi-835-parser claim count differs")
    if Decimal(results["edi-835-parser"][0]["paid"]) != Decimal(first["paid"]):
        problems.append("edi-835-parser total paid differs")
    if pyx12_claims == args.claims and (
        (pyx12["claims"], pyx12["lines"], Decimal(pyx12["paid"]))
        != (first["claims"], first["lines"], Decimal(first["paid"]))
    ):
        problems.append("pyx12 claims, lines or total paid differ")
    if first["unbalanced"]:
        problems.append(f"{first['unbalanced']} unbalanced checks in a balanced file")

    described = {
        "split": "str.split into segments and elements, nothing kept",
        "reader": "project reader (`iter_segments`) alone, nothing kept",
        "revcycle": f"`parse_835`, all six tables ({first['rows']:,} rows), best of {args.runs}",
        "edi-835-parser": "`parse(path)` + its `to_dataframe` flattening",
        "pyx12": (
            "`X12ContextReader` walking every 2100/2110 loop"
            + (
                ""
                if pyx12_claims == args.claims
                else f"; **timed on the first {pyx12_claims:,} claims, extrapolated x{scale:g}**"
            )
        ),
    }
    table = [
        "| contender | what it does | wall s | CPU s | claims per CPU s | peak RSS MB "
        "(before work) | CPU time vs revcycle |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        cpu = min(r["cpu"] for r in runs)
        wall = min(r["wall"] for r in runs)
        ratio = cpu / best_cpu
        table.append(
            f"| {name} | {described[name]} | {wall:.2f} | {cpu:.2f} | "
            f"{args.claims / cpu:,.0f} | {max(r['rss_peak_mb'] for r in runs):,.0f} "
            f"({runs[0]['rss_before_mb']:,.0f}) | {ratio:.2f}x |"
        )
    facts = machine()
    edi, slow = results["edi-835-parser"][0], results["pyx12"][0]
    rows = [
        (
            "file",
            f"{args.claims:,} claims, {first['lines']:,} lines "
            f"({first['lines'] / args.claims:.2f} per claim), {first['adjustments']:,} CAS "
            f"triplets, {plb_pairs} PLB pairs, {st_count} ST, {segments:,} segments, "
            f"{len(data) / 1e6:.1f} MB (generated in {generated:.1f} s)",
        ),
        (
            "revcycle parse_835",
            f"best {best_cpu:.2f} CPU s / {best_wall:.2f} s wall, median {median_cpu:.2f} CPU s; "
            f"{args.claims / best_cpu:,.0f} claims/s, {len(data) / 1e6 / best_cpu:.1f} MB/s",
        ),
        (
            "speed-up (CPU, best)",
            f"{edi['cpu'] / best_cpu:.1f}x edi-835-parser, {slow['cpu'] / best_cpu:.0f}x pyx12"
            + ("" if pyx12_claims == args.claims else " (pyx12 extrapolated)"),
        ),
        (
            "speed-up (wall, best)",
            f"{edi['wall'] / best_wall:.1f}x edi-835-parser, {slow['wall'] / best_wall:.0f}x pyx12",
        ),
        (
            "agreement",
            "claims, lines and total paid agree"
            if not problems
            else "; ".join(problems) + " (see the script)",
        ),
        (
            "machine",
            f"{facts['cpu']}, {facts['cores']} cores, {facts['memory']}, {facts['platform']}",
        ),
        ("python / load average", f"{facts['python']} / {load_start} at start, {load_end} at end"),
        (
            "versions",
            f"pyx12 {version('pyx12')}, edi-835-parser {version('edi-835-parser')}, "
            f"commit {facts['commit']}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(table))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")

    if not args.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = "\n".join(
            [
                f"## {stamp}: 835 reader (`bench/bench_835_reader.py`)",
                "",
                *table,
                "",
                "| measure | result |",
                "|---|---|",
                *[f"| {name} | {value} |" for name, value in rows],
                "",
            ]
        )
        record(section)
        print(f"recorded in {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

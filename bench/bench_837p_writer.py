"""Benchmark: 837P writing speed and memory for 100,000 synthetic claims.

Run from the project root::

    .venv/bin/python bench/bench_837p_writer.py            # 100,000 claims, 3 timed runs
    .venv/bin/python bench/bench_837p_writer.py --claims 20000 --runs 1 --no-record

What it does, in order:

1. builds ``--claims`` Claim objects directly (no warehouse): 40 billing providers, 300
   rendering clinicians, one subscriber per ~1.4 claims, a fifth of the claims for a
   dependent (2000C), 1-4 lines per claim (mean about 2.3), prices from a 40-item chargemaster;
2. writes them ``--runs`` times as one 837P interchange (5,000 claims per ST) to a real file in
   a temporary folder and reports claims/s (best and median; the machine is shared, so the
   best run is the fairest figure for the code and the median says what to expect);
3. one more run under ``tracemalloc``: the writer's own peak allocation (the claims list was
   built before tracing started, so it is not counted); the process's max RSS is reported too;
4. a baseline: the same segment sequence built the plain way (``"*".join`` of an element list
   per segment, no cleaning, no caching, no grouping, no validation) and written the same way;
5. validates one transaction set of 1,000 claims with pyx12 4.0.0
   (``revcycle.x12.validate.validate_bytes``);
6. prepends a results table to ``bench/RESULTS.md`` (newest first) unless ``--no-record``.
"""

from __future__ import annotations

import argparse
import gc
import io
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import TextIO

try:  # run as a script: bench/ is on sys.path
    from bench_support import BENCH_DIR, RESULTS, machine, record
except ModuleNotFoundError:  # imported as bench.<module> (the tests)
    from bench.bench_support import BENCH_DIR, RESULTS, machine, record

from revcycle.claims.model import (
    Address,
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimType,
    Payer,
    Person,
    RenderingProvider,
    Subscriber,
)
from revcycle.x12.envelope import (
    ControlNumbers,
    SubmitterConfig,
    transaction_sets_needed,
)
from revcycle.x12.writer_837p import write_837p

CLAIMS_PER_ST = 5000
SAMPLE_CLAIMS = 1000
NOW = datetime(2026, 11, 2, 14, 30)

SUBMITTER = SubmitterConfig(
    submitter_name="REVCYCLE BENCH BILLING",
    submitter_id="BENCHSUB",
    contact_name="BENCH CONTACT",
    contact_phone="5555550100",
    receiver_name="BENCH CLEARINGHOUSE",
    receiver_id="BENCHRCV",
)

FIRST_NAMES = [f"FIRST{n:03d}" for n in range(400)]
LAST_NAMES = [f"LAST{n:04d}" for n in range(3000)]
CITIES = [(f"CITY{n:02d}", "IL", f"6{n:04d}") for n in range(60)]
PROCEDURES = ["99213", "99214", "99203", "36415", "85025", "80053", "93000", "71046", "G0439"]


def _npi(n: int) -> str:
    """A 10-digit NPI with a valid Luhn check digit over '80840' + the first nine."""
    first9 = f"1{n:08d}"
    total = 0
    for index, char in enumerate(reversed("80840" + first9)):
        value = int(char)
        if index % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return first9 + str((10 - total % 10) % 10)


def build_claims(count: int, seed: int = 20261102) -> list[Claim]:
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not security
    payer = Payer("87726", "ACME HEALTH PLAN", Address("PO BOX 1000", "HARTFORD", "CT", "06101"))
    billing = [
        BillingProvider(
            npi=_npi(n),
            name=f"CLINIC {n:02d} MEDICAL GROUP",
            tin=f"{100000000 + n}",
            address=Address(f"{100 + n} MAIN ST", "SPRINGFIELD", "IL", "627011234"),
            taxonomy="207Q00000X",
        )
        for n in range(40)
    ]
    rendering = [
        RenderingProvider(
            _npi(1000 + n), rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES), "207R00000X"
        )
        for n in range(300)
    ]
    prices = [Decimal(rng.randrange(1500, 60000)) / 100 for _ in range(40)]
    price_of = {code: prices[i % len(prices)] for i, code in enumerate(PROCEDURES)}

    def person(n: int) -> Person:
        city, state, zip_code = rng.choice(CITIES)
        return Person(
            last_name=rng.choice(LAST_NAMES),
            first_name=rng.choice(FIRST_NAMES),
            middle_initial=rng.choice(["A", "B", "J", None]),
            birth_date=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 30000)),
            sex=rng.choice("MF"),
            address=Address(f"{rng.randrange(1, 9999)} OAK AVE", city, state, zip_code),
            person_id=f"P{n:08d}",
        )

    subscribers: list[tuple[Subscriber, Person]] = []
    claims: list[Claim] = []
    start = date(2026, 9, 1)
    for n in range(count):
        if not subscribers or rng.random() < 0.7:  # ~1.4 claims per subscriber
            holder = person(len(subscribers) * 2)
            subscriber = Subscriber(
                member_id=f"W{rng.randrange(10**9):09d}",
                person=holder,
                claim_filing_indicator="CI",
                group_number=f"G{rng.randrange(500):04d}",
            )
            dependent = person(len(subscribers) * 2 + 1)
            subscribers.append((subscriber, dependent))
        subscriber, dependent = subscribers[-1] if rng.random() < 0.8 else rng.choice(subscribers)
        is_dependent = rng.random() < 0.2
        claim_id = f"C{n:016X}"
        day = start + timedelta(days=rng.randrange(0, 60))
        diagnoses = tuple(rng.sample(["I10", "E119", "E785", "J449", "M545", "R51", "Z0000"], 3))
        lines = []
        for number in range(1, rng.choice((1, 2, 2, 2, 3, 3, 4)) + 1):
            code = rng.choice(PROCEDURES)
            lines.append(
                ClaimLine(
                    claim_line_id=f"{claim_id}{number:04d}",
                    line_number=number,
                    service_date=day,
                    procedure_code=code,
                    charge_amount=price_of[code],
                    units=1,
                    modifiers=("25",) if number == 1 and rng.random() < 0.3 else (),
                    pointers=(1, 2) if number == 1 else (rng.randrange(1, 4),),
                )
            )
        claims.append(
            Claim(
                claim_id=claim_id,
                claim_type=ClaimType.PROFESSIONAL,
                payer=payer,
                subscriber=subscriber,
                patient=dependent if is_dependent else subscriber.person,
                relationship_to_subscriber="19" if is_dependent else "18",
                billing_provider=rng.choice(billing),
                rendering_provider=rng.choice(rendering),
                facility=None,
                service_date=day,
                service_date_to=day,
                diagnoses=diagnoses,
                lines=tuple(lines),
                place_of_service="11",
            )
        )
    return claims


def write_with_writer(out: TextIO, claims: Sequence[Claim]) -> None:
    numbers = transaction_sets_needed(len(claims), CLAIMS_PER_ST)
    write_837p(
        out,
        claims,
        submitter=SUBMITTER,
        control=ControlNumbers(1, 1, range(1, numbers + 1)),
        now=NOW,
        claims_per_transaction=CLAIMS_PER_ST,
    )


def write_baseline(out: TextIO, claims: Sequence[Claim]) -> None:
    """The same kind of segments per claim, built the plain way and with no checks at all:
    what an unoptimised straightforward writer costs. One 2000B per claim, no ST splitting."""

    def seg(*elements: str) -> str:
        return "*".join(elements) + "~\n"

    out.write(
        seg(
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            "BENCHSUB".ljust(15),
            "ZZ",
            "BENCHRCV".ljust(15),
            "261102",
            "1430",
            "^",
            "00501",
            "000000001",
            "0",
            "T",
            ":",
        )
    )
    for hl, claim in enumerate(claims, 1):
        parts: list[str] = []
        s = claim.subscriber
        p = s.person
        assert p.address is not None and p.birth_date is not None
        parts.append(seg("HL", str(hl), "1", "22", "0"))
        parts.append(
            seg(
                "SBR", "P", "18", s.group_number or "", "", "", "", "", "", s.claim_filing_indicator
            )
        )
        parts.append(
            seg(
                "NM1",
                "IL",
                "1",
                p.last_name,
                p.first_name or "",
                p.middle_initial or "",
                "",
                "",
                "MI",
                s.member_id,
            )
        )
        parts.append(seg("N3", p.address.line1))
        parts.append(seg("N4", p.address.city, p.address.state, p.address.zip))
        parts.append(seg("DMG", "D8", p.birth_date.strftime("%Y%m%d"), p.sex or "U"))
        parts.append(
            seg("NM1", "PR", "2", claim.payer.name, "", "", "", "", "PI", claim.payer.payer_id)
        )
        total = sum((line.charge_amount for line in claim.lines), Decimal(0))
        parts.append(
            seg(
                "CLM",
                claim.claim_id,
                str(total),
                "",
                "",
                f"{claim.place_of_service}:B:1",
                "Y",
                "A",
                "Y",
                "Y",
            )
        )
        parts.append(
            seg("HI", *[("ABK:" if i == 0 else "ABF:") + d for i, d in enumerate(claim.diagnoses)])
        )
        for number, line in enumerate(claim.lines, 1):
            parts.append(seg("LX", str(number)))
            parts.append(
                seg(
                    "SV1",
                    ":".join(["HC", line.procedure_code or "", *line.modifiers]),
                    str(line.charge_amount),
                    "UN",
                    str(line.units),
                    "",
                    "",
                    ":".join(map(str, line.pointers)),
                )
            )
            parts.append(seg("DTP", "472", "D8", line.service_date.strftime("%Y%m%d")))
            parts.append(seg("REF", "6R", line.claim_line_id))
        out.write("".join(parts))
    out.write(seg("IEA", "1", "000000001"))


def timed(
    write: Callable[[TextIO, Sequence[Claim]], None],
    claims: Sequence[Claim],
    folder: Path,
    runs: int,
) -> tuple[list[float], list[float], int]:
    """Wall-clock and CPU seconds of each run, and the file size. CPU time is reported too
    because the machine may be shared: it is what the code costs; wall time is what you wait."""
    wall: list[float] = []
    cpu: list[float] = []
    size = 0
    for run in range(runs):
        path = folder / f"run{run}.x12"
        start, start_cpu = time.perf_counter(), time.process_time()
        with path.open("w", encoding="ascii", newline="", buffering=1 << 20) as out:
            write(out, claims)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        size = path.stat().st_size
        path.unlink()
    return wall, cpu, size


def traced_peak(claims: Sequence[Claim], folder: Path) -> int:
    path = folder / "traced.x12"
    tracemalloc.start()
    try:
        with path.open("w", encoding="ascii", newline="", buffering=1 << 20) as out:
            write_with_writer(out, claims)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        path.unlink()
    return peak


def validate_sample(claims: Sequence[Claim]) -> tuple[bool, int, float, int]:
    from revcycle.x12.validate import validate_bytes

    out = io.StringIO(newline="")
    write_with_writer(out, claims[:SAMPLE_CLAIMS])
    start = time.perf_counter()
    report = validate_bytes(out.getvalue(), "bench-sample.x12")
    return report.is_valid, len(report.errors), time.perf_counter() - start, len(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)

    build_start = time.perf_counter()
    claims = build_claims(args.claims)
    build_seconds = time.perf_counter() - build_start
    line_count = sum(len(c.lines) for c in claims)
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with tempfile.TemporaryDirectory(prefix="bench837p-") as tmp:
        folder = Path(tmp)
        seconds, cpu_seconds, size = timed(write_with_writer, claims, folder, args.runs)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = traced_peak(claims, folder)
        base_seconds, base_cpu, base_size = timed(write_baseline, claims, folder, args.runs)
    valid, errors, validate_seconds, sample_size = validate_sample(claims)

    best, median = min(seconds), statistics.median(seconds)
    facts = machine()
    rows = [
        (
            "claims / lines",
            f"{len(claims):,} / {line_count:,} ({line_count / len(claims):.2f} lines per claim)",
        ),
        (
            "837P writer, best of " + str(args.runs),
            f"{len(claims) / best:,.0f} claims/s ({best:.2f} s, {size / best / 1e6:.1f} MB/s)",
        ),
        ("837P writer, median", f"{len(claims) / median:,.0f} claims/s ({median:.2f} s)"),
        (
            "837P writer, per CPU second (best / median)",
            f"{len(claims) / min(cpu_seconds):,.0f} / "
            f"{len(claims) / statistics.median(cpu_seconds):,.0f} claims/s",
        ),
        ("file size", f"{size / 1e6:.1f} MB ({size / len(claims):.0f} bytes per claim)"),
        ("writer peak allocation (tracemalloc)", f"{peak / 1e6:.1f} MB"),
        (
            "process max RSS before / after writing",
            f"{rss_before / 1024:.0f} MB / {rss_after / 1024:.0f} MB "
            f"(the claims are held in memory; built in {build_seconds:.1f} s)",
        ),
        (
            "plain join baseline, best",
            f"{len(claims) / min(base_seconds):,.0f} claims/s ({min(base_seconds):.2f} s; "
            f"{len(claims) / min(base_cpu):,.0f} per CPU second; {base_size / 1e6:.1f} MB; "
            "no cleaning, grouping, caching or checks)",
        ),
        (
            "pyx12 sample",
            f"{SAMPLE_CLAIMS:,} claims, one ST, {sample_size / 1e3:.0f} kB: "
            f"{'valid' if valid else 'INVALID'}, {errors} errors, {validate_seconds:.1f} s",
        ),
        (
            "machine",
            f"{facts['cpu']}, {facts['cores']} cores, {facts['memory']}, {facts['platform']}",
        ),
        (
            "python / load average",
            f"{facts['python']} / {facts['load']} (1-minute, at the end of the run)",
        ),
        ("versions", f"pyx12 {version('pyx12')}, commit {facts['commit']}"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")

    if not args.no_record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        table = [
            f"## {stamp}: 837P writer (`bench/bench_837p_writer.py`)",
            "",
            "| measure | result |",
            "|---|---|",
        ]
        table += [f"| {name} | {value} |" for name, value in rows]
        record("\n".join(table) + "\n")
        print(f"recorded in {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())

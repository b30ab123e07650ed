"""Run the reliability fuzz properties for a given time and print a summary.

    .venv/bin/python fuzz/run.py --minutes 30 --target all

The properties are the Hypothesis tests of tests/reliability/test_fuzz_x12_reader.py (X12
reader, 835/999/277CA/271 parsers, inbox) and test_fuzz_extract_loader.py (EMR extract
loader), the same ones ``make test`` runs with a few hundred examples. Here they run under the
``fuzz`` settings profile (``HYPOTHESIS_PROFILE=fuzz``: ten times the examples per call, a
``@reproduce_failure`` blob on failure), called round after round until the time is up. Each
failure is written to ``fuzz/findings/`` (traceback and Hypothesis' falsifying example) and
the run goes on; the exit status is 1 when anything failed. See fuzz/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
MODULES = {
    "x12": "tests.reliability.test_fuzz_x12_reader",
    "extracts": "tests.reliability.test_fuzz_extract_loader",
}


@dataclass
class Tally:
    calls: int = 0
    examples: int = 0
    cpu_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)  # the files written


def _properties(module: ModuleType) -> list[tuple[str, Callable[[], None]]]:
    """The module's Hypothesis tests: callable without arguments, they draw their own."""
    short = module.__name__.rsplit(".", 1)[1]
    return [
        (f"{short}::{name}", test)
        for name, test in vars(module).items()
        if name.startswith("test_") and getattr(test, "is_hypothesis_test", False)
    ]


def _write_finding(folder: Path, name: str, exc: BaseException) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.txt"
    n = 1
    while path.exists():
        n += 1
        path = path.with_name(f"{path.stem}-{n}.txt")
    text = "".join(traceback.format_exception(exc))  # includes Hypothesis' notes
    path.write_text(f"{name}\n\n{text}", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    parser.add_argument(
        "--target",
        choices=["x12", "extracts", "all"],
        default="all",
        help="x12: reader, parsers and inbox; extracts: the extract loader; all: both",
    )
    parser.add_argument(
        "--findings",
        type=Path,
        default=ROOT / "fuzz" / "findings",
        help="folder for failure reports (default fuzz/findings)",
    )
    args = parser.parse_args(argv)

    # Before the test modules are imported: their @settings are built from it.
    os.environ["HYPOTHESIS_PROFILE"] = "fuzz"
    sys.path.insert(0, str(ROOT))
    warnings.filterwarnings("ignore", message="Generating overly large repr")
    # Thousands of "quarantined ..." warnings are the expected outcome, not news.
    logging.getLogger("revcycle").addHandler(logging.NullHandler())
    import importlib

    from tests.reliability import fuzzing

    names = list(MODULES) if args.target == "all" else [args.target]
    properties = [
        prop for key in names for prop in _properties(importlib.import_module(MODULES[key]))
    ]
    tallies = {name: Tally() for name, _ in properties}
    deadline = time.monotonic() + args.minutes * 60
    started = time.monotonic()
    rounds = 0
    print(
        f"fuzzing {len(properties)} properties ({', '.join(names)}) for {args.minutes:g} min, "
        f"{fuzzing.FUZZ_FACTOR}x the make-test examples per call",
        flush=True,
    )
    while time.monotonic() < deadline:
        rounds += 1
        for name, test in properties:
            if time.monotonic() >= deadline:
                break
            tally = tallies[name]
            before = sum(fuzzing.EXAMPLES.values())
            cpu = time.process_time()
            try:
                test()
            except Exception as exc:  # a finding: report it and go on
                report = _write_finding(args.findings, name, exc)
                tally.failures.append(str(report))
                print(f"FAILED {name}: {type(exc).__name__} (see {report})", flush=True)
            tally.calls += 1
            tally.examples += sum(fuzzing.EXAMPLES.values()) - before
            tally.cpu_seconds += time.process_time() - cpu
        print(f"round {rounds} done after {(time.monotonic() - started) / 60:.1f} min", flush=True)

    width = max(len(name) for name in tallies)
    print(f"\n{'property':<{width}}  calls  examples  cpu s  failures")
    for name, tally in tallies.items():
        print(
            f"{name:<{width}}  {tally.calls:5d}  {tally.examples:8d}  {tally.cpu_seconds:5.0f}  "
            f"{len(tally.failures):8d}"
        )
    failures = [path for tally in tallies.values() for path in tally.failures]
    total = sum(t.examples for t in tallies.values())
    elapsed = (time.monotonic() - started) / 60
    print(f"\n{rounds} rounds, {total} examples in {elapsed:.1f} min; {len(failures)} failures")
    for path in failures:
        print(f"  {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

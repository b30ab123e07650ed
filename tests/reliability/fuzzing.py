"""Shared by the reliability tests and ``fuzz/run.py``: input strategies, the properties'
checks and the example budget.

The budget: ``make test`` runs every property with a modest number of examples (settings
profile ``revcycle-test``); with ``HYPOTHESIS_PROFILE=fuzz`` (what ``fuzz/run.py`` sets) each
call of a property runs :data:`FUZZ_FACTOR` times as many (profile ``fuzz``, which also prints
a ``@reproduce_failure`` blob), and the runner calls the properties again and again until its
time is up. Hypothesis' per-example deadline is off: the properties measure their own time
and allow :data:`BASE_SECONDS` plus :data:`SECONDS_PER_MB` per megabyte of input: a guard
against endless loops, while growth with input size is judged by ratio.

PROVENANCE: the seeds of the mutations are the public sample files of tests/fixtures/x12
(see its PROVENANCE.md); the extract seeds are invented rows.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from revcycle.remits.parse_271 import parse_271
from revcycle.remits.parse_835 import parse_835
from revcycle.remits.parse_acks import parse_277ca, parse_999
from revcycle.x12.reader import X12ReadError, iter_segments, iter_transactions, read_interchanges

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x12"

FUZZ_FACTOR = 10
"""How many times more examples one call of a property runs under the ``fuzz`` profile."""

EXAMPLES: Counter[str] = Counter()
"""Examples run per property in this process (fuzz/run.py reports them)."""

_SUPPRESSED = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.filter_too_much,
]
settings.register_profile(
    "revcycle-test",
    deadline=None,  # we bound time ourselves, per megabyte (see time_bound)
    database=None,  # no .hypothesis/ folder in the repository
    suppress_health_check=_SUPPRESSED,
)
settings.register_profile(
    "fuzz",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_SUPPRESSED,
)

BASE_SECONDS = 2.0
SECONDS_PER_MB = 4.0
"""The time bound of one call on one input, in CPU seconds of this process: a guard against a
loop that never ends or a badly quadratic step, not a speed test (speed is measured in
bench/). The reader and parsers use 0.03-0.3 CPU s per MB on a quiet machine; under the CI's
two-worker load one call took 1.2 CPU s on 460 kB, so the bound leaves a wide margin. Growth
with size is judged by ratio (test_pathological_shapes_take_linear_time), which load does not
skew."""


def cpu_seconds() -> float:
    """CPU time of this process (all its threads), not wall-clock time: the test machines are
    shared (two cores, other jobs running: a load average of 8 made wall-clock bounds fail),
    and a busy neighbour must not fail a test, while a quadratic step or an endless loop in
    our code burns our CPU all the same. A deadlock, which burns none, is left to
    pytest-timeout."""
    return time.process_time()


def fuzzing() -> bool:
    """True under the long-run profile (``HYPOTHESIS_PROFILE=fuzz``, set by fuzz/run.py)."""
    return os.environ.get("HYPOTHESIS_PROFILE", "") == "fuzz"


def budget(examples: int) -> settings:
    """Settings for one property: ``examples`` in ``make test``, many more when fuzzing. Only
    the decorated test gets them: the global default profile is left alone."""
    if fuzzing():
        return settings(settings.get_profile("fuzz"), max_examples=examples * FUZZ_FACTOR)
    return settings(settings.get_profile("revcycle-test"), max_examples=examples)


def time_bound(size: int) -> float:
    """Seconds one call may take on ``size`` bytes."""
    return BASE_SECONDS + SECONDS_PER_MB * size / 1_000_000


# --------------------------------------------------------------------------------------------
# X12: seeds


def _x12_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    for folder in ("835", "ack", "837p", "837i", "malformed"):
        for path in sorted((FIXTURES / folder).iterdir()):
            if path.is_file() and not path.name.endswith(".gz"):
                seeds[f"{folder}/{path.name}"] = path.read_bytes()
    return seeds


X12_SEEDS = _x12_seeds()
# The files the parsers read for real: mutations of these reach deep into the 835, 999, 277
# and 271 code; the 837s and malformed ones add other segments and envelopes to splice in.
PARSED_SEEDS = [
    data for name, data in X12_SEEDS.items() if name.startswith("835/") or name.startswith("ack/")
]


@dataclass(frozen=True)
class X12Text:
    """A file split the simple way: delimiters from a fixed-width ISA, else ``* : ~``."""

    element: str
    component: str
    terminator: str
    segments: list[list[str]]

    def render(
        self,
        segments: list[list[str]] | None = None,
        *,
        element: str | None = None,
        terminator: str | None = None,
        newline: str = "",
    ) -> str:
        sep = element or self.element
        end = (terminator or self.terminator) + newline
        return "".join(sep.join(seg) + end for seg in (segments or self.segments))


def split_x12(data: bytes) -> X12Text:
    text = data.decode("latin-1")
    start = text.find("ISA")
    element, component, terminator = "*", ":", "~"
    if start != -1 and len(text) >= start + 106 and text[start + 3] == text[start + 103]:
        element, component, terminator = text[start + 3], text[start + 104], text[start + 105]
        text = text[start:]
    body = text.replace("\r", "").replace("\n", "") if terminator not in "\r\n" else text
    segments = [s.strip().split(element) for s in body.split(terminator) if s.strip()]
    return X12Text(element, component, terminator, segments)


_SPLIT_SEEDS = [split_x12(data) for data in X12_SEEDS.values()]
_PARSED_SPLIT = [split_x12(data) for data in PARSED_SEEDS]
_ALL_SEGMENTS = [seg for seeds in _SPLIT_SEEDS for seg in seeds.segments]

# Values that break naive parsing: amounts Decimal() would accept but the guide does not,
# digits that are digits to str.isdigit() but not to int(), impossible dates, huge numbers,
# delimiters and bytes that are not ASCII.
INTERESTING_VALUES = [
    "",
    " ",
    "-",
    ".",
    "-.",
    "0",
    "-0",
    "-0.00",
    "1.",
    ".5",
    "1.005",
    "1.500",
    "1e3",
    "1E+3",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1_000",
    "+1",
    "--1",
    "1.2.3",
    " 1",
    "1 ",
    "\t1",
    "\uff11\uff12",  # fullwidth digits
    "\u00b2",  # superscript two: isdigit() but not int()
    "\u0663",  # Arabic-Indic three
    "9999999999999999.99",
    "-9999999999999999.99",
    "99999999999999999",
    "12345678901234567890.00",
    "0" * 40 + "1",
    "9" * 400,
    "20240229",
    "20230229",
    "00000000",
    "99991231",
    "20241301",
    "2024013",
    "202401011",
    "20240101-20231231",
    "RD8",
    "D8",
    "835",
    "999",
    "997",
    "277",
    "271",
    "837",
    "PR",
    "PE",
    "D",
    "C",
    "H",
    "I",
    "2",
    "PT",
    "22",
    "23",
    "HE",
    "1K",
    "2U",
    "472",
    "232",
    "405",
    "B6",
    "AU",
    "A7",
    "A1",
    "HC:99213:25:59:XE:GT:XX",
    "AD>D0120",
    ":",
    "::::",
    ">",
    "^",
    "*",
    "~",
    "|",
    "\x00",
    "\x1d",
    "\u00ff",
    "\u2603",
    "A" * 5000,
]

_MONEY_SEGMENTS = frozenset({"BPR", "CLP", "SVC", "CAS", "PLB", "AMT", "STC", "EB"})
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_EXTREMES = ["9999999999999999.99", "-9999999999999999.99", "0", "1"]
_DELIMITERS = ["*", "|", "!", "^", "~", ":", ">", "\x1d", "\x1c", "\x1f", "'", "+", " ", "\t"]
_TERMINATORS = ["~", "\n", "\r\n", "\r", "'", "!", "\x1c", "\x85", ""]


# --------------------------------------------------------------------------------------------
# X12: strategies


@st.composite
def mutated_x12(draw: st.DrawFn, seeds: Sequence[X12Text] = _PARSED_SPLIT) -> bytes:
    """A real file with segments and elements deleted, repeated, moved, spliced from another
    file or given odd values; then maybe other delimiters, line breaks or another encoding."""
    seed = draw(st.sampled_from(list(seeds)))
    segments = [list(seg) for seg in seed.segments]
    for _ in range(draw(st.integers(1, 8))):
        if not segments:
            segments.append(list(draw(st.sampled_from(_ALL_SEGMENTS))))
            continue
        i = draw(st.integers(0, len(segments) - 1))
        seg = segments[i]
        op = draw(
            st.sampled_from(
                [
                    "delete",
                    "duplicate",
                    "repeat",
                    "swap",
                    "move",
                    "splice",
                    "value",
                    "value",
                    "value",
                    "drop_element",
                    "add_elements",
                    "empty_elements",
                    "truncate_file",
                    "extremes",
                ]
            )
        )
        if op == "delete":
            del segments[i]
        elif op == "duplicate":
            segments.insert(i, list(seg))
        elif op == "repeat":
            count = draw(st.integers(2, 50))
            segments[i:i] = [list(seg) for _ in range(count)]
        elif op in ("swap", "move"):
            j = draw(st.integers(0, len(segments) - 1))
            if op == "swap":
                segments[i], segments[j] = segments[j], segments[i]
            else:
                segments.insert(j, segments.pop(i))
        elif op == "splice":
            segments.insert(i, list(draw(st.sampled_from(_ALL_SEGMENTS))))
        elif op == "value":
            k = draw(st.integers(0, len(seg)))
            value = draw(st.sampled_from(INTERESTING_VALUES) | st.text(max_size=12))
            if k < len(seg):
                seg[k] = value
            else:
                seg.append(value)
        elif op == "drop_element" and len(seg) > 1:
            del seg[draw(st.integers(1, len(seg) - 1))]
        elif op == "add_elements":
            seg.extend([draw(st.sampled_from(INTERESTING_VALUES))] * draw(st.integers(1, 30)))
        elif op == "empty_elements":
            segments[i] = [seg[0]] + [""] * draw(st.integers(0, 20))
        elif op == "truncate_file":
            del segments[i:]
        elif op == "extremes":  # every amount of the money segments at the edge of DECIMAL(18,2)
            for other in segments:
                if other[0] in _MONEY_SEGMENTS:
                    for k in range(1, len(other)):
                        if _NUMBER.fullmatch(other[k]):
                            other[k] = draw(st.sampled_from(_EXTREMES))
    layout = draw(st.sampled_from(["same", "same", "newlines", "delimiters", "truncate"]))
    if layout == "newlines":
        text = seed.render(segments, newline=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    elif layout == "delimiters":
        text = seed.render(
            segments,
            element=draw(st.sampled_from(_DELIMITERS)),
            terminator=draw(st.sampled_from(_TERMINATORS)),
        )
    else:
        text = seed.render(segments)
    if layout == "truncate" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    return _encode(draw, text)


def _encode(draw: st.DrawFn, text: str) -> bytes:
    encoding = draw(st.sampled_from(["latin-1", "latin-1", "utf-8", "utf-16", "cp1252", "bom"]))
    if encoding == "cp1252":
        return text.encode("cp1252", errors="replace")
    if encoding == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", errors="surrogatepass")
    if encoding == "utf-8":
        return text.encode("utf-8", errors="surrogatepass")
    if encoding == "utf-16":
        return text.encode("utf-16", errors="surrogatepass")
    return text.encode("latin-1", errors="replace")


@st.composite
def byte_mutated_x12(draw: st.DrawFn) -> bytes:
    """A real file with bytes flipped, inserted, deleted or repeated."""
    data = bytearray(draw(st.sampled_from(list(X12_SEEDS.values()))))
    for _ in range(draw(st.integers(1, 10))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "repeat", "truncate"]))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from(b"*~:^>|\r\n \x00\xff0-9ISA"))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 64))]
        elif op == "repeat":
            data[i:i] = data[i : i + draw(st.integers(1, 64))] * draw(st.integers(1, 20))
        else:
            del data[i:]
    return bytes(data)


_TOKENS = [
    "ISA",
    "GS",
    "ST",
    "SE",
    "GE",
    "IEA",
    "CLP",
    "SVC",
    "CAS",
    "PLB",
    "BPR",
    "TRN",
    "DTM",
    "LQ",
    "AK1",
    "AK2",
    "IK3",
    "IK4",
    "IK5",
    "AK9",
    "HL",
    "STC",
    "EB",
    "*",
    "*",
    "*",
    "~",
    "~",
    ":",
    "^",
    ">",
    "|",
    "\r\n",
    "\n",
    " ",
    "835",
    "999",
    "277",
    "271",
    "1",
    "22",
    "PT",
    "-",
    ".",
    "00",
    "\x00",
    "\xff",
]


def x12_shaped() -> st.SearchStrategy[bytes]:
    """Text made of X12 tokens: segment ids, delimiters, numbers."""
    return st.lists(st.sampled_from(_TOKENS), max_size=400).map(
        lambda tokens: "".join(tokens).encode("latin-1")
    )


@st.composite
def big_x12(draw: st.DrawFn) -> bytes:
    """A few hundred kilobytes: a unit (segments of a real file, tokens or bytes) repeated,
    placed inside or after a real file. Repetition is what exposes a quadratic step."""
    seed = draw(st.sampled_from(PARSED_SEEDS))
    kind = draw(st.sampled_from(["segments", "segments", "tokens", "bytes"]))
    if kind == "segments":
        split = split_x12(seed)
        start = draw(st.integers(0, len(split.segments) - 1))
        count = draw(st.integers(1, 12))
        unit = split.render(split.segments[start : start + count]).encode("latin-1")
    elif kind == "tokens":
        unit = draw(x12_shaped()) or b"ST*"
    else:
        unit = draw(st.binary(min_size=1, max_size=200))
    target = draw(st.integers(50_000, 400_000))
    body = unit * (target // len(unit) + 1)
    where = draw(st.sampled_from(["inside", "after", "alone"]))
    if where == "alone":
        return body
    if where == "after":
        return seed + body
    cut = draw(st.integers(0, len(seed)))
    return seed[:cut] + body + seed[cut:]


# Shapes of pathological repetition, each built at a size ``n``: many candidate ISAs that are
# not one, many GS/ST starts in a file without an envelope, headerless groups back to back, a
# service line with tens of thousands of remark codes, interchanges back to back, one
# enormous segment. (label, builder, n, the target whose time must grow linearly with n)
_ERA_SEED = X12_SEEDS["835/stupidedi-era-sample.edi"]
_ERA_SPLIT = split_x12(_ERA_SEED)
_ERA_HEAD = _ERA_SPLIT.render(_ERA_SPLIT.segments[:-3]).encode()  # ends inside a service line
_ERA_TAIL = _ERA_SPLIT.render(_ERA_SPLIT.segments[-3:]).encode()  # SE, GE, IEA
_ISA = _ERA_SEED[:106]


def _cas(n: int) -> bytes:
    svc = _ERA_HEAD.rindex(b"SVC*")
    return _ERA_HEAD[:svc] + b"CAS*CO" + b"*45*1*1" * n + b"~" + _ERA_HEAD[svc:] + _ERA_TAIL


PATHOLOGICAL: list[tuple[str, Callable[[int], bytes], int, str]] = [
    ("isa-candidates", lambda n: b"ISA*" * n, 25_000, "read_interchanges"),
    ("isa-then-candidates", lambda n: _ERA_SEED + b"ISA*00*" * n, 15_000, "read_interchanges"),
    ("gs-st-candidates", lambda n: b"ST*" * n, 30_000, "read_interchanges"),
    ("gs-candidates", lambda n: b"GS*A*B*C*D*E*F*G*" * n, 6_000, "read_interchanges"),
    ("headerless-groups", lambda n: b"ST*835*1~SE*2*1~GE*1*1~" * n, 5_000, "read_interchanges"),
    (
        "groups",
        lambda n: _ISA + b"GS*HP*1*2*3*4*1*X*005010X221A1~ST*835*1~SE*2*1~GE*1*1~" * n,
        2_500,
        "iter_transactions",
    ),
    ("lq-remarks", lambda n: _ERA_HEAD + b"LQ*HE*M1~" * n + _ERA_TAIL, 40_000, "parse_835"),
    ("cas-triplets", _cas, 15_000, "parse_835"),
    (
        "plb-pairs",
        lambda n: _ERA_HEAD + b"PLB*1*20240101" + b"*WO:1*1" * n + b"~" + _ERA_TAIL,
        10_000,
        "parse_835",
    ),
    ("claims", lambda n: _ERA_HEAD + b"CLP*1*1*1*1~" * n + _ERA_TAIL, 8_000, "parse_835"),
    (
        "ak2-errors",
        lambda n: _ISA + b"ST*999*1~AK1*HC*1~" + b"AK2*837*1~IK3*NM1*1**8~IK4*1*2*3~" * n,
        3_000,
        "parse_999",
    ),
    (
        "277-claims",
        lambda n: _ISA + b"ST*277*1~" + b"HL*1**PT~TRN*2*X~STC*A7:1*20240101**1~" * n,
        3_000,
        "parse_277ca",
    ),
    (
        "271-benefits",
        lambda n: _ISA + b"ST*271*1~HL*1**22~TRN*2*X~" + b"EB*1*IND*30^1*HM~" * n,
        5_000,
        "parse_271",
    ),
    ("interchanges", lambda n: _ERA_SEED * n, 80, "parse_835"),
    ("iea-then-junk", lambda n: (_ERA_SEED + b"junk ISA*junk ") * n, 80, "read_interchanges"),
    ("one-segment", lambda n: _ISA + b"NM1" + b"*" * (4 * n) + b"~", 25_000, "iter_segments"),
    ("no-terminator", lambda n: _ERA_SEED[:200] + b"X" * (4 * n), 25_000, "iter_segments"),
    ("blank-lines", lambda n: b"\r\n" * n + _ERA_SEED, 50_000, "read_interchanges"),
]


# --------------------------------------------------------------------------------------------
# X12: the property


X12_TARGETS: dict[str, Callable[[bytes, str], object]] = {
    "read_interchanges": read_interchanges,
    "iter_transactions": lambda data, name: sum(1 for _ in iter_transactions(data, name)),
    "iter_segments": lambda data, name: sum(1 for _ in iter_segments(data, name)),
    "parse_835": parse_835,
    "parse_999": parse_999,
    "parse_277ca": parse_277ca,
    "parse_271": parse_271,
}

_MONEY_LIMIT = Decimal(10) ** 16  # DECIMAL(18, 2)
_QUANTITY_LIMIT = Decimal(10) ** 14  # DECIMAL(18, 4)


def check_reader_and_parsers(data: bytes, name: str = "fuzz.x12") -> dict[str, str]:
    """Run every target on ``data``; each returns or raises a *clean* X12ReadError (one a
    parser or the reader raised on purpose, not a guard wrapping another exception), within
    the time bound. Returns ``target -> "ok" | "error"``."""
    outcomes: dict[str, str] = {}
    EXAMPLES["x12"] += 1
    for target, run in X12_TARGETS.items():
        # No gc.collect() here: this runs per target per example, and on a test worker whose
        # heap holds earlier tests' objects each full collection took long enough to push
        # the fuzz tests past the CI's time limit. The time bound allows for collections.
        started = cpu_seconds()
        try:
            result = run(data, name)
        except X12ReadError as error:
            assert_clean_error(error, name, target)
            outcomes[target] = "error"
        else:
            if target == "parse_835":
                assert_storable(result)
            outcomes[target] = "ok"
        elapsed = cpu_seconds() - started
        bound = time_bound(len(data))
        assert elapsed <= bound, f"{target}: {elapsed:.2f}s on {len(data):,} bytes (> {bound:.2f}s)"
    return outcomes


def assert_clean_error(error: X12ReadError, name: str, target: str) -> None:
    """The error names the file, and came from a deliberate check: the guards that turn a bug
    into an X12ReadError chain the original exception (``raise ... from exc``)."""
    assert error.file_name == name, target
    assert str(error).startswith(name), target
    cause = error.__cause__
    assert cause is None, f"{target}: a guard caught {type(cause).__name__}: {cause!r}"
    assert "unexpected error" not in error.message and "unreadable X12" not in error.message, (
        f"{target}: {error.message}"
    )


def assert_storable(tables: Any) -> None:
    """Every 835 amount fits the warehouse column it goes to (DECIMAL(18,2) money,
    DECIMAL(18,4) quantities) and is a Decimal, never a float."""
    from revcycle.remits.tables import TABLE_COLUMNS

    for table, rows in tables.as_dict().items():
        columns = TABLE_COLUMNS[table]
        for row in rows:
            for (column, kind), value in zip(columns, row, strict=True):
                if kind.startswith("DECIMAL") and value is not None:
                    assert isinstance(value, Decimal), (table, column)
                    exponent = value.as_tuple().exponent
                    assert isinstance(exponent, int), (table, column)
                    limit = _MONEY_LIMIT if kind == "DECIMAL(18,2)" else _QUANTITY_LIMIT
                    assert abs(value) < limit, f"{table}.{column} does not fit {kind}"
                    assert -exponent <= int(kind.split(",")[1].rstrip(")")), (table, column)


# --------------------------------------------------------------------------------------------
# EMR extracts: seeds, strategies and the property

PHI_MARKER = "Phi"
"""Every text value of the seed files starts with this; no quarantine reason may contain it
(reasons end up in logs: they name the file, row and column, never a value)."""


def _seed_value(column: Any, row: int) -> str:
    from revcycle.extracts.schema import ColumnType

    if column.type is ColumnType.DATE:
        return f"2026-{1 + row % 12:02d}-{1 + row % 28:02d}"
    if column.type is ColumnType.INTEGER:
        return str(row + 1)
    if column.type is ColumnType.MONEY:
        return f"{row * 7 + 10}.{row % 100:02d}"
    return f"{PHI_MARKER}{column.name.replace('_', '')}{row:04d}"


def seed_rows(table: Any, rows: int = 5) -> list[list[str]]:
    """Header and ``rows`` valid data rows of ``table`` (keys unique, every type valid)."""
    return [table.column_names] + [[_seed_value(c, r) for c in table.columns] for r in range(rows)]


def render_csv(rows: list[list[str]], newline: str = "\n") -> str:
    def cell(value: str) -> str:
        if any(ch in value for ch in ',"\r\n'):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(",".join(cell(v) for v in row) + newline for row in rows)


CSV_VALUES = [
    "",
    " ",
    "abc",
    "12,50",
    "$12.50",
    "1,250.00",
    "12.5",
    "12.505",
    "1e3",
    "NaN",
    "inf",
    "-0",
    "99999999999999999.99",
    "9999999999999999.99",
    "2147483648",
    "-2147483649",
    "0x10",
    "\u0663",
    "\u00b2",
    "2026-02-30",
    "2026-13-01",
    "26-01-01",
    "01/02/2026",
    "2026-1-1",
    "0000-01-01",
    "9999-12-31",
    "2026-01-01T00:00:00",
    "NULL",
    "\x00",
    "\ufeff",
    'a"b',
    '"',
    "line\nbreak",
    "carriage\rreturn",
    "tab\tvalue",
    "A" * 70_000,
    "\u2603",
    "\U0001f600",  # an emoji: four bytes of UTF-8
]


@st.composite
def extract_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file name, bytes): a valid extract file of some table, then broken the way real
    deliveries break: columns dropped, moved, repeated or renamed, cells with text in number
    and date columns, ragged rows, repeated keys, quotes and line breaks, other line ends,
    other encodings, a byte-order mark, bytes flipped or cut off."""
    from revcycle.extracts.schema import TABLES

    table = draw(st.sampled_from(list(TABLES)))
    rows = seed_rows(table, draw(st.integers(0, 6)))
    for _ in range(draw(st.integers(0, 6))):
        r = draw(st.integers(0, len(rows) - 1))
        op = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "cell",
                    "drop_column",
                    "swap_columns",
                    "rename",
                    "ragged",
                    "duplicate_row",
                    "drop_row",
                    "blank_row",
                ]
            )
        )
        width = len(rows[0])
        if op == "cell" and width:
            c = draw(st.integers(0, width - 1))
            value = draw(st.sampled_from(CSV_VALUES) | st.text(max_size=10))
            if c < len(rows[r]):
                rows[r][c] = value
        elif op == "drop_column" and width:
            c = draw(st.integers(0, width - 1))
            for row in rows:
                del row[c : c + 1]
        elif op == "swap_columns" and width > 1:
            a, b = draw(st.integers(0, width - 1)), draw(st.integers(0, width - 1))
            for row in rows:
                if a < len(row) and b < len(row):
                    row[a], row[b] = row[b], row[a]
        elif op == "rename" and width:
            c = draw(st.integers(0, width - 1))
            rows[0][c] = draw(st.sampled_from(["", " x ", rows[0][0], "Patient_ID", "a'b"]))
        elif op == "ragged":
            if draw(st.booleans()) or not rows[r]:
                rows[r].append("extra")
            else:
                rows[r].pop()
        elif op == "duplicate_row" and len(rows) > 1:
            rows.insert(r, list(rows[max(r, 1)]))
        elif op == "drop_row" and len(rows) > 1:
            del rows[max(r, 1)]
        elif op == "blank_row":
            rows.insert(r + 1, [])
    text = render_csv(rows, newline=draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "bom", "latin-1", "utf-16"]))
    if encoding == "bom":
        data = b"\xef\xbb\xbf" + text.encode("utf-8", errors="surrogatepass")
    elif encoding == "utf-8":
        data = text.encode("utf-8", errors="surrogatepass")
    else:
        data = text.encode(encoding, errors="replace")
    bytes_op = draw(st.sampled_from(["none", "none", "none", "flip", "truncate", "insert"]))
    if data and bytes_op != "none":
        i = draw(st.integers(0, len(data) - 1))
        if bytes_op == "flip":
            data = data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1 :]
        elif bytes_op == "truncate":
            data = data[:i]
        else:
            data = data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
    name = draw(
        st.sampled_from(
            [
                table.file_name,
                f"{table.name}_20261101.csv",
                f"{table.name}-b.csv",
                f"{table.name.upper()}.CSV",
                "notes.csv",
                f"{table.name}.txt",
            ]
        )
    )
    return name, data


@st.composite
def any_bytes_as_extract(draw: st.DrawFn) -> tuple[str, bytes]:
    """Arbitrary bytes under a name the loader takes for a table file."""
    from revcycle.extracts.schema import TABLES

    table = draw(st.sampled_from(list(TABLES)))
    data = draw(
        st.binary(max_size=2000)
        | st.text(alphabet=',"\r\n ab01.-\x00\ufeff', max_size=400).map(str.encode)
    )
    if draw(st.booleans()):  # a real header, then garbage: gets past the header checks
        data = (",".join(table.column_names) + "\n").encode() + data
    return table.file_name, data


def check_extract_file(con: Any, folder: Path, quarantine: Path, name: str, data: bytes) -> str:
    """Load one file: it ends loaded (every row in ``raw``) or quarantined with a reason that
    names the file and quotes no value, within the time bound. Returns the status."""
    from revcycle.extracts.load import LoadStatus, load_file

    EXAMPLES["extracts"] += 1
    path = folder / name
    path.write_bytes(data)
    started = cpu_seconds()
    outcome = load_file(con, path, quarantine)
    elapsed = cpu_seconds() - started
    assert elapsed <= 2 * time_bound(len(data)), f"{elapsed:.2f}s on {len(data):,} bytes"
    if outcome.status is LoadStatus.LOADED:
        assert outcome.table_name is not None
        (count,) = con.execute(
            f"select count(*) from raw.{outcome.table_name} where _file_sha256 = ?",
            [outcome.sha256],
        ).fetchone()
        assert count == outcome.rows_read == outcome.rows_loaded
        path.unlink()  # a loaded file stays in the folder (the caller archives it)
    elif outcome.status is LoadStatus.QUARANTINED:
        reason = outcome.reason or ""
        assert reason.startswith(name), reason
        assert PHI_MARKER not in reason, reason
        assert not path.exists()
        assert outcome.quarantined_to is not None and outcome.quarantined_to.exists()
        reason_file = outcome.quarantined_to.with_name(outcome.quarantined_to.name + ".reason.txt")
        assert reason_file.read_bytes().decode("utf-8") == reason + "\n"
    else:  # same bytes as an earlier example
        assert outcome.status is LoadStatus.SKIPPED
        path.unlink()
    return outcome.status.value

"""Implementation-guide validation with pyx12 4.0.0, as a list of issues per file.

pyx12 has no API that returns its errors: ``x12n_document`` builds an error tree, logs every
error and returns a bool. The one complete, structured copy of that tree is its JSON error
output (``fd_json``), so we ask for it in memory and turn it into :class:`ValidationIssue`
rows. pyx12's own logging is silenced while it runs: its messages quote element values, and
patient names and dates of birth must not reach our logs.

Gotchas handled here (docs/x12.md): bytes are decoded by us (UTF-8, else cp1252) and passed
as text; an over-long composite raises IndexError and an unknown GS08 raises EngineError inside
pyx12 (both become issues, not crashes); the file must begin with the ISA for pyx12, so text
before the ISA is reported rather than silently skipped. pyx12 has no 5010 270/271 map: files
whose GS08 is 005010X279A1 are validated against its 4010 maps brought to 5010
(:mod:`revcycle.x12.pyx12_maps` says what that does and does not check).

PHI: issue messages name segments, elements and codes. For the segments that carry patient
data (NM1, N2, N3, N4, DMG, REF, PAT, PER) element values quoted by pyx12 are replaced by
``<redacted>``, and "segment not found" messages keep only the segment id and a short
qualifier code.

pyx12 is slow (pure Python, about 0.2 MB/s) and not thread-safe: calls are serialised with a
lock. Validate what we emit in tests and samples of big batches, not every claim of a run.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from revcycle.x12.pyx12_maps import VERSION as ELIGIBILITY_VERSION
from revcycle.x12.pyx12_maps import map_path as eligibility_map_path
from revcycle.x12.reader import X12ReadError, decode_x12, iter_segments, read_interchanges

__all__ = [
    "ValidationIssue",
    "ValidationReport",
    "format_issue",
    "format_report",
    "validate_bytes",
    "validate_file",
    "validate_files",
]

# Segments whose element values may identify a patient or subscriber.
PHI_SEGMENTS = frozenset({"NM1", "N2", "N3", "N4", "DMG", "REF", "PAT", "PER"})
REDACTED = "<redacted>"

_PYX12_LOCK = threading.Lock()
_NOT_FOUND = re.compile(r"^Segment (?P<seg>.*?) not found\.(?P<rest>.*)$", re.DOTALL)
_SHORT_CODE = re.compile(r"[A-Z0-9]{1,3}")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


@dataclass(frozen=True)
class ValidationIssue:
    """One problem pyx12 (or the reader) found.

    ``segment_position`` is the 1-based index of the segment in the file (ISA = 1), as the
    reader counts it; ``code`` is ``<level>-<pyx12 code>`` (``SEG-3`` mandatory segment
    missing, ``ELE-7`` invalid code value, ``ST-4`` wrong SE count ...).
    """

    segment_position: int | None
    segment_id: str | None
    code: str
    message: str
    element: str | None = None  # "CLM05-03" for element errors
    level: str = "segment"  # file, interchange, group, transaction, segment, element


@dataclass(frozen=True)
class ValidationReport:
    file_name: str
    is_valid: bool
    errors: list[ValidationIssue] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Message hygiene


def _redact(message: str, segment_id: str | None, value: str | None) -> str:
    """Remove element values of patient segments from a pyx12 message."""
    sensitive = segment_id is None or segment_id in PHI_SEGMENTS
    found = _NOT_FOUND.match(message)
    if found:
        seg_text = found.group("seg")
        seg_id, _, rest = seg_text.partition("*")
        first = rest.split("*", 1)[0]
        if not _SEGMENT_ID.fullmatch(seg_id):
            shown = "(unrecognised id)"
        elif seg_id == "HL":  # HL elements are hierarchy numbers and level codes
            shown = seg_text
        elif seg_id not in ("N2", "N3", "N4", "DMG", "PER") and _SHORT_CODE.fullmatch(first):
            shown = f"{seg_id}*{first}"
        else:
            shown = seg_id
        return f"Segment {shown} not found.{found.group('rest')}"
    if sensitive and value:
        for quoted in (f"({value})", f'"{value}"'):
            message = message.replace(quoted, quoted[0] + REDACTED + quoted[-1])
    return message


def _redact_x12_error(message: str) -> str:
    """pyx12 X12Error messages about the ISA quote the start of the file: keep the reason."""
    if message.startswith("First line does not begin with 'ISA'"):
        return "the file does not begin with an ISA segment"
    if message.startswith("ISA Interchange Control Version Number is unknown"):
        return "ISA12 (interchange control version) is not 00401 or 00501"
    if message.startswith("The ISA segment must have 16 elements"):
        return "the ISA segment must have 16 elements"
    return message


# --------------------------------------------------------------------------------------------
# pyx12 plumbing


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _pyx12_silenced() -> Iterator[_Collect]:
    """Keep pyx12's log lines (which quote values) out of the application's logs."""
    logger = logging.getLogger("pyx12")
    handler = _Collect()
    saved = (logger.propagate, logger.level)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, _ = saved
        logger.setLevel(saved[1])


def _element_name(segment_id: str, element: dict[str, Any]) -> str | None:
    pos = element.get("ele_pos")
    if not isinstance(pos, int):
        return None
    name = f"{segment_id}{pos:02d}"
    sub = element.get("subele_pos")
    if isinstance(sub, int):
        name += f"-{sub:02d}"
    return name


def _issues_from_json(doc: dict[str, Any]) -> list[ValidationIssue]:
    """Flatten pyx12's JSON error tree (interchanges / groups / transactions / segments)."""
    issues: list[ValidationIssue] = []

    def envelope(node: dict[str, Any], level: str, prefix: str) -> None:
        for err in node.get("errors", []):
            issues.append(
                ValidationIssue(
                    segment_position=node.get("cur_line"),
                    segment_id=None,
                    code=f"{prefix}-{err.get('err_cde')}",
                    message=_redact(str(err.get("err_str", "")), None, None),
                    level=level,
                )
            )

    for isa in doc.get("interchanges", []):
        envelope(isa, "interchange", "ISA")
        for gs in isa.get("groups", []):
            envelope(gs, "group", "GS")
            for st in gs.get("transactions", []):
                envelope(st, "transaction", "ST")
                for seg in st.get("segments", []):
                    seg_id = str(seg.get("seg_id") or "")
                    position = seg.get("cur_line")
                    for err in seg.get("errors", []):
                        issues.append(
                            ValidationIssue(
                                segment_position=position,
                                segment_id=seg_id or None,
                                code=f"SEG-{err.get('err_cde')}",
                                message=_redact(
                                    str(err.get("err_str", "")), seg_id, err.get("err_val")
                                ),
                                level="segment",
                            )
                        )
                    for ele in seg.get("elements", []):
                        for err in ele.get("errors", []):
                            issues.append(
                                ValidationIssue(
                                    segment_position=position,
                                    segment_id=seg_id or None,
                                    code=f"ELE-{err.get('err_cde')}",
                                    message=_redact(
                                        str(err.get("err_str", "")), seg_id, err.get("err_val")
                                    ),
                                    element=_element_name(seg_id, ele),
                                    level="element",
                                )
                            )
    return issues


def _fill_segment_ids(issues: list[ValidationIssue], text: str, file_name: str) -> None:
    """Name the segment of envelope-level issues (pyx12 gives only the position)."""
    wanted = {
        i.segment_position
        for i in issues
        if i.segment_id is None and isinstance(i.segment_position, int)
    }
    if not wanted:
        return
    ids: dict[int, str] = {}
    last = max(wanted)
    try:
        for seg in iter_segments(text, file_name):
            if seg.position in wanted:
                ids[seg.position] = seg.id
            if seg.position >= last:
                break
    except X12ReadError:
        pass
    for index, issue in enumerate(issues):
        if issue.segment_id is None and issue.segment_position in ids:
            seg_id = ids[issue.segment_position]
            issues[index] = ValidationIssue(
                segment_position=issue.segment_position,
                segment_id=seg_id if _SEGMENT_ID.fullmatch(seg_id) else None,
                code=issue.code,
                message=issue.message,
                element=issue.element,
                level=issue.level,
            )


def _run_pyx12(text: str, map_path: str | None = None) -> tuple[bool, list[ValidationIssue]]:
    """Run pyx12 on decoded text; returns (pyx12's verdict, issues). ``map_path``: a folder
    of pyx12 maps other than pyx12's own (see :mod:`revcycle.x12.pyx12_maps`)."""
    issues: list[ValidationIssue] = []
    # pyx12 reads the ISA itself and only reports why it cannot through a log line: ask first.
    try:
        pyx12.x12file.X12Reader(io.StringIO(text))
    except pyx12.errors.X12Error as exc:
        message = _redact_x12_error(str(exc))
        return False, [ValidationIssue(1, "ISA", "ISA-READ", message, level="interchange")]
    except Exception as exc:  # pyx12 bug on odd input: still a verdict, not a crash
        message = f"pyx12 cannot read the ISA ({type(exc).__name__})"
        return False, [ValidationIssue(1, "ISA", "ISA-READ", message, level="interchange")]

    last_line = 0

    def track(seg: Any, src: Any, node: Any, valid: Any) -> None:
        nonlocal last_line
        last_line = src.get_cur_line()

    fd_json = io.StringIO()
    with _PYX12_LOCK, _pyx12_silenced() as logs:
        try:
            ok = pyx12.x12n_document.x12n_document(
                param=pyx12.params.params(),
                src_file=io.StringIO(text),
                fd_997=None,  # the 999 visitor fails on some inputs and only logs it
                fd_html=None,
                fd_xmldoc=None,
                fd_json=fd_json,
                map_path=map_path,
                callback=track,
            )
        except pyx12.errors.EngineError as exc:
            # Unknown GS08 (no map for 270/271, 276/277 in 5010) and similar engine stops.
            message = str(exc).replace("  ", " ")
            return False, [
                ValidationIssue(last_line + 1, None, "ENGINE", f"pyx12 cannot validate: {message}")
            ]
        except IndexError:
            return False, [
                ValidationIssue(
                    last_line + 1,
                    None,
                    "ENGINE-INDEX",
                    "pyx12 stopped (IndexError): a composite has more components than the "
                    "guide defines, or a segment is malformed",
                )
            ]
        except Exception as exc:
            return False, [
                ValidationIssue(
                    last_line + 1,
                    None,
                    "ENGINE-CRASH",
                    f"pyx12 stopped ({type(exc).__name__}) while reading this segment",
                )
            ]
    raw_json = fd_json.getvalue()
    if raw_json:
        try:
            issues.extend(_issues_from_json(json.loads(raw_json)))
        except (ValueError, AttributeError, TypeError):
            issues.append(ValidationIssue(None, None, "JSON", "pyx12 error output unreadable"))
    if not ok and not issues:
        logged = len(logs.records)
        issues.append(
            ValidationIssue(
                None,
                None,
                "PYX12",
                f"pyx12 rejected the file without a located error ({logged} log messages)",
                level="file",
            )
        )
    return bool(ok), issues


# --------------------------------------------------------------------------------------------
# Public API


_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def _fixed_width_isa(elements: list[str]) -> list[str]:
    """ISA elements padded to their fixed widths (ISA13 zero-filled, ISA16 untouched)."""
    fixed = ["ISA"]
    for n, (value, width) in enumerate(zip(elements[1:], _ISA_WIDTHS, strict=True), start=1):
        if n == 16:
            fixed.append(value)
        elif n == 13:
            fixed.append(value.strip().zfill(width))
        else:
            fixed.append(value.strip().ljust(width)[:width])
    return fixed


def _normalised_text(text: str, file_name: str) -> str:
    """The file's segments in one clean layout: a segment per line, fixed-width ISA.

    Delimiters are kept; segment positions are the reader's. Layout quirks the reader
    tolerates (text before the ISA, indentation, 80-column wrapping, a collapsed ISA) are gone,
    so pyx12 judges content only.
    """
    out: list[str] = []
    for seg in iter_segments(text, file_name):
        elements = seg.elements
        if seg.id == "ISA" and len(elements) == len(_ISA_WIDTHS) + 1:
            elements = _fixed_width_isa(elements)
        terminator = seg.delimiters.segment
        out.append(seg.delimiters.element.join(elements) + terminator)
        if terminator != "\n":
            out.append("\n")
    return "".join(out)


# Reader findings pyx12 cannot get past: it needs a fixed-width ISA at the first character.
_LAYOUT_CODES = frozenset(
    {"TEXT_BEFORE_ENVELOPE", "NO_ENVELOPE", "ISA_NOT_FIXED_WIDTH", "ISA_WRAPPED"}
)


def validate_bytes(
    data: bytes | str, file_name: str, *, normalise: bool = False
) -> ValidationReport:
    """Validate one file's content against its implementation guide (from GS08).

    ``normalise=False`` (the default, for files we send) judges the file as it is: text before
    the ISA, a file without envelope or a collapsed ISA are issues. ``normalise=True`` (for
    files we receive) first rewrites the layout the reader tolerates (see
    :func:`_normalised_text`), so only content is judged.
    """
    text, _encoding = decode_x12(data)
    try:
        interchanges = read_interchanges(text, file_name)
        if normalise:
            text = _normalised_text(text, file_name)
    except X12ReadError as exc:
        issue = ValidationIssue(exc.position, None, "READ", exc.message, level="file")
        return ValidationReport(file_name, False, [issue])
    issues: list[ValidationIssue] = []
    if not normalise:
        for warning in interchanges[0].warnings:
            if warning.code in _LAYOUT_CODES:
                issues.append(
                    ValidationIssue(
                        warning.position, None, warning.code, warning.message, level="file"
                    )
                )
    if issues:  # pyx12 would only say "not an X12 file" or misread the ISA
        return ValidationReport(file_name, False, issues)
    # 270/271 (005010X279A1): pyx12 ships no 5010 map; use its 4010 map brought to 5010.
    eligibility = any(
        group.version == ELIGIBILITY_VERSION for i in interchanges for group in i.groups
    )
    ok, found = _run_pyx12(text, eligibility_map_path() if eligibility else None)
    _fill_segment_ids(found, text, file_name)
    found.sort(key=lambda i: (i.segment_position is None, i.segment_position or 0))
    return ValidationReport(file_name, ok and not found, found)


def validate_file(path: str | Path, *, normalise: bool = False) -> ValidationReport:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        issue = ValidationIssue(
            None, None, "IO", f"cannot read the file: {exc.strerror or exc}", level="file"
        )
        return ValidationReport(path.name, False, [issue])
    return validate_bytes(data, path.name, normalise=normalise)


def validate_files(
    paths: Iterable[str | Path], *, normalise: bool = False
) -> list[ValidationReport]:
    """One report per file, in order. Never raises for a bad file: the report says why."""
    return [validate_file(p, normalise=normalise) for p in paths]


def format_issue(file_name: str, issue: ValidationIssue) -> str:
    """``file.x12: segment 42 (CLM): element CLM05-03: message [ELE-7]``"""
    parts = [file_name]
    if issue.segment_position is not None:
        where = f"segment {issue.segment_position}"
        if issue.segment_id:
            where += f" ({issue.segment_id})"
        parts.append(where)
    if issue.element:
        parts.append(f"element {issue.element}")
    parts.append(f"{issue.message} [{issue.code}]")
    return ": ".join(parts)


def format_report(report: ValidationReport) -> list[str]:
    """Readable lines for a report: one line when valid, one per issue when not."""
    if report.is_valid:
        return [f"{report.file_name}: valid"]
    if not report.errors:
        return [f"{report.file_name}: invalid"]
    return [format_issue(report.file_name, issue) for issue in report.errors]

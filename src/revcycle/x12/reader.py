"""One tolerant X12 reader for every transaction we receive or send (835, 999, 277CA, 837, 271).

The reader turns bytes into segments and groups them into the envelope hierarchy::

    Interchange (ISA ... IEA, delimiters)
      FunctionalGroup (GS ... GE)
        Transaction (ST ... SE, implementation guide from ST03 or GS08)
          Segment (id, elements, position)

It knows nothing about any implementation guide: guide-specific modules (``read_837``, the 835
parser, ...) walk ``Transaction.segments``.

Quirks handled, because real files have them (see docs/x12.md):

- delimiters taken from the ISA (element = ISA char 4, repetition = ISA11, component = ISA16,
  segment terminator = the character after ISA16), never assumed;
- an ISA whose fields are not padded to fixed width ("collapsed" ISA): parsed by element
  separator, the component separator is ISA16 and the terminator the character after it;
- text, blank lines or a byte-order mark before the ISA; trailing text after the last IEA;
- files without an envelope that start at GS or ST: ``*``/``:``/``^`` are assumed and the
  segment terminator is sniffed from the GS/ST segment;
- CR, LF or CRLF after terminators, indented segments and lines wrapped at 80 columns: when the
  terminator is not a line break, every CR and LF in the stream is dropped; when it is one, CR,
  LF and CRLF all count as a terminator;
- several ISA/GS/ST per file, each interchange with its own delimiters;
- UTF-8, else cp1252, else latin-1 (never fails), UTF-16 with a BOM;
- broken envelope rules (SE01 count, SE02/ST02, GE01/GE02, IEA01/IEA02, missing trailers,
  segments outside a transaction) become :class:`ReadWarning` entries, never exceptions.

Input that cannot be read as X12 at all raises :class:`X12ReadError` (file name, segment
position and/or character offset, message). No other exception escapes the reader, whatever
the bytes: that is tested with generated inputs.

Memory and time: reading is linear in the input. The decoded text is held in memory (one
Python ``str``, one byte per character for ASCII data, plus one normalised copy when line
breaks are dropped). :func:`read_interchanges` also keeps every segment, 20-30x the file
size; :func:`iter_transactions` keeps one transaction at a time and :func:`iter_segments`
one segment at a time, for big files. Ordinary segments are split a chunk of text (up to
64k characters) at a time; an ISA, what follows an IEA and an unterminated end of the text are
read segment by segment. Measured on a 50 MB file (one core, busy machine):
:func:`iter_segments` 17-40 MB/s, :func:`read_interchanges` 8-28 MB/s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from revcycle.gc_pause import gc_paused

__all__ = [
    "Delimiters",
    "FunctionalGroup",
    "Interchange",
    "ReadWarning",
    "Segment",
    "Transaction",
    "X12ReadError",
    "decode_x12",
    "iter_segments",
    "iter_transactions",
    "read_file",
    "read_interchanges",
]

ISA_LENGTH = 106
"""Length of a fixed-width ISA segment, terminator included."""

# Offsets of the 16 element separators inside a fixed-width ISA.
_ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_ISA_SEARCH_WINDOW = 512  # a collapsed or over-padded ISA must end within this many characters
_SNIFF_WINDOW = 1024  # how far to look for the terminator of a GS/ST in a file without ISA
# Characters split at once by the segment stream's fast path: it starts small after every
# segment it leaves to the slow path and doubles up to the maximum, so that a text where
# that happens often (many small interchanges) is not split far ahead again and again.
_CHUNK_MIN = 256
_CHUNK_MAX = 1 << 16
_MAX_ISA_CANDIDATES = 1000  # "ISA" followed by punctuation that is not an ISA: give up after
_LINE_BREAKS = "\r\n"
_BLANKS = " \t\r\n\x0b\x0c"  # what is stripped around segments (not str.strip(): \x1c-\x1f
# are whitespace to Python but are used as delimiters by some senders)
_CONTROL_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})

_ISA_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])ISA(?=[^A-Za-z0-9\s])")
_GS_ST_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])(?:GS|ST)(?=[^A-Za-z0-9\s])")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


class X12ReadError(Exception):
    """The input cannot be read as X12.

    ``position`` is the 1-based index of the segment where reading failed (segments counted
    from the first ISA, GS or ST), ``offset`` the character offset in the decoded text; either
    may be unknown. The message never quotes element values.
    """

    def __init__(
        self,
        file_name: str,
        position: int | None,
        message: str,
        *,
        offset: int | None = None,
    ) -> None:
        self.file_name = file_name
        self.position = position
        self.offset = offset
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.position is not None:
            where.append(f"segment {self.position}")
        if self.offset is not None:
            where.append(f"character {self.offset}")
        location = f" ({', '.join(where)})" if where else ""
        return f"{self.file_name}{location}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:  # keep the exception picklable (Prefect, workers)
        return (_rebuild_error, (self.file_name, self.position, self.message, self.offset))


def _rebuild_error(
    file_name: str, position: int | None, message: str, offset: int | None
) -> X12ReadError:
    return X12ReadError(file_name, position, message, offset=offset)


class Delimiters(NamedTuple):
    element: str
    component: str
    repetition: str | None  # None when ISA11 is not a separator (4010 "U", or a clash)
    segment: str  # "\n" stands for any line break (CR, LF, CRLF)


DEFAULT_DELIMITERS = Delimiters(element="*", component=":", repetition="^", segment="~")


class ReadWarning(NamedTuple):
    """A rule the file breaks that does not stop reading (real files break these)."""

    position: int | None  # segment index in the file, when there is one
    code: str  # e.g. SE_COUNT, IEA_CONTROL, TRAILING_DATA
    message: str  # never quotes element values of patient segments


class Segment(NamedTuple):
    """One segment, cheap to build.

    ``elements`` is the split segment **including the id**: ``elements[0]`` is the segment id
    and ``elements[n]`` is data element ``n`` in X12 numbering (``clm.elements[2]`` is CLM02).
    Use :meth:`get` to read an element that may be absent. Composites and repetitions are split
    on demand with :meth:`composite` and :meth:`repeats`.
    """

    id: str
    elements: list[str]
    position: int  # 1-based index of the segment in the file
    delimiters: Delimiters

    def get(self, n: int, default: str = "") -> str:
        """Element ``n`` (1-based, X12 numbering), or ``default`` when absent."""
        if 0 < n < len(self.elements):
            return self.elements[n]
        return default

    def composite(self, n: int) -> list[str]:
        """Element ``n`` split on the component separator (``["HC", "99213", "25"]``)."""
        value = self.get(n)
        if not value:
            return []
        return value.split(self.delimiters.component)

    def component(self, n: int, k: int, default: str = "") -> str:
        """Component ``k`` (1-based) of element ``n``: ``sv1.component(1, 2)`` is SV101-2."""
        parts = self.composite(n)
        if 0 < k <= len(parts):
            return parts[k - 1]
        return default

    def repeats(self, n: int) -> list[str]:
        """Element ``n`` split on the repetition separator (a single value if there is none)."""
        value = self.get(n)
        if not value:
            return []
        if self.delimiters.repetition is None:
            return [value]
        return value.split(self.delimiters.repetition)

    @property
    def element_count(self) -> int:
        return len(self.elements) - 1

    def to_text(self) -> str:
        """The segment as X12 text with its own delimiters, terminator included."""
        terminator = self.delimiters.segment
        return self.delimiters.element.join(self.elements) + terminator

    def __repr__(self) -> str:
        # Element values may be patient identifiers: keep them out of reprs, logs and tracebacks.
        return f"Segment({self.id} at {self.position}, {self.element_count} elements)"


@dataclass(eq=False)
class Transaction:
    """ST ... SE. ``segments`` runs from ST to SE inclusive (SE absent if the file lacks it)."""

    transaction_set_id: str  # ST01: 837, 835, 999, 277, 271 ...
    control_number: str  # ST02
    implementation_guide: str  # ST03, else GS08 of the group
    segments: list[Segment]
    se: Segment | None = None
    warnings: list[ReadWarning] = field(default_factory=list)

    @property
    def st(self) -> Segment:
        return self.segments[0]

    @property
    def position(self) -> int:
        return self.segments[0].position

    def find(self, segment_id: str) -> Iterator[Segment]:
        return (s for s in self.segments if s.id == segment_id)

    def count(self, segment_id: str) -> int:
        return sum(1 for s in self.segments if s.id == segment_id)


@dataclass(eq=False)
class FunctionalGroup:
    """GS ... GE. ``gs`` is None for transactions found without a GS (a warning says so)."""

    gs: Segment | None
    transactions: list[Transaction] = field(default_factory=list)
    ge: Segment | None = None
    warnings: list[ReadWarning] = field(default_factory=list)
    transaction_count: int = 0  # counted even when transactions are streamed, not kept

    def _gs(self, n: int) -> str:
        return self.gs.get(n).strip() if self.gs is not None else ""

    @property
    def functional_id(self) -> str:  # GS01: HC, HP, FA ...
        return self._gs(1)

    @property
    def sender_code(self) -> str:
        return self._gs(2)

    @property
    def receiver_code(self) -> str:
        return self._gs(3)

    @property
    def date(self) -> str:
        return self._gs(4)

    @property
    def time(self) -> str:
        return self._gs(5)

    @property
    def control_number(self) -> str:  # GS06
        return self._gs(6)

    @property
    def version(self) -> str:  # GS08, e.g. 005010X222A1
        return self._gs(8)


@dataclass(eq=False)
class Interchange:
    """ISA ... IEA. ``isa`` is None for a file that has no envelope (a warning says so)."""

    isa: Segment | None
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)
    iea: Segment | None = None
    warnings: list[ReadWarning] = field(default_factory=list)

    def _isa(self, n: int) -> str:
        return self.isa.get(n).strip() if self.isa is not None else ""

    @property
    def sender_qualifier(self) -> str:
        return self._isa(5)

    @property
    def sender_id(self) -> str:
        return self._isa(6)

    @property
    def receiver_qualifier(self) -> str:
        return self._isa(7)

    @property
    def receiver_id(self) -> str:
        return self._isa(8)

    @property
    def date(self) -> str:  # YYMMDD
        return self._isa(9)

    @property
    def time(self) -> str:  # HHMM
        return self._isa(10)

    @property
    def version(self) -> str:  # ISA12, 00501
        return self._isa(12)

    @property
    def control_number(self) -> str:  # ISA13
        return self._isa(13)

    @property
    def acknowledgment_requested(self) -> str:  # ISA14
        return self._isa(14)

    @property
    def usage_indicator(self) -> str:  # ISA15: P production, T test
        return self._isa(15)

    @property
    def transactions(self) -> list[Transaction]:
        return [t for g in self.groups for t in g.transactions]

    def all_warnings(self) -> list[ReadWarning]:
        """Warnings of the interchange, its groups and its transactions, in file order."""
        found = list(self.warnings)
        for group in self.groups:
            found.extend(group.warnings)
            for transaction in group.transactions:
                found.extend(transaction.warnings)
        return sorted(found, key=lambda w: -1 if w.position is None else w.position)


# --------------------------------------------------------------------------------------------
# Decoding


def decode_x12(data: bytes | str) -> tuple[str, str]:
    """Decode file bytes: UTF-8, else cp1252, else latin-1. Returns (text, encoding used).

    A byte-order mark is removed. Never raises.
    """
    if isinstance(data, str):
        return data.lstrip("\ufeff"), "str"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace").lstrip("\ufeff"), "utf-16"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8").lstrip("\ufeff"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252
        return data.decode("latin-1"), "latin-1"


# --------------------------------------------------------------------------------------------
# ISA header


class _Header(NamedTuple):
    elements: list[str]  # "ISA", ISA01 .. ISA16
    delimiters: Delimiters
    end: int  # offset just past the ISA terminator
    collapsed: bool  # not in the fixed-width form


def _is_delimiter_char(char: str) -> bool:
    return len(char) == 1 and not char.isalnum() and not char.isspace()


def _make_delimiters(element: str, repetition: str, component: str, segment: str) -> Delimiters:
    if segment in _LINE_BREAKS:
        segment = "\n"
    rep: str | None = repetition
    if not _is_delimiter_char(repetition) or repetition in (element, component, segment):
        rep = None
    return Delimiters(element=element, component=component, repetition=rep, segment=segment)


def _valid_terminators(element: str, component: str, segment: str) -> bool:
    if not _is_delimiter_char(element) or not _is_delimiter_char(component):
        return False
    if segment.isalnum() or (segment.isspace() and segment not in _LINE_BREAKS):
        return False
    return len({element, component, segment}) == 3


def _isa_fixed(window: str) -> tuple[list[str], str, str] | None:
    """Parse a fixed-width ISA at the start of ``window``: (elements, component, terminator)."""
    if len(window) < ISA_LENGTH:
        return None
    element = window[3]
    if any(window[i] != element for i in _ISA_SEPARATOR_OFFSETS):
        return None
    parts = window[:103].split(element)
    if len(parts) != 16:  # a value contained the separator
        return None
    component, segment = window[104], window[105]
    if not _valid_terminators(element, component, segment):
        return None
    parts.append(component)
    return parts, component, segment


def _isa_collapsed(window: str) -> tuple[list[str], str, str, int] | None:
    """Parse an ISA by separator: (elements, component, terminator, length incl. terminator)."""
    element = window[3] if len(window) > 3 else ""
    if not _is_delimiter_char(element):
        return None
    parts = ["ISA"]
    pos = 3
    for _ in range(15):  # ISA01 .. ISA15, each closed by the next separator
        nxt = window.find(element, pos + 1)
        if nxt == -1:
            return None
        parts.append(window[pos + 1 : nxt])
        pos = nxt
    if pos + 2 >= len(window):
        return None
    component, segment = window[pos + 1], window[pos + 2]
    if not _valid_terminators(element, component, segment):
        return None
    parts.append(component)
    return parts, component, segment, pos + 3


def _parse_isa(text: str, start: int) -> _Header | None:
    """Parse the ISA that starts at ``text[start]`` (text already normalised)."""
    window = text[start : start + _ISA_SEARCH_WINDOW]
    fixed = _isa_fixed(window)
    if fixed is not None:
        parts, component, segment = fixed
        delimiters = _make_delimiters(window[3], parts[11], component, segment)
        return _Header(parts, delimiters, start + ISA_LENGTH, collapsed=False)
    collapsed = _isa_collapsed(window)
    if collapsed is not None:
        parts, component, segment, length = collapsed
        delimiters = _make_delimiters(window[3], parts[11], component, segment)
        return _Header(parts, delimiters, start + length, collapsed=True)
    return None


def _sniff_isa_terminator(text: str, start: int) -> str | None:
    """The segment terminator of the ISA at ``start`` in the raw (not normalised) text."""
    raw = text[start : start + _ISA_SEARCH_WINDOW]
    fixed = _isa_fixed(raw)
    if fixed is not None:
        return fixed[2]
    unwrapped = raw.replace("\r", "").replace("\n", "")
    fixed = _isa_fixed(unwrapped)  # fixed-width ISA wrapped at 80 columns
    if fixed is not None:
        return fixed[2]
    collapsed = _isa_collapsed(raw)
    if collapsed is not None:
        return collapsed[2]
    collapsed = _isa_collapsed(unwrapped)
    if collapsed is not None:
        return collapsed[2]
    return None


def _sniff_gs_st_terminator(text: str, start: int) -> tuple[str, str] | None:
    """(element separator, terminator) of a GS or ST segment at ``start``, in a file with no ISA.

    GS has eight elements and ends with GS08 (alphanumeric); ST ends with ST02 or ST03
    (alphanumeric). The first character after that last element is the terminator.
    """
    window = text[start : start + _SNIFF_WINDOW]
    element = window[2] if len(window) > 2 else ""
    if not _is_delimiter_char(element):
        return None
    pos = 2
    if window.startswith("GS"):
        for _ in range(7):  # to the separator before GS08
            pos = window.find(element, pos + 1)
            if pos == -1:
                return None
        pos += 1
        while pos < len(window) and window[pos].isalnum():
            pos += 1
    else:
        for index in range(3):  # ST01, ST02, optional ST03
            pos += 1
            while pos < len(window) and window[pos].isalnum():
                pos += 1
            if index == 2 or pos >= len(window) or window[pos] != element:
                break
    while pos < len(window) and window[pos] in " \t":
        pos += 1
    if pos >= len(window):
        return None
    terminator = window[pos]
    if terminator.isalnum() or terminator == element:
        return None
    if terminator.isspace() and terminator not in _LINE_BREAKS:
        return None
    return element, terminator


def _normalise(text: str, terminator: str) -> str:
    """Drop line breaks when they are not the terminator; unify them when they are."""
    if terminator in _LINE_BREAKS:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\r", "").replace("\n", "")


# --------------------------------------------------------------------------------------------
# Segment stream


class _Start(NamedTuple):
    text: str  # normalised
    offset: int  # where the first ISA / GS / ST starts in ``text``
    delimiters: Delimiters
    enveloped: bool
    isa_wrapped: bool = False  # the first ISA had line breaks inside it (80-column wrapping)


def _find_start(text: str, file_name: str) -> _Start:
    """Find the first ISA (else GS/ST) and normalise line breaks for its terminator."""
    broken_isa: int | None = None
    for tried, match in enumerate(_ISA_CANDIDATE.finditer(text)):
        if tried >= _MAX_ISA_CANDIDATES:
            break
        terminator = _sniff_isa_terminator(text, match.start())
        if terminator is None:
            if broken_isa is None:
                broken_isa = match.start()
            continue
        normalised = _normalise(text, terminator)
        offset = len(_normalise(text[: match.start()], terminator))
        header = _parse_isa(normalised, offset)
        if header is None:  # cannot happen for a header that sniffed, but never trust it
            broken_isa = broken_isa if broken_isa is not None else match.start()
            continue
        isa_raw = text[match.start() : match.start() + header.end - offset]
        wrapped = "\n" in isa_raw.rstrip(_LINE_BREAKS) or "\r" in isa_raw.rstrip(_LINE_BREAKS)
        return _Start(normalised, offset, header.delimiters, enveloped=True, isa_wrapped=wrapped)
    if broken_isa is not None:
        raise X12ReadError(
            file_name,
            1,
            "the ISA segment is too short or malformed: its delimiters cannot be read",
            offset=broken_isa,
        )
    for match in _GS_ST_CANDIDATE.finditer(text):
        sniffed = _sniff_gs_st_terminator(text, match.start())
        if sniffed is None:
            continue
        element, terminator = sniffed
        normalised = _normalise(text, terminator)
        offset = len(_normalise(text[: match.start()], terminator))
        segment = "\n" if terminator in _LINE_BREAKS else terminator
        component = next(c for c in ":>^|\\" if c not in (element, segment))
        repetition = "^" if "^" not in (element, segment, component) else None
        delimiters = Delimiters(element, component, repetition, segment)
        return _Start(normalised, offset, delimiters, enveloped=False)
    raise X12ReadError(file_name, None, "no ISA, GS or ST segment found: not an X12 file")


class _SegmentStream:
    """Splits normalised text into segments, switching delimiters at every ISA.

    File-level findings (text before the ISA, trailing text, encoding) are appended to
    ``pending`` for the grouper to attach to an interchange.
    """

    def __init__(self, data: bytes | str, file_name: str) -> None:
        self.file_name = file_name
        self.pending: list[ReadWarning] = []
        text, encoding = decode_x12(data)
        if encoding in ("cp1252", "latin-1"):
            self.pending.append(
                ReadWarning(None, "ENCODING", f"the file is not UTF-8; decoded as {encoding}")
            )
        start = _find_start(text, file_name)
        self.text = start.text
        self.start = start.offset
        self.delimiters = start.delimiters
        self.enveloped = start.enveloped
        if self.text[: self.start].strip(_BLANKS):
            self.pending.append(
                ReadWarning(
                    None,
                    "TEXT_BEFORE_ENVELOPE",
                    f"{self.start} characters before the first "
                    f"{'ISA' if self.enveloped else 'GS/ST'} segment were skipped",
                )
            )
        if start.isa_wrapped:
            self.pending.append(
                ReadWarning(1, "ISA_WRAPPED", "the ISA segment is broken across lines")
            )
        if not self.enveloped:
            self.pending.append(
                ReadWarning(
                    None,
                    "NO_ENVELOPE",
                    "no ISA: delimiters assumed ("
                    f"element {self.delimiters.element!r}, component "
                    f"{self.delimiters.component!r}, terminator {self.delimiters.segment!r})",
                )
            )

    def _next_isa(self, pos: int) -> int | None:
        """Offset of the next readable ISA at or after ``pos``."""
        for match in _ISA_CANDIDATE.finditer(self.text, pos):
            if _parse_isa(self.text, match.start()) is not None:
                return match.start()
        return None

    def __iter__(self) -> Iterator[Segment]:
        text = self.text
        size = len(text)
        file_name = self.file_name
        pending = self.pending
        delimiters = self.delimiters
        element = delimiters.element
        terminator = delimiters.segment
        newline_mode = terminator == "\n"
        valid_ids: set[str] = set()
        position = 0
        pos = self.start
        after_iea = False
        segment_type = Segment
        new_segment = tuple.__new__
        blanks = _BLANKS
        chunk = _CHUNK_MIN

        while True:
            if not after_iea:
                # Fast path: the ordinary segments of the next chunk of text, split at once.
                # Whatever needs more care (an ISA, what follows an IEA, the unterminated
                # end of the text) is left to the segment-by-segment path below, from the
                # start of that segment; both read ordinary segments the same way.
                end = text.rfind(terminator, pos, pos + chunk)
                if end >= pos:
                    pieces = text[pos:end].split(terminator)
                    for index, raw in enumerate(pieces):
                        body = raw.strip(blanks)
                        if after_iea or body.startswith("ISA"):
                            pos += sum(map(len, pieces[:index])) + index
                            chunk = _CHUNK_MIN
                            break
                        if not body:  # blanks, or an empty segment (a doubled terminator)
                            continue
                        position += 1
                        parts = body.split(element)
                        seg_id = parts[0]
                        if seg_id not in valid_ids:
                            if _SEGMENT_ID.fullmatch(seg_id):
                                valid_ids.add(seg_id)
                            else:
                                pending.append(_bad_id(position, seg_id))
                        yield new_segment(segment_type, (seg_id, parts, position, delimiters))
                        if seg_id == "IEA":
                            after_iea = True
                    else:
                        pos = end + 1
                        chunk = min(2 * chunk, _CHUNK_MAX)
                        continue
            while pos < size and text[pos] in blanks:
                pos += 1
            if pos >= size:
                return
            if text.startswith("ISA", pos) and pos + 3 < size and _is_delimiter_char(text[pos + 3]):
                position += 1
                header = _parse_isa(text, pos)
                if header is None:
                    raise X12ReadError(
                        file_name,
                        position,
                        "the ISA segment is too short or malformed: its delimiters cannot be read",
                        offset=pos,
                    )
                if header.delimiters.segment == "\n" and not newline_mode:
                    raise X12ReadError(
                        file_name,
                        position,
                        "interchanges in one file mix line-break and character terminators",
                        offset=pos,
                    )
                delimiters = header.delimiters
                element = delimiters.element
                terminator = delimiters.segment
                if header.collapsed:
                    pending.append(
                        ReadWarning(
                            position,
                            "ISA_NOT_FIXED_WIDTH",
                            "the ISA is not 106 characters with fixed-width fields",
                        )
                    )
                after_iea = False
                yield new_segment(segment_type, ("ISA", header.elements, position, delimiters))
                pos = header.end
                continue
            if after_iea:
                # Between interchanges only blanks or another ISA belong.
                after_iea = False
                nxt = self._next_isa(pos)
                end = size if nxt is None else nxt
                pending.append(
                    ReadWarning(
                        position,
                        "TRAILING_DATA",
                        f"{end - pos} characters after IEA (segment {position}) "
                        + ("were ignored" if nxt is None else "before the next ISA were skipped"),
                    )
                )
                if nxt is None:
                    return
                pos = nxt
                continue

            idx = text.find(terminator, pos)
            if idx == -1:
                raw = text[pos:]
                nxt_pos = size
            else:
                raw = text[pos:idx]
                nxt_pos = idx + 1
            body = raw.rstrip(blanks)
            if not body:  # an empty segment: a doubled terminator
                pos = nxt_pos
                continue
            position += 1

            if idx == -1 and not newline_mode:
                parts = body.split(element)
                if parts[0] not in ("IEA", "GE", "SE"):
                    raise X12ReadError(
                        file_name,
                        position,
                        f"the data ends inside a {_safe_id(parts[0])} segment with no segment "
                        "terminator (truncated file?)",
                        offset=pos,
                    )
                pending.append(
                    ReadWarning(
                        position,
                        "UNTERMINATED",
                        f"the last segment ({parts[0]}) has no segment terminator",
                    )
                )
            else:
                parts = body.split(element)
            seg_id = parts[0]
            if seg_id not in valid_ids:
                if _SEGMENT_ID.fullmatch(seg_id):
                    valid_ids.add(seg_id)
                else:
                    pending.append(_bad_id(position, seg_id))
            yield new_segment(segment_type, (seg_id, parts, position, delimiters))
            pos = nxt_pos
            if seg_id == "IEA":
                after_iea = True


def _bad_id(position: int, seg_id: str) -> ReadWarning:
    return ReadWarning(position, "BAD_SEGMENT_ID", f"invalid segment id {_safe_id(seg_id)}")


def _safe_id(seg_id: str) -> str:
    """A segment id fit for a message: a real id, else a neutral description (may be data)."""
    if _SEGMENT_ID.fullmatch(seg_id):
        return seg_id
    return f"<{len(seg_id)} characters>"


# --------------------------------------------------------------------------------------------
# Grouping


def _int_or_none(value: str) -> int | None:
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return int(value)


_Owned = tuple[Interchange, FunctionalGroup, Transaction]


class _Grouper:
    """Builds Interchange -> FunctionalGroup -> Transaction from a segment stream."""

    def __init__(self, stream: _SegmentStream, *, keep: bool) -> None:
        self.stream = stream
        self.keep = keep  # keep transactions on their group (False when streaming)
        self.interchanges: list[Interchange] = []
        self.interchange: Interchange | None = None
        self.group: FunctionalGroup | None = None
        self.transaction: Transaction | None = None
        self.owner: tuple[Interchange, FunctionalGroup] | None = None

    # -- helpers
    def _warn_interchange(self, warning: ReadWarning) -> None:
        self._current_interchange().warnings.append(warning)

    def _current_interchange(self) -> Interchange:
        if self.interchange is None:
            self.interchange = Interchange(isa=None, delimiters=self.stream.delimiters)
            self.interchanges.append(self.interchange)
        return self.interchange

    def _current_group(self, seg: Segment) -> FunctionalGroup:
        if self.group is None:
            interchange = self._current_interchange()
            self.group = FunctionalGroup(gs=None)
            interchange.groups.append(self.group)
            # len(), not groups[:-1]: a slice per headerless group made this quadratic
            if interchange.isa is not None or len(interchange.groups) > 1:
                self.group.warnings.append(
                    ReadWarning(seg.position, "GS_MISSING", "ST without a GS functional group")
                )
        return self.group

    def _close_transaction(self, seg: Segment | None) -> _Owned | None:
        """Close the open transaction; ``seg`` is the SE, or None when the SE is missing."""
        tx = self.transaction
        if tx is None or self.owner is None:
            return None
        owned = (*self.owner, tx)
        self.transaction = None
        self.owner = None
        if seg is None:
            tx.warnings.append(
                ReadWarning(
                    tx.position,
                    "SE_MISSING",
                    f"transaction {tx.transaction_set_id} at segment {tx.position} has no SE",
                )
            )
            return owned
        tx.segments.append(seg)
        tx.se = seg
        count = _int_or_none(seg.get(1))
        if count != len(tx.segments):
            tx.warnings.append(
                ReadWarning(
                    seg.position,
                    "SE_COUNT",
                    f"SE01 says {seg.get(1).strip() or 'nothing'}; the transaction has "
                    f"{len(tx.segments)} segments",
                )
            )
        if seg.get(2).strip() != tx.control_number:
            tx.warnings.append(
                ReadWarning(
                    seg.position,
                    "SE_CONTROL",
                    f"SE02 {seg.get(2).strip()!r} does not match ST02 {tx.control_number!r}",
                )
            )
        return owned

    def _close_group(self, seg: Segment | None) -> None:
        group = self.group
        if group is None:
            return
        self.group = None
        if seg is None:
            if group.gs is not None:
                group.warnings.append(
                    ReadWarning(group.gs.position, "GE_MISSING", "functional group has no GE")
                )
            return
        group.ge = seg
        count = _int_or_none(seg.get(1))
        if count != group.transaction_count:
            group.warnings.append(
                ReadWarning(
                    seg.position,
                    "GE_COUNT",
                    f"GE01 says {seg.get(1).strip() or 'nothing'}; the group has "
                    f"{group.transaction_count} transactions",
                )
            )
        if group.gs is not None and seg.get(2).strip() != group.control_number:
            group.warnings.append(
                ReadWarning(
                    seg.position,
                    "GE_CONTROL",
                    f"GE02 {seg.get(2).strip()!r} does not match GS06 {group.control_number!r}",
                )
            )

    def _close_interchange(self, seg: Segment | None) -> None:
        interchange = self.interchange
        if interchange is None:
            return
        if seg is None:
            if interchange.isa is not None and interchange.iea is None:
                interchange.warnings.append(
                    ReadWarning(interchange.isa.position, "IEA_MISSING", "interchange has no IEA")
                )
            return
        interchange.iea = seg
        count = _int_or_none(seg.get(1))
        if count != len(interchange.groups):
            interchange.warnings.append(
                ReadWarning(
                    seg.position,
                    "IEA_COUNT",
                    f"IEA01 says {seg.get(1).strip() or 'nothing'}; the interchange has "
                    f"{len(interchange.groups)} functional groups",
                )
            )
        if interchange.isa is not None and seg.get(2).strip() != interchange.control_number:
            interchange.warnings.append(
                ReadWarning(
                    seg.position,
                    "IEA_CONTROL",
                    f"IEA02 {seg.get(2).strip()!r} does not match ISA13 "
                    f"{interchange.control_number!r}",
                )
            )

    def _outside(self, seg: Segment) -> None:
        self._warn_interchange(
            ReadWarning(
                seg.position,
                "OUTSIDE_TRANSACTION",
                f"{_safe_id(seg.id)} segment outside any transaction ignored",
            )
        )

    def _flush_pending(self) -> None:
        if self.stream.pending:
            interchange = self._current_interchange()
            interchange.warnings.extend(self.stream.pending)
            self.stream.pending.clear()

    # -- main loop
    def transactions(self) -> Iterator[_Owned]:
        """Yield every transaction as soon as it is closed, with its interchange and group."""
        for seg in self.stream:
            sid = seg.id
            tx = self.transaction
            if tx is not None and sid not in _CONTROL_IDS:
                tx.segments.append(seg)
                if self.stream.pending:
                    self._flush_pending()
                continue
            closed: _Owned | None = None
            if sid == "ISA":
                closed = self._close_transaction(None)
                self._close_group(None)
                if self.interchange is not None and self.interchange.iea is None:
                    self._close_interchange(None)
                self.interchange = Interchange(isa=seg, delimiters=seg.delimiters)
                self.interchanges.append(self.interchange)
            elif sid == "GS":
                closed = self._close_transaction(None)
                self._close_group(None)
                interchange = self._current_interchange()
                if interchange.iea is not None:
                    self._outside(seg)
                else:
                    self.group = FunctionalGroup(gs=seg)
                    interchange.groups.append(self.group)
            elif sid == "ST":
                closed = self._close_transaction(None)
                group = self._current_group(seg)
                group.transaction_count += 1
                guide = seg.get(3).strip() or group.version
                self.transaction = Transaction(
                    transaction_set_id=seg.get(1).strip(),
                    control_number=seg.get(2).strip(),
                    implementation_guide=guide,
                    segments=[seg],
                )
                self.owner = (self._current_interchange(), group)
                if self.keep:
                    group.transactions.append(self.transaction)
            elif sid == "SE":
                if tx is None:
                    self._outside(seg)
                else:
                    closed = self._close_transaction(seg)
            elif sid == "GE":
                closed = self._close_transaction(None)
                if self.group is None:
                    self._outside(seg)
                else:
                    self._close_group(seg)
            elif sid == "IEA":
                closed = self._close_transaction(None)
                self._close_group(None)
                if self.interchange is None or self.interchange.iea is not None:
                    self._outside(seg)
                else:
                    self._close_interchange(seg)
            else:
                self._outside(seg)
            self._flush_pending()
            if closed is not None:
                yield closed
        closed = self._close_transaction(None)
        if closed is not None:
            yield closed
        self._close_group(None)
        self._close_interchange(None)
        self._flush_pending()


# --------------------------------------------------------------------------------------------
# Public API


def iter_segments(data: bytes | str, file_name: str) -> Iterator[Segment]:
    """Every segment of the file in order (ISA, GS, ST ... SE, GE, IEA), one at a time.

    Delimiters switch at every ISA. No envelope checks are made; use
    :func:`read_interchanges` for those.
    """
    try:
        stream = _SegmentStream(data, file_name)
        yield from stream
    except X12ReadError:
        raise
    except Exception as exc:  # a reader bug must still surface as a read error
        raise X12ReadError(file_name, None, f"unreadable X12 ({type(exc).__name__})") from exc


def iter_transactions(
    data: bytes | str, file_name: str
) -> Iterator[tuple[Interchange, FunctionalGroup, Transaction]]:
    """Stream transactions: each is yielded once its SE (or the next envelope) is read.

    Only the current transaction is kept in memory: ``group.transactions`` stays empty.
    Warnings on the interchange and group are complete only once iteration ends.
    """
    try:
        transactions = _Grouper(_SegmentStream(data, file_name), keep=False).transactions()
        while True:
            with gc_paused():  # only while a transaction is built, not while the caller runs
                item = next(transactions, None)
            if item is None:
                return
            yield item
    except X12ReadError:
        raise
    except Exception as exc:
        raise X12ReadError(file_name, None, f"unreadable X12 ({type(exc).__name__})") from exc


def read_interchanges(data: bytes | str, file_name: str) -> list[Interchange]:
    """Read a whole file into interchanges, groups and transactions.

    Raises :class:`X12ReadError` when the data cannot be read as X12 at all; envelope rules the
    file breaks are recorded as warnings (``Interchange.all_warnings()``).
    """
    try:
        grouper = _Grouper(_SegmentStream(data, file_name), keep=True)
        with gc_paused():
            for _ in grouper.transactions():
                pass
    except X12ReadError:
        raise
    except Exception as exc:
        raise X12ReadError(file_name, None, f"unreadable X12 ({type(exc).__name__})") from exc
    if not grouper.interchanges:  # pragma: no cover - a start segment always makes one
        raise X12ReadError(file_name, None, "no segments found")
    return grouper.interchanges


def read_file(path: str | Path) -> list[Interchange]:
    """:func:`read_interchanges` on a file; the error names the file, not its full path."""
    path = Path(path)
    return read_interchanges(path.read_bytes(), path.name)

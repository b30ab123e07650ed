"""pyx12 maps for the 5010 eligibility transactions (270/271, 005010X279A1).

pyx12 4.0.0 ships 5010 maps for 837P, 837I, 835, 999 and 277CA, but for 270/271 only the 4010
maps (``270.4010.X092.A1.xml``, ``271.4010.X092.A1.xml``); its ``maps.xml`` lists the 5010
ones commented out, and the files do not exist. An ``005010X279A1`` file therefore stops pyx12
with "Map not found".

We validate 270/271 files against pyx12's own 4010 X092A1 maps **brought to 5010 by the short
list of edits below** (:data:`EDITS`), applied at run time to the maps of the installed pyx12
(nothing of pyx12 is copied into this repository). The edits are what the X279A1 guide
changed for the segments we write and read:

- ``GS08`` must be ``005010X279A1``;
- ``ST03`` (implementation convention reference) exists and is required, ``005010X279A1``;
- the subscriber and dependent dates (2100C/2100D ``DTP``, 2110C/2110D ``DTP``) use qualifier
  ``291`` (plan) in 5010 where 4010 used ``307`` (eligibility): ``291`` is added to the 4010
  codes in both guides (the 271 keeps its other 4010 date qualifiers, e.g. ``346``).

What that validation checks: the envelope with pyx12's real 5010 control map, the loop
structure (2000A-2000D, 2100x, 2110x), segment order, usage and repeats, mandatory elements,
element types, lengths and the code lists of the (edited) 4010 map. What it does not: the
rest of what X279A1 changed (e.g. ``EB13``/``EB14``, ``HI`` and ``MPI`` in 2100C, the 5010
code lists) and element repetitions: pyx12 4.0.0 does not split ``^`` repetitions, so an
``EQ01`` or ``EB03`` carrying several service types is an error to it. Our writers send one
service type per ``EQ``/``EB``.

:func:`map_path` builds, once per process, a folder with every file of pyx12's map folder
(symbolic links), a ``maps.xml`` that also lists the two maps, and the two edited maps; it is
removed when the process exits. Pass it as ``map_path`` to ``x12n_document``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pyx12

__all__ = ["EDITS", "VERSION", "map_path"]

VERSION = "005010X279A1"
MAP_FILES = {"270": "270.5010.X279.A1.revcycle.xml", "271": "271.5010.X279.A1.revcycle.xml"}
_SOURCES = {"270": "270.4010.X092.A1.xml", "271": "271.4010.X092.A1.xml"}
_FUNCTIONAL_IDS = {"270": "HS", "271": "HB"}


EDITS: tuple[str, ...] = (
    "GS08: code 005010X279A1",
    "ST03: required, code 005010X279A1",
    "DTP01 in 2100C/2100D/2110C/2110D: also 291 (plan)",
)
"""What :func:`_apply` changes in each of the two 4010 maps, for people and reports."""

_LOCK = threading.Lock()
_BUILT: Path | None = None


def _pyx12_map_dir() -> Path:
    return Path(pyx12.__file__).resolve().parent / "map"


def _codes(element: ET.Element, codes: list[str]) -> None:
    valid = element.find("valid_codes")
    if valid is None:
        valid = ET.SubElement(element, "valid_codes")
    for child in list(valid):
        valid.remove(child)
    for code in codes:
        ET.SubElement(valid, "code").text = code


def _apply(root: ET.Element) -> None:
    """Apply :data:`EDITS` (the same for both transactions) to one parsed 4010 map."""
    for element in root.iter("element"):
        if element.get("xid") == "GS08":
            _codes(element, [VERSION])
    for segment in root.iter("segment"):
        if segment.get("xid") == "ST" and not any(
            e.get("xid") == "ST03" for e in segment.iter("element")
        ):
            st03 = ET.SubElement(segment, "element", xid="ST03")
            for tag, text in (
                ("data_ele", "1705"),
                ("name", "Implementation Convention Reference"),
                ("usage", "R"),
                ("seq", "03"),
            ):
                ET.SubElement(st03, tag).text = text
            _codes(st03, [VERSION])
    for loop in root.iter("loop"):
        if loop.get("xid") not in ("2100C", "2100D", "2110C", "2110D"):
            continue
        for segment in loop.findall("segment"):
            if segment.get("xid") != "DTP":
                continue
            for element in segment.findall("element"):
                if element.get("xid") != "DTP01":
                    continue
                valid = element.find("valid_codes")
                codes = [c.text or "" for c in valid] if valid is not None else []
                if "291" not in codes:
                    _codes(element, sorted({*codes, "291"}))


def _build(folder: Path) -> None:
    source = _pyx12_map_dir()
    for entry in source.iterdir():
        if entry.name != "maps.xml":
            (folder / entry.name).symlink_to(entry)
    index = ET.parse(source / "maps.xml")  # noqa: S314 - pyx12's own files
    for version in index.getroot().iter("version"):
        if version.get("icvn") == "00501":
            for transaction, file_name in MAP_FILES.items():
                listed = ET.SubElement(
                    version,
                    "map",
                    vriic=VERSION,
                    fic=_FUNCTIONAL_IDS[transaction],
                    abbr=transaction,
                )
                listed.text = file_name
    index.write(folder / "maps.xml", encoding="utf-8", xml_declaration=True)
    for transaction, file_name in MAP_FILES.items():
        tree = ET.parse(source / _SOURCES[transaction])  # noqa: S314 - as above
        _apply(tree.getroot())
        tree.write(folder / file_name, encoding="utf-8", xml_declaration=True)


def map_path() -> str:
    """The folder of pyx12 maps including the 005010X279A1 270/271 maps (built on first use)."""
    global _BUILT
    with _LOCK:
        if _BUILT is None or not _BUILT.is_dir():
            folder = Path(tempfile.mkdtemp(prefix="revcycle-pyx12-maps-"))
            try:
                _build(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            _BUILT = folder
        return os.fspath(_BUILT)

"""The code sets shipped as dbt seeds, read from ``dbt_project/seeds/code_sets/``.

dbt loads the same CSV files into the warehouse; Python code (the extract generator, checks
that run before dbt) reads them here so both sides use one copy. Every value is read as
text so codes keep their leading zeros; prices become ``Decimal``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from revcycle.paths import seeds_dir

CODE_SETS_FOLDER = "code_sets"


@dataclass(frozen=True)
class ProcedureCode:
    code: str
    code_system: str  # CPT or HCPCS
    short_label: str
    sex_restriction: str | None  # "M", "F" or None
    min_age_years: int | None
    max_age_years: int | None


@dataclass(frozen=True)
class Icd10Code:
    code: str  # without the dot, as on an 837 (E119)
    dotted: str  # as an EMR shows it (E11.9)
    short_description: str
    sex_restriction: str | None


@dataclass(frozen=True)
class ChargemasterItem:
    procedure_code: str
    revenue_code: str
    unit_price: Decimal


def code_sets_dir(seeds: Path | None = None) -> Path:
    return (seeds if seeds is not None else seeds_dir()) / CODE_SETS_FOLDER


def read_seed(name: str, seeds: Path | None = None) -> list[dict[str, str]]:
    """Rows of ``<name>.csv`` as text dictionaries (empty cells are empty strings)."""
    path = code_sets_dir(seeds) / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _optional_int(text: str) -> int | None:
    return int(text) if text else None


def load_procedure_codes(seeds: Path | None = None) -> dict[str, ProcedureCode]:
    return {
        row["procedure_code"]: ProcedureCode(
            code=row["procedure_code"],
            code_system=row["code_system"],
            short_label=row["short_label"],
            sex_restriction=row["sex_restriction"] or None,
            min_age_years=_optional_int(row["min_age_years"]),
            max_age_years=_optional_int(row["max_age_years"]),
        )
        for row in read_seed("procedure_codes", seeds)
    }


def load_icd10cm_codes(seeds: Path | None = None) -> dict[str, Icd10Code]:
    """ICD-10-CM codes keyed by the code without the dot."""
    return {
        row["icd10_code"]: Icd10Code(
            code=row["icd10_code"],
            dotted=row["icd10_code_dotted"],
            short_description=row["short_description"],
            sex_restriction=row["sex_restriction"] or None,
        )
        for row in read_seed("icd10cm_codes", seeds)
    }


def load_chargemaster(seeds: Path | None = None) -> dict[str, ChargemasterItem]:
    return {
        row["procedure_code"]: ChargemasterItem(
            procedure_code=row["procedure_code"],
            revenue_code=row["revenue_code"],
            unit_price=Decimal(row["unit_price"]),
        )
        for row in read_seed("chargemaster", seeds)
    }


def load_place_of_service(seeds: Path | None = None) -> dict[str, str]:
    return {row["pos_code"]: row["pos_name"] for row in read_seed("place_of_service", seeds)}


def load_procedure_modifiers(seeds: Path | None = None) -> dict[str, str]:
    return {row["modifier"]: row["description"] for row in read_seed("procedure_modifiers", seeds)}


def load_revenue_codes(seeds: Path | None = None) -> dict[str, str]:
    return {row["revenue_code"]: row["description"] for row in read_seed("revenue_codes", seeds)}

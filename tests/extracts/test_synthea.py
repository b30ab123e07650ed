"""Synthea CSV exports -> our extract: mapped figures, nothing lost, and the whole pipeline.

The sample export is written here, in the columns and formats Synthea's CSV exporter writes
(UUID ids, ISO timestamps with Z, plain dates in conditions, SNOMED codes, NaN in numeric
payer columns; headers of Synthea 3.x, and of 2.x / 3.0 where the variant matters). Five
patients (Medicare with a secondary payer, Medicaid child, commercial, uninsured, one without
a ZIP), two organisations, encounters of six classes inside the window and a few outside it.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from revcycle.codesets import load_chargemaster, load_icd10cm_codes, load_procedure_codes
from revcycle.extracts.load import LoadStatus, load_extract_dir
from revcycle.extracts.npi import is_valid_npi, luhn_check_digit
from revcycle.extracts.schema import TABLES
from revcycle.extracts.synthea import (
    CROSSWALK_PATH,
    REJECTS_FOLDER,
    ConversionSummary,
    SyntheaFormatError,
    convert_synthea,
    load_crosswalk,
)
from revcycle.paths import WorkArea
from tests.conftest import AS_OF

# -------------------------------------------------------------------------------------------
# A Synthea-format sample

PATIENTS_HEADER = (
    "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,"
    "MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,ZIP,LAT,LON,"
    "HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE,INCOME"
)
PATIENTS_HEADER_2X = (
    "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,"
    "RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,"
    "HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE"
)
PAYERS_HEADER = (
    "Id,NAME,OWNERSHIP,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,"
    "AMOUNT_UNCOVERED,REVENUE,COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,"
    "UNCOVERED_MEDICATIONS,COVERED_PROCEDURES,UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,"
    "UNCOVERED_IMMUNIZATIONS,UNIQUE_CUSTOMERS,QOLS_AVG,MEMBER_MONTHS"
)
TRANSITIONS_HEADERS = {
    "3.1": "PATIENT,MEMBERID,START_DATE,END_DATE,PAYER,SECONDARY_PAYER,PLAN_OWNERSHIP,OWNER_NAME",
    "3.0": "PATIENT,MEMBERID,START_YEAR,END_YEAR,PAYER,SECONDARY_PAYER,OWNERSHIP,OWNERNAME",
    "2.x": "PATIENT,START_YEAR,END_YEAR,PAYER,OWNERSHIP",
}
ORGANIZATIONS_HEADER = "Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE,REVENUE,UTILIZATION,NPI"
PROVIDERS_HEADER = (
    "Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,ENCOUNTERS,"
    "PROCEDURES,NPI"
)
ENCOUNTERS_HEADER = (
    "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,"
    "BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION"
)
PROCEDURES_HEADER = (
    "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION"
)
PROCEDURES_HEADER_2X = (
    "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION"
)
CONDITIONS_HEADER = "START,STOP,PATIENT,ENCOUNTER,SYSTEM,CODE,DESCRIPTION"
CLAIMS_HEADER = (
    "Id,PATIENTID,PROVIDERID,PRIMARYPATIENTINSURANCEID,SECONDARYPATIENTINSURANCEID,"
    "DEPARTMENTID,PATIENTDEPARTMENTID,DIAGNOSIS1,DIAGNOSIS2,DIAGNOSIS3,DIAGNOSIS4,DIAGNOSIS5,"
    "DIAGNOSIS6,DIAGNOSIS7,DIAGNOSIS8,REFERRINGPROVIDERID,APPOINTMENTID,CURRENTILLNESSDATE,"
    "SERVICEDATE,SUPERVISINGPROVIDERID,STATUS1,STATUS2,STATUSP,OUTSTANDING1,OUTSTANDING2,"
    "OUTSTANDINGP,LASTBILLEDDATE1,LASTBILLEDDATE2,LASTBILLEDDATEP,HEALTHCARECLAIMTYPEID1,"
    "HEALTHCARECLAIMTYPEID2"
)
TRANSACTIONS_HEADER = (
    "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,METHOD,FROMDATE,TODATE,PLACEOFSERVICE,"
    "PROCEDURECODE,MODIFIER1,MODIFIER2,DIAGNOSISREF1,DIAGNOSISREF2,DIAGNOSISREF3,"
    "DIAGNOSISREF4,UNITS,DEPARTMENTID,NOTES,UNITAMOUNT,TRANSFEROUTID,TRANSFERTYPE,PAYMENTS,"
    "ADJUSTMENTS,TRANSFERS,OUTSTANDING,APPOINTMENTID,LINENOTE,PATIENTINSURANCEID,"
    "FEESCHEDULEID,PROVIDERID,SUPERVISINGPROVIDERID"
)


def uid(name: str) -> str:
    """Synthea's ids are UUIDs; ours are stable so the test can name them."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"synthea-sample/{name}"))


def npi_from(base9: str) -> str:
    return base9 + luhn_check_digit(base9)


P_MEDICARE, P_MEDICAID, P_AETNA, P_UNINSURED, P_NO_ZIP = (uid(f"patient-{i}") for i in range(1, 6))
MEDICARE, MEDICAID, AETNA, BCBS, DUAL, NONE = (
    uid(f"payer-{n}") for n in ("medicare", "medicaid", "aetna", "bcbs", "dual", "none")
)
CLINIC, HOSPITAL = uid("org-clinic"), uid("org-hospital")
DR_CLINIC, DR_HOSPITAL = uid("clinician-1"), uid("clinician-2")
CLINIC_NPI = npi_from("123456789")
ENCOUNTER = {name: uid(f"encounter-{name}") for name in (
    "awv_old", "awv", "office", "child_well", "ed", "hop", "uninsured", "telehealth",
    "inpatient", "no_zip", "procedure_only", "future",
)}  # fmt: skip


@dataclass
class Visit:
    key: str
    patient: str
    start: str
    klass: str
    code: str
    cost: str
    payer: str
    org: str = CLINIC
    clinician: str = DR_CLINIC
    reason: str = ""
    procedures: list[tuple[str, str, str]] = field(default_factory=list)  # snomed, cost, reason
    conditions: list[str] = field(default_factory=list)
    other_charges: list[tuple[str, str]] = field(default_factory=list)  # drugs: code, amount


VISITS = [
    # Outside the 365-day window: history only (makes the 2026 wellness visit "subsequent").
    Visit("awv_old", P_MEDICARE, "2024-09-10T14:00:00Z", "wellness", "162673000", "136.80",
          MEDICARE),
    # Medicare annual wellness visit with two depression screenings (one line, 2 units), an
    # unmapped medication reconciliation, hypertension and an unmapped finding.
    Visit("awv", P_MEDICARE, "2026-09-14T13:30:00Z", "wellness", "162673000", "136.80",
          MEDICARE,
          procedures=[("171207006", "25.00", ""), ("715252007", "25.00", ""),
                      ("430193006", "19.50", "")],
          conditions=["59621000", "314529007"]),
    Visit("office", P_MEDICARE, "2026-10-02T09:15:00Z", "ambulatory", "185345009", "85.55",
          MEDICARE, reason="44054006",
          procedures=[("43396009", "35.25", "44054006")],
          other_charges=[("860975", "12.34")]),
    Visit("child_well", P_MEDICAID, "2026-06-01T10:00:00Z", "wellness", "410620009", "142.58",
          MEDICAID, procedures=[("171207006", "25.00", "")]),
    Visit("ed", P_AETNA, "2026-08-20T22:41:07Z", "emergency", "50849002", "310.00", AETNA,
          org=HOSPITAL, clinician=DR_HOSPITAL, reason="62106007",
          procedures=[("288086009", "402.15", "370247008")], conditions=["370247008"]),
    Visit("hop", P_AETNA, "2026-08-27T15:00:00Z", "outpatient", "185349003", "260.00", AETNA,
          org=HOSPITAL, clinician=DR_HOSPITAL, reason="49436004",
          procedures=[("29303009", "95.00", "49436004")]),
    Visit("uninsured", P_UNINSURED, "2026-07-04T11:20:00Z", "urgentcare", "702927004",
          "129.16", NONE, conditions=["195662009"]),
    # No ICD-10 diagnosis can be mapped: converted, and the scrubber holds it.
    Visit("telehealth", P_AETNA, "2026-10-15T16:00:00Z", "virtual", "185316007", "77.49",
          AETNA, reason="314529007"),
    Visit("inpatient", P_MEDICARE, "2026-05-05T03:00:00Z", "inpatient", "183452005",
          "2130.00", MEDICARE, org=HOSPITAL, clinician=DR_HOSPITAL,
          procedures=[("399208008", "120.00", "")], conditions=["233604007"]),
    Visit("no_zip", P_NO_ZIP, "2026-03-03T08:00:00Z", "ambulatory", "185345009", "85.55",
          AETNA, conditions=["10509002"]),
    # A procedure-only encounter whose one procedure has no CPT: nothing to bill.
    Visit("procedure_only", P_MEDICAID, "2026-10-20T12:00:00Z", "ambulatory", "308335008",
          "0.00", MEDICAID, procedures=[("430193006", "19.50", "")],
          conditions=["65363002"]),
    Visit("future", P_AETNA, "2026-11-05T08:00:00Z", "ambulatory", "185345009", "85.55",
          AETNA),
]  # fmt: skip

# Converted visits and what they bill: the visit line (BASE_ENCOUNTER_COST) plus the mapped
# procedures' BASE_COST.
BILLED_VISITS = ("awv", "office", "child_well", "ed", "hop", "uninsured", "telehealth")
MAPPED_PROCEDURE_COST = (
    Decimal("25.00") * 3 + Decimal("35.25") + Decimal("402.15") + Decimal("95.00")
)
VISIT_COST = sum((Decimal(v.cost) for v in VISITS if v.key in BILLED_VISITS), Decimal("0.00"))


def _write(path: Path, header: str, rows: Iterable[dict[str, str]]) -> None:
    columns = header.split(",")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")  # Synthea on Windows writes CRLF too
        writer.writerow(columns)
        for row in rows:
            unknown = set(row) - set(columns)
            assert not unknown, unknown
            writer.writerow([row.get(c, "") for c in columns])


def _transitions(variant: str) -> list[dict[str, str]]:
    def row(patient: str, start: str, end: str, payer: str, **extra: str) -> dict[str, str]:
        if variant == "2.x":
            bounds = {"START_YEAR": start[:4], "END_YEAR": end[:4]}
            return {"PATIENT": patient, **bounds, "PAYER": payer, "OWNERSHIP": "Self"}
        if variant == "3.0":
            bounds = {"START_YEAR": start, "END_YEAR": end}
            owner = {"OWNERSHIP": "Self", "OWNERNAME": "x"}
        else:
            bounds = {"START_DATE": start, "END_DATE": end}
            owner = {"PLAN_OWNERSHIP": "Self", "OWNER_NAME": "x"}
        return {"PATIENT": patient, "PAYER": payer, **bounds, **owner, **extra}

    return [
        row(P_MEDICARE, "2000-01-01T00:00:00Z", "2018-12-31T23:59:59Z", AETNA,
            MEMBERID=uid("member-1a")),
        row(P_MEDICARE, "2019-01-01T00:00:00Z", "2026-12-31T23:59:59Z", MEDICARE,
            MEMBERID=uid("member-1b"), SECONDARY_PAYER=BCBS),
        row(P_MEDICAID, "2019-01-01T00:00:00Z", "2026-12-31T23:59:59Z", MEDICAID,
            MEMBERID=uid("member-2")),
        row(P_AETNA, "2020-01-01T00:00:00Z", "2026-12-31T23:59:59Z", AETNA,
            MEMBERID=uid("member-3")),
        row(P_UNINSURED, "2015-01-01T00:00:00Z", "2026-12-31T23:59:59Z", NONE,
            MEMBERID=uid("member-4")),
        row(P_NO_ZIP, "2020-01-01T00:00:00Z", "2026-12-31T23:59:59Z", AETNA,
            MEMBERID=uid("member-5")),
    ]  # fmt: skip


def write_sample(folder: Path, *, variant: str = "3.1") -> Path:
    """A small Synthea export; ``variant`` picks the payer_transitions (and 2.x) headers."""
    folder.mkdir(parents=True, exist_ok=True)
    old = variant == "2.x"
    people = [
        (P_MEDICARE, "1954-03-21", "Maynard46", "Lee", "Mosciski958", "M",
         "534 Kuhn Ridge Apt 9", "02118"),
        (P_MEDICAID, "2019-02-11", "Ava112", "", "O'Keefe430", "F", "12 Elm St", "02119"),
        (P_AETNA, "1986-07-30", "Rosa29", "Maria", "Hernandez77", "F", "88 Bay Rd Unit 4",
         "2120"),
        (P_UNINSURED, "1996-01-05", "Omar87", "", "Said12", "M", "1 Park Pl", "02121"),
        (P_NO_ZIP, "1970-10-10", "Ken5", "", "Ito6", "M", "9 Hill St", ""),
    ]  # fmt: skip
    _write(
        folder / "patients.csv",
        PATIENTS_HEADER_2X if old else PATIENTS_HEADER,
        (
            {
                "Id": pid, "BIRTHDATE": birth, "SSN": "999-12-3456", "FIRST": first,
                **({} if old else {"MIDDLE": middle, "FIPS": "25025", "INCOME": "61000"}),
                "LAST": last, "GENDER": sex, "ADDRESS": street, "CITY": "Boston",
                "STATE": "Massachusetts", "COUNTY": "Suffolk County", "ZIP": zip_code,
                "LAT": "42.33", "LON": "-71.07", "HEALTHCARE_EXPENSES": "1000.5",
                "HEALTHCARE_COVERAGE": "2000.25", "MARITAL": "M", "RACE": "white",
            }
            for pid, birth, first, middle, last, sex, street, zip_code in people
        ),
    )  # fmt: skip
    payers = [
        (MEDICARE, "Medicare", "GOVERNMENT", "7500 Security Blvd", "Baltimore", "MD", "21244"),
        (MEDICAID, "Medicaid", "GOVERNMENT", "7500 Security Blvd", "Baltimore", "MD", "21244"),
        (AETNA, "Aetna", "PRIVATE", "151 Farmington Ave", "Hartford", "CT", "06156"),
        (BCBS, "Blue Cross Blue Shield", "PRIVATE", "225 N Michigan Ave", "Chicago", "IL",
         "60601"),
        (DUAL, "Dual Eligible", "GOVERNMENT", "7500 Security Blvd", "Baltimore", "MD", "21244"),
        (NONE, "NO_INSURANCE", "NO_INSURANCE", "", "", "", ""),
    ]  # fmt: skip
    _write(
        folder / "payers.csv",
        PAYERS_HEADER,
        (
            {"Id": i, "NAME": n, "OWNERSHIP": o, "ADDRESS": a, "CITY": c,
             "STATE_HEADQUARTERED": s, "ZIP": z, "AMOUNT_COVERED": "1234.5",
             "QOLS_AVG": "NaN", "MEMBER_MONTHS": "120"}
            for i, n, o, a, c, s, z in payers
        ),
    )  # fmt: skip
    _write(folder / "payer_transitions.csv", TRANSITIONS_HEADERS[variant], _transitions(variant))
    _write(
        folder / "organizations.csv",
        ORGANIZATIONS_HEADER,
        [
            {"Id": CLINIC, "NAME": "Riverside Family Clinic", "ADDRESS": "12 Main St",
             "CITY": "Boston", "STATE": "MA", "ZIP": "02118", "NPI": CLINIC_NPI},
            {"Id": HOSPITAL, "NAME": "Boston General Hospital", "ADDRESS": "800 Harrison Ave",
             "CITY": "Boston", "STATE": "MA", "ZIP": "2118", "NPI": "9999999999"},
        ],
    )  # fmt: skip
    _write(
        folder / "providers.csv",
        PROVIDERS_HEADER,
        [
            {"Id": DR_CLINIC, "ORGANIZATION": CLINIC, "NAME": "Dr. Ted955 Reilly981",
             "GENDER": "M", "SPECIALITY": "GENERAL PRACTICE", "ADDRESS": "12 Main St",
             "CITY": "Boston", "STATE": "MA", "ZIP": "02118"},
            {"Id": DR_HOSPITAL, "ORGANIZATION": HOSPITAL, "NAME": "Ana123 Lopez45",
             "GENDER": "F", "SPECIALITY": "EMERGENCY MEDICINE", "ADDRESS": "", "CITY": "",
             "STATE": "", "ZIP": ""},
        ],
    )  # fmt: skip
    encounters, procedures, conditions, claims, transactions = [], [], [], [], []
    for v in VISITS:
        eid = ENCOUNTER[v.key]
        encounters.append(
            {"Id": eid, "START": v.start, "STOP": v.start.replace("00Z", "59Z"),
             "PATIENT": v.patient, "ORGANIZATION": v.org, "PROVIDER": v.clinician,
             "PAYER": v.payer, "ENCOUNTERCLASS": v.klass, "CODE": v.code,
             "DESCRIPTION": "Encounter", "BASE_ENCOUNTER_COST": v.cost,
             "TOTAL_CLAIM_COST": v.cost, "PAYER_COVERAGE": "0.00", "REASONCODE": v.reason,
             "REASONDESCRIPTION": "Reason" if v.reason else ""}
        )  # fmt: skip
        claim_id = uid(f"claim-{v.key}")
        claims.append(
            {"Id": claim_id, "PATIENTID": v.patient, "PROVIDERID": v.org,
             "PRIMARYPATIENTINSURANCEID": "0" if v.payer == NONE else v.payer,
             "SECONDARYPATIENTINSURANCEID": "0", "DEPARTMENTID": "3",
             "APPOINTMENTID": eid, "SERVICEDATE": v.start, "STATUS1": "CLOSED",
             "STATUSP": "CLOSED", "HEALTHCARECLAIMTYPEID1": "1", "HEALTHCARECLAIMTYPEID2": "0"}
        )  # fmt: skip
        charges = [(v.code, v.cost), *[(p[0], p[1]) for p in v.procedures], *v.other_charges]
        for n, (code, amount) in enumerate(charges):
            transactions.append(
                {"ID": uid(f"tx-{v.key}-{n}"), "CLAIMID": claim_id, "CHARGEID": str(n),
                 "PATIENTID": v.patient, "TYPE": "CHARGE", "AMOUNT": amount,
                 "FROMDATE": v.start, "TODATE": v.start, "PLACEOFSERVICE": v.org,
                 "PROCEDURECODE": code, "UNITS": "1", "UNITAMOUNT": amount,
                 "APPOINTMENTID": eid, "PROVIDERID": v.clinician}
            )  # fmt: skip
        transactions.append(
            {"ID": uid(f"tx-{v.key}-pay"), "CLAIMID": claim_id, "CHARGEID": "0",
             "PATIENTID": v.patient, "TYPE": "PAYMENT", "METHOD": "ECHECK",
             "PAYMENTS": v.cost, "FROMDATE": v.start, "TODATE": v.start,
             "PROCEDURECODE": v.code, "APPOINTMENTID": eid}
        )  # fmt: skip
        for snomed, cost, reason in v.procedures:
            row = {
                "PATIENT": v.patient,
                "ENCOUNTER": eid,
                "CODE": snomed,
                "DESCRIPTION": "Procedure",
                "BASE_COST": cost,
                "REASONCODE": reason,
            }
            if old:
                row["DATE"] = v.start
            else:
                row.update(START=v.start, STOP=v.start, SYSTEM="SNOMED-CT")
            procedures.append(row)
        for snomed in v.conditions:
            conditions.append(
                {"START": v.start[:10], "PATIENT": v.patient, "ENCOUNTER": eid,
                 "SYSTEM": "SNOMED-CT", "CODE": snomed, "DESCRIPTION": "Condition"}
            )  # fmt: skip
    _write(folder / "encounters.csv", ENCOUNTERS_HEADER, encounters)
    _write(
        folder / "procedures.csv", PROCEDURES_HEADER_2X if old else PROCEDURES_HEADER, procedures
    )
    _write(folder / "conditions.csv", CONDITIONS_HEADER, conditions)
    _write(folder / "claims.csv", CLAIMS_HEADER, claims)
    _write(folder / "claims_transactions.csv", TRANSACTIONS_HEADER, transactions)
    return folder


# -------------------------------------------------------------------------------------------
# Conversion


@dataclass(frozen=True)
class Converted:
    summary: ConversionSummary
    out: Path
    tables: dict[str, list[dict[str, str]]]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _convert(root: Path, variant: str = "3.1") -> Converted:
    sample = write_sample(root / "synthea", variant=variant)
    out = root / "extract"
    summary = convert_synthea(sample, out, as_of=AS_OF)
    tables = {t.name: _read(out / t.file_name) for t in TABLES}
    return Converted(summary, out, tables)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Converted:
    return _convert(tmp_path_factory.mktemp("synthea"))


def _by(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in rows}


def test_converted_extract_loads_every_row(converted: Converted, tmp_path: Path) -> None:
    extract = shutil.copytree(converted.out, tmp_path / "extract")
    warehouse = tmp_path / "wh.duckdb"

    outcomes = load_extract_dir(extract, warehouse, tmp_path / "quarantine")

    # The rejects and summary live in a sub-folder, which the loader does not read.
    assert sorted(o.file_name for o in outcomes) == sorted(t.file_name for t in TABLES)
    assert {o.status for o in outcomes} == {LoadStatus.LOADED}, [o.reason for o in outcomes]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in TABLES:
            [(count,)] = con.execute(f"select count(*) from raw.{table.name}").fetchall()
            assert count == converted.summary.rows_out[table.name] > 0, table.name
        [(charged,)] = con.execute("select sum(charge_amount) from raw.charges").fetchall()
    assert charged == converted.summary.charge_amount


def test_every_synthea_row_is_mapped_or_rejected_with_a_reason(converted: Converted) -> None:
    summary = converted.summary
    for name, rows_in in summary.rows_in.items():
        if name in ("claims.csv", "claims_transactions.csv"):
            continue
        assert rows_in == summary.rows_mapped.get(name, 0) + summary.rejected_rows(name), name
    rejects = _read(converted.out / REJECTS_FOLDER / "rejects.csv")
    assert len(rejects) == summary.rejected_rows()
    reasons = {(r["source_file"], r["source_key"], r["reason"]) for r in rejects}
    enc = ENCOUNTER
    assert {
        ("encounters.csv", enc["awv_old"], "before_window"),
        ("encounters.csv", enc["future"], "after_as_of"),
        ("encounters.csv", enc["inpatient"], "class_not_billed"),
        ("encounters.csv", enc["no_zip"], "patient_not_converted"),
        ("encounters.csv", enc["procedure_only"], "no_billable_service"),
        ("patients.csv", P_NO_ZIP, "zip_invalid"),
        ("payer_transitions.csv", f"{P_UNINSURED}:{NONE}", "no_insurance_period"),
        ("payer_transitions.csv", f"{P_NO_ZIP}:{AETNA}", "patient_not_converted"),
        ("procedures.csv", f"{enc['awv']}:430193006", "procedure_unmapped"),
        ("procedures.csv", f"{enc['inpatient']}:399208008", "encounter_not_converted"),
        ("conditions.csv", f"{enc['awv']}:314529007", "condition_unmapped"),
        ("conditions.csv", f"{enc['procedure_only']}:65363002", "encounter_not_converted"),
    } <= reasons
    details = {
        (r["source_key"], r["detail"]) for r in rejects if r["source_file"] != "patients.csv"
    }
    assert (f"{enc['inpatient']}:399208008", "encounter: class_not_billed") in details
    assert (f"{enc['awv']}:430193006", "SNOMED 430193006") in details
    assert summary.rejected[("procedures.csv", "procedure_unmapped")] == 2
    assert summary.notes["procedure_rows_merged_into_units"] == 1


def test_charges_are_the_synthea_costs_of_what_was_mapped(converted: Converted) -> None:
    summary = converted.summary
    charges = converted.tables["charges"]

    assert summary.charge_amount == VISIT_COST + MAPPED_PROCEDURE_COST == Decimal("1748.98")
    assert sum(Decimal(c["charge_amount"]) for c in charges) == summary.charge_amount
    encounters = _by(converted.tables["encounters"], "encounter_id")
    assert set(encounters) == {ENCOUNTER[k] for k in BILLED_VISITS}
    lines = {
        (e, c["line_number"]): c for e in encounters for c in charges if c["encounter_id"] == e
    }
    awv = ENCOUNTER["awv"]
    assert [
        (c["procedure_code"], c["units"], c["charge_amount"])
        for (e, _), c in sorted(lines.items())
        if e == awv
    ] == [("G0439", "1", "136.80"), ("96127", "2", "50.00")]
    by_code = {c["procedure_code"]: c for c in charges}
    assert by_code["99284"]["modifier_1"] == "25"  # the ED visit with a wound repair
    first_lines = {c["encounter_id"]: c for c in charges if c["line_number"] == "1"}
    telehealth = first_lines[ENCOUNTER["telehealth"]]  # first visit with the clinic: new
    assert (telehealth["procedure_code"], telehealth["modifier_1"]) == ("99203", "95")
    assert first_lines[ENCOUNTER["office"]]["procedure_code"] == "99213"  # seen there in 2024
    assert by_code["99383"]["charge_amount"] == "142.58"  # Medicaid child, new, age 7
    assert by_code["G0463"]["revenue_code"] == "0510"  # hospital outpatient clinic visit
    assert by_code["93000"]["revenue_code"] == "0730"
    assert by_code["99284"]["revenue_code"] == ""  # professional claim

    check = summary.cross_check
    assert check is not None
    assert check.encounters_compared == len(BILLED_VISITS)
    assert check.other_items_amount == Decimal("12.34")  # the metformin Synthea charged
    assert check.unconverted_procedure_amount == Decimal("19.50")
    assert check.unexplained_amount == Decimal("0.00") and check.encounters_unexplained == 0
    assert check.synthea_charge_amount == summary.charge_amount + Decimal("12.34") + Decimal(
        "19.50"
    )


def test_self_pay_secondary_coverage_and_payers(converted: Converted) -> None:
    summary = converted.summary
    encounters = _by(converted.tables["encounters"], "encounter_id")
    coverages = _by(converted.tables["coverages"], "coverage_id")
    payers = _by(converted.tables["payers"], "payer_id")

    uninsured = encounters[ENCOUNTER["uninsured"]]
    assert uninsured["primary_coverage_id"] == "" == uninsured["secondary_coverage_id"]
    assert summary.self_pay_encounters == 1
    assert payers["SELFPAY"]["claim_filing_indicator"] == "09"

    awv = encounters[ENCOUNTER["awv"]]
    primary, secondary = (
        coverages[awv["primary_coverage_id"]],
        coverages[awv["secondary_coverage_id"]],
    )
    assert (primary["coverage_order"], secondary["coverage_order"]) == ("1", "2")
    assert payers[primary["payer_id"]]["payer_name"] == "Medicare"
    assert payers[secondary["payer_id"]]["claim_filing_indicator"] == "BL"
    assert primary["member_id"] == uid("member-1b").upper()
    assert (primary["effective_date"], primary["end_date"]) == ("2019-01-01", "2026-12-31")
    assert summary.encounters_with_secondary == 2  # both Medicare visits of 2026

    kinds = {
        p["payer_name"]: (
            p["payer_type"],
            p["claim_filing_indicator"],
            p["allowed_percent_of_charge"],
        )
        for p in payers.values()
    }
    assert kinds == {
        "Medicare": ("medicare", "MB", "38.50"),
        "Dual Eligible": ("medicare", "MB", "38.50"),
        "Medicaid": ("medicaid", "MC", "31.00"),
        "Aetna": ("commercial", "CI", "60.00"),
        "Blue Cross Blue Shield": ("commercial", "BL", "60.00"),
        "Self Pay": ("self_pay", "09", "100.00"),
    }
    assert all(len(p) == 5 and p.isalnum() and p.isupper() for p in payers if p != "SELFPAY")


def test_patients_and_providers_are_billable(converted: Converted) -> None:
    patients = _by(converted.tables["patients"], "patient_id")
    providers = _by(converted.tables["providers"], "provider_id")

    medicare = patients[P_MEDICARE]
    assert (medicare["first_name"], medicare["middle_initial"], medicare["last_name"]) == (
        "Maynard", "L", "Mosciski",
    )  # fmt: skip
    assert (medicare["address_line1"], medicare["address_line2"]) == ("534 Kuhn Ridge", "Apt 9")
    assert (medicare["state"], medicare["zip"]) == ("MA", "02118")
    assert patients[P_AETNA]["zip"] == "02120"  # leading zero restored
    assert P_NO_ZIP not in patients

    assert providers[CLINIC]["npi"] == CLINIC_NPI  # Synthea's NPI passes the check: kept
    assert providers[HOSPITAL]["npi"] != "9999999999"  # fails the check digit: derived
    assert providers[f"{HOSPITAL}-F"]["role"] == "facility"
    assert all(is_valid_npi(p["npi"]) for p in providers.values())
    assert all(len(p["zip"]) == 9 for p in providers.values())
    assert all(len(p["tin"]) == 9 for p in providers.values() if p["role"] == "billing")
    doctor = providers[DR_CLINIC]
    assert (doctor["first_name"], doctor["last_name"], doctor["taxonomy_code"]) == (
        "Ted", "Reilly", "208D00000X",
    )  # fmt: skip
    assert providers[DR_HOSPITAL]["city"] == "Boston"  # the organisation's address


def test_diagnoses_are_mapped_to_icd10(converted: Converted) -> None:
    diagnoses: dict[str, list[str]] = {}
    for row in converted.tables["diagnoses"]:
        diagnoses.setdefault(row["encounter_id"], []).append(row["icd10_code"])
    assert diagnoses[ENCOUNTER["awv"]] == ["Z00.00", "I10"]
    assert diagnoses[ENCOUNTER["office"]] == ["E11.9"]
    assert diagnoses[ENCOUNTER["child_well"]] == ["Z00.129"]
    assert diagnoses[ENCOUNTER["ed"]] == ["S06.0X0A", "S01.81XA"]
    assert diagnoses[ENCOUNTER["uninsured"]] == ["J02.9"]
    assert ENCOUNTER["telehealth"] not in diagnoses  # held by the scrubber, visibly
    assert converted.summary.encounters_without_diagnosis == 1
    wound = next(c for c in converted.tables["charges"] if c["procedure_code"] == "12001")
    assert wound["diagnosis_pointer_1"] == "2"  # its reason, the facial laceration


@pytest.mark.parametrize("variant", ["3.0", "2.x"])
def test_older_synthea_formats(variant: str, tmp_path: Path, converted: Converted) -> None:
    result = _convert(tmp_path, variant)
    coverages = result.tables["coverages"]
    medicare = next(
        c for c in coverages if c["patient_id"] == P_MEDICARE and c["coverage_order"] == "1"
        and c["effective_date"] == "2019-01-01"
    )  # fmt: skip
    assert medicare["end_date"] == "2026-12-31"
    if variant == "2.x":  # no MEMBERID, no SECONDARY_PAYER: a derived member id, no secondary
        assert medicare["member_id"].startswith("S") and len(medicare["member_id"]) == 11
        assert all(c["coverage_order"] == "1" for c in coverages)
    else:
        assert medicare["member_id"] == uid("member-1b").upper()
        assert any(c["coverage_order"] == "2" for c in coverages)
    assert result.summary.charge_amount == converted.summary.charge_amount


def test_conversion_is_repeatable(converted: Converted, tmp_path: Path) -> None:
    again = _convert(tmp_path)
    for table in TABLES:
        first = (converted.out / table.file_name).read_bytes()
        assert (again.out / table.file_name).read_bytes() == first, table.name


def test_unreadable_export_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "synthea")
    with pytest.raises(SyntheaFormatError, match="the extract cannot be written into"):
        convert_synthea(sample, sample, as_of=AS_OF)
    text = (sample / "procedures.csv").read_text(encoding="utf-8")
    (sample / "procedures.csv").write_text(text.replace("BASE_COST", "COST"), encoding="utf-8")
    with pytest.raises(SyntheaFormatError, match=r"procedures.csv: missing column\(s\): BASE_COST"):
        convert_synthea(sample, tmp_path / "out", as_of=AS_OF)
    (sample / "procedures.csv").write_text(text, encoding="utf-8")
    (sample / "conditions.csv").unlink()
    with pytest.raises(SyntheaFormatError, match=r"conditions\.csv: not found"):
        convert_synthea(sample, tmp_path / "out", as_of=AS_OF)
    assert not (tmp_path / "out").exists()


def test_crosswalk_targets_are_in_our_code_sets() -> None:
    walk = load_crosswalk()  # raises on a target the scrubber would not accept
    assert walk.procedures and walk.conditions
    procedures, priced = load_procedure_codes(), load_chargemaster()
    icd10 = {c.dotted for c in load_icd10cm_codes().values()}
    assert set(walk.procedures.values()) <= set(procedures) & set(priced)
    assert set(walk.conditions.values()) <= icd10
    assert CROSSWALK_PATH.read_text(encoding="utf-8").startswith(
        "code_type,snomed_code,billing_code,description\n"
    )
    docs = (Path(__file__).resolve().parents[2] / "docs" / "extract-format.md").read_text(
        encoding="utf-8"
    )
    assert f"{len(walk.conditions)} SNOMED conditions" in docs
    assert f"{len(walk.procedures)} SNOMED procedures" in docs


def test_cli_ingest_format_synthea_converts_reports_and_loads(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "synthea")
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "revcycle", "ingest", "--format", "synthea", str(sample),
         "--as-of", AS_OF.isoformat(), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "encounters.csv: 12 -> 7 + 5" in result.stdout
    assert "unexplained difference              $0.00 (0 encounters)" in result.stdout
    assert "7 file(s) loaded (48 rows), 0 already loaded, 0 quarantined" in result.stdout
    converted = data / "extracts" / f"synthea-{AS_OF}"
    assert (converted / REJECTS_FOLDER / "rejects.csv").is_file()
    assert sorted(p.name for p in converted.glob("*.csv")) == sorted(t.file_name for t in TABLES)


# -------------------------------------------------------------------------------------------
# End to end: Synthea -> extract -> warehouse -> dbt -> gate -> 837 files -> pyx12


def test_synthea_export_through_the_pipeline_to_valid_837_files(tmp_path: Path) -> None:
    from revcycle.claims.emit import emit_claim_files
    from revcycle.config import submitter_from_env
    from revcycle.gates.claims_gate import run_claims_gate
    from revcycle.x12.validate import format_report, validate_files
    from tests.cycle_support import dbt_build

    area = WorkArea(tmp_path / "data")
    sample = write_sample(tmp_path / "synthea")
    out = area.extracts / f"synthea-{AS_OF}"
    summary = convert_synthea(sample, out, as_of=AS_OF)
    outcomes = load_extract_dir(out, area.warehouse, area.quarantine)
    assert {o.status for o in outcomes} == {LoadStatus.LOADED}

    built = dbt_build(area, AS_OF)
    assert built.returncode == 0, built.stdout[-6000:]

    with duckdb.connect(str(area.warehouse)) as con:
        status = dict(
            con.execute(
                "select encounter_id, scrub_status from marts.fct_claim_scrub_status"
            ).fetchall()
        )
        held_edits = con.execute(
            """
            select distinct claims.encounter_id, edits.edit_id
            from marts.fct_claim_edits as edits
            inner join marts.fct_claims as claims on edits.claim_id = claims.claim_id
            where edits.severity = 'hold'
            """
        ).fetchall()
        gate = run_claims_gate(con)
        assert gate.success, gate.summary()
        emitted = emit_claim_files(
            con,
            gate.claims,
            gate.lines,
            area.outbox / "837",
            submitter_from_env(),
            datetime.combine(AS_OF, time(9, 0)),
        )

    assert len(status) == summary.encounters_converted
    assert status[ENCOUNTER["uninsured"]] == "self_pay"
    assert (ENCOUNTER["telehealth"], "DIAGNOSIS_MISSING") in held_edits
    ready = {"awv", "office", "child_well", "ed", "hop"}
    assert {k for k in BILLED_VISITS if status[ENCOUNTER[k]] == "ready"} == ready, held_edits
    assert emitted.claim_count == len(ready)
    assert {f.claim_type.value for f in emitted.files} >= {"professional", "institutional"}
    billed = (
        sum(Decimal(v.cost) for v in VISITS if v.key in ready)
        + Decimal("25.00") * 3
        + Decimal("35.25")
        + Decimal("402.15")
        + Decimal("95.00")
    )
    assert emitted.total_charge_amount == billed

    reports = validate_files(f.path for f in emitted.files)
    assert all(r.is_valid for r in reports), "\n".join(
        line for r in reports for line in format_report(r)
    )
    assert sum(len(r.errors) for r in reports) == 0

"""The synthetic extract generator: format, determinism, realism and the injected defects."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from revcycle import codesets
from revcycle.extracts import schema
from revcycle.extracts.generate import (
    BLOCK_ENCOUNTERS,
    CLEAN_WINDOW_DAYS,
    DEFECTS,
    GenerationSummary,
    generate_extract,
)
from revcycle.extracts.npi import is_valid_npi

AS_OF = date(2025, 6, 30)
SEED = 20250630
N_ENCOUNTERS = 3000
DEFECT_RATE = 0.04

# ICD-10-CM as an EMR shows it: letter, digit, letter or digit, then optionally a dot and
# one to four letters or digits.
ICD10_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
MONEY = re.compile(r"^-?[0-9]+\.[0-9]{2}$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
X12_DELIMITERS = set("*~:^|")


@dataclass
class Extract:
    root: Path
    summary: GenerationSummary
    tables: dict[str, pd.DataFrame]
    answer_key: pd.DataFrame

    @property
    def out_dir(self) -> Path:
        return self.root / "extract"

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


def _generate(
    root: Path,
    encounters: int,
    seed: int = SEED,
    rate: float = DEFECT_RATE,
    progress: list[int] | None = None,
) -> Extract:
    summary = generate_extract(
        root / "extract",
        root / "key",
        encounters,
        seed,
        AS_OF,
        rate,
        progress=progress.append if progress is not None else None,
    )
    tables = {
        t.name: pd.read_csv(root / "extract" / t.file_name, dtype=str, keep_default_na=False)
        for t in schema.TABLES
    }
    key = pd.read_csv(root / "key" / "answer_key.csv", dtype=str, keep_default_na=False)
    return Extract(root, summary, tables, key)


@pytest.fixture(scope="module")
def progress_calls() -> list[int]:
    return []


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory, progress_calls: list[int]) -> Extract:
    return _generate(tmp_path_factory.mktemp("run1"), N_ENCOUNTERS, progress=progress_calls)


@pytest.fixture(scope="module")
def seeds() -> dict[str, object]:
    return {
        "procedures": codesets.load_procedure_codes(),
        "icd": codesets.load_icd10cm_codes(),
        "chargemaster": codesets.load_chargemaster(),
        "pos": codesets.load_place_of_service(),
        "modifiers": codesets.load_procedure_modifiers(),
        "revenue": codesets.load_revenue_codes(),
    }


def _sha256_of_files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _days(iso: pd.Series) -> pd.Series:
    return (pd.to_datetime(iso) - pd.Timestamp("1970-01-01")).dt.days


def _keys(extract: Extract, defect: str) -> pd.DataFrame:
    return extract.answer_key[extract.answer_key["defect"] == defect]


def _clean(extract: Extract, table: str) -> pd.DataFrame:
    bad = set(extract.answer_key["encounter_id"])
    frame = extract[table]
    return frame[~frame["encounter_id"].isin(bad)]


def _age_at(birth: pd.Series, on: pd.Series) -> pd.Series:
    b, o = pd.to_datetime(birth), pd.to_datetime(on)
    before = (o.dt.month < b.dt.month) | ((o.dt.month == b.dt.month) & (o.dt.day < b.dt.day))
    return o.dt.year - b.dt.year - before.astype(int)


# -- format ------------------------------------------------------------------------------


def test_every_file_has_the_schema_header_and_plain_lf_utf8(extract: Extract) -> None:
    for table in schema.TABLES:
        raw = (extract.out_dir / table.file_name).read_bytes()
        text = raw.decode("utf-8")
        assert "\r" not in text
        assert text.endswith("\n")
        assert text.split("\n", 1)[0].split(",") == table.column_names
        assert list(extract[table.name].columns) == table.column_names
    key_header = (extract.root / "key" / "answer_key.csv").read_text().split("\n", 1)[0]
    assert key_header.split(",") == list(schema.ANSWER_KEY_COLUMNS)


def test_values_have_the_documented_shapes(extract: Extract) -> None:
    for table in schema.TABLES:
        frame = extract[table.name]
        for column in table.columns:
            values = frame[column.name]
            if column.required:
                assert (values != "").all(), f"{table.name}.{column.name} has empty values"
            filled = values[values != ""]
            if column.type is schema.ColumnType.DATE:
                assert filled.str.match(ISO_DATE).all(), f"{table.name}.{column.name}"
            elif column.type is schema.ColumnType.MONEY:
                assert filled.str.match(MONEY).all(), f"{table.name}.{column.name}"
            elif column.type is schema.ColumnType.INTEGER:
                assert filled.str.fullmatch(r"-?[0-9]+").all(), f"{table.name}.{column.name}"
    assert extract["encounters"]["encounter_id"].str.fullmatch(r"E[0-9]{9}").all()
    assert extract["patients"]["patient_id"].str.fullmatch(r"P[0-9]{8}").all()
    assert extract["charges"]["charge_id"].str.fullmatch(r"CH[0-9]{10}").all()
    assert extract["coverages"]["coverage_id"].str.fullmatch(r"CV[0-9]{8}").all()
    assert extract["providers"]["provider_id"].str.fullmatch(r"PRV[0-9]{5}").all()
    assert extract["providers"]["zip"].str.fullmatch(r"[0-9]{9}").all()
    assert extract["patients"]["zip"].str.fullmatch(r"[0-9]{5}([0-9]{4})?").all()
    phones = extract["patients"]["phone"]
    assert phones[phones != ""].str.fullmatch(r"[0-9]{10}").all()
    for table in ("patients", "encounters", "charges", "coverages", "providers", "payers"):
        key = schema.TABLES_BY_NAME[table].key
        assert not extract[table].duplicated(list(key)).any(), table
    assert not extract["diagnoses"].duplicated(["encounter_id", "diagnosis_sequence"]).any()


def test_no_text_field_holds_an_x12_delimiter(extract: Extract) -> None:
    for name, frame in extract.tables.items():
        for column in frame.columns:
            joined = "".join(frame[column].tolist())
            assert not X12_DELIMITERS & set(joined), f"{name}.{column}"


# -- determinism -------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(extract: Extract, tmp_path: Path) -> None:
    again = _generate(tmp_path, N_ENCOUNTERS)
    assert _sha256_of_files(again.out_dir) == _sha256_of_files(extract.out_dir)
    assert _sha256_of_files(tmp_path / "key") == _sha256_of_files(extract.root / "key")
    assert again.summary == extract.summary


def test_another_seed_gives_other_data(extract: Extract, tmp_path: Path) -> None:
    other = _generate(tmp_path, 200, seed=SEED + 1)
    first = extract["encounters"].head(200).drop(columns="encounter_id")
    assert not first.equals(other["encounters"].drop(columns="encounter_id"))


def test_a_larger_run_starts_with_the_smaller_run(tmp_path: Path) -> None:
    # Each block of encounters has its own random stream, so growing the run only appends.
    small = _generate(tmp_path / "small", BLOCK_ENCOUNTERS, rate=0.1)
    large = _generate(tmp_path / "large", BLOCK_ENCOUNTERS + 300, rate=0.1)
    for table in ("encounters", "charges", "diagnoses", "patients", "coverages"):
        head = large[table].head(len(small[table])).reset_index(drop=True)
        pd.testing.assert_frame_equal(head, small[table])
    in_small = large.answer_key["encounter_id"].isin(small["encounters"]["encounter_id"])
    pd.testing.assert_frame_equal(
        large.answer_key[in_small].reset_index(drop=True), small.answer_key
    )


def test_progress_reports_finished_encounters(extract: Extract, progress_calls: list[int]) -> None:
    assert progress_calls == sorted(progress_calls)
    assert progress_calls[-1] == N_ENCOUNTERS


# -- summary -------------------------------------------------------------------------------


def test_summary_matches_the_files(extract: Extract) -> None:
    s = extract.summary
    assert s.rows_by_table() == {name: len(frame) for name, frame in extract.tables.items()}
    total = sum((Decimal(a) for a in extract["charges"]["charge_amount"]), Decimal("0.00"))
    assert s.total_billed == total
    assert s.defective_encounters == extract.answer_key["encounter_id"].nunique()
    assert s.answer_key_rows == len(extract.answer_key)


# -- code sets -----------------------------------------------------------------------------


def test_every_code_used_exists_in_the_seeds(
    extract: Extract, seeds: dict[str, dict[str, object]]
) -> None:
    charges = extract["charges"]
    assert set(charges["procedure_code"]) <= set(seeds["procedures"])
    mods = pd.concat([charges[f"modifier_{i}"] for i in range(1, 5)])
    assert set(mods[mods != ""]) <= set(seeds["modifiers"])
    revenue = charges["revenue_code"]
    assert set(revenue[revenue != ""]) <= set(seeds["revenue"])
    assert set(extract["encounters"]["place_of_service"]) <= set(seeds["pos"])
    malformed = _keys(extract, "malformed_icd10")["row_key"]
    dx = extract["diagnoses"]
    row_key = dx["encounter_id"] + ":" + dx["diagnosis_sequence"]
    dotted = {c.dotted for c in seeds["icd"].values()}  # type: ignore[attr-defined]
    assert set(dx.loc[~row_key.isin(malformed), "icd10_code"]) <= dotted


def test_seeds_are_consistent() -> None:
    procedures = codesets.load_procedure_codes()
    chargemaster = codesets.load_chargemaster()
    assert set(procedures) == set(chargemaster)
    assert all(item.unit_price > 0 for item in chargemaster.values())
    assert all(re.fullmatch(r"[0-9]{4}", item.revenue_code) for item in chargemaster.values())
    assert set(codesets.load_revenue_codes()) >= {i.revenue_code for i in chargemaster.values()}
    icd = codesets.load_icd10cm_codes()
    assert 150 <= len(icd) <= 300
    for code in icd.values():
        assert code.dotted.replace(".", "") == code.code
        assert ICD10_SHAPE.match(code.dotted)
    # Split codes are not billable: only their children may appear.
    assert {"M54.5", "R05", "R10.2", "M79.1", "N18.3"}.isdisjoint({c.dotted for c in icd.values()})


def test_codes_fit_the_patient_sex_and_age(
    extract: Extract, seeds: dict[str, dict[str, object]]
) -> None:
    enc = extract["encounters"].merge(
        extract["patients"][["patient_id", "sex", "birth_date"]], on="patient_id"
    )
    enc["age"] = _age_at(enc["birth_date"], enc["service_date"])
    lines = extract["charges"].merge(enc[["encounter_id", "sex", "age"]], on="encounter_id")
    procedures = seeds["procedures"]
    for row in lines.itertuples():
        code = procedures[row.procedure_code]  # type: ignore[index]
        if code.sex_restriction:
            assert row.sex == code.sex_restriction, row
        if code.min_age_years is not None:
            assert row.age >= code.min_age_years, row
        if code.max_age_years is not None:
            assert row.age <= code.max_age_years, row
    icd = {c.dotted: c for c in seeds["icd"].values()}  # type: ignore[attr-defined]
    dx = extract["diagnoses"].merge(enc[["encounter_id", "sex"]], on="encounter_id")
    restricted = dx["icd10_code"].map(lambda c: icd[c].sex_restriction if c in icd else None)
    has = restricted.notna()
    assert (dx.loc[has, "sex"] == restricted[has]).all()
    # Preventive visits carry the age band code of the patient's age on the day.
    prev = lines[lines["procedure_code"].str.match(r"993[89][1-7]")]
    assert len(prev) > 50
    pregnant = dx[dx["icd10_code"].str.match(r"(?:O|Z3[34A])")]
    assert (pregnant["sex"] == "F").all()


# -- the injected defects --------------------------------------------------------------------


def test_every_defect_type_is_injected_and_listed(extract: Extract) -> None:
    assert set(extract.answer_key["defect"]) == set(DEFECTS)
    assert sum(extract.summary.defects.values()) == extract.summary.defective_encounters
    share = extract.summary.defective_encounters / N_ENCOUNTERS
    assert 0.025 < share < 0.06
    # One defect per defective encounter, and the key is sorted.
    assert extract.answer_key.groupby("encounter_id")["defect"].nunique().max() == 1
    ordered = extract.answer_key.sort_values(["encounter_id", "defect", "table_name", "row_key"])
    assert ordered.index.tolist() == list(range(len(extract.answer_key)))
    tables = dict(zip(extract.answer_key["defect"], extract.answer_key["table_name"], strict=False))
    assert tables == {
        "invalid_npi": "providers",
        "missing_member_id": "coverages",
        "coverage_not_active": "coverages",
        "bad_diagnosis_pointer": "charges",
        "malformed_icd10": "diagnoses",
        "zero_or_negative_charge": "charges",
        "duplicate_charge_line": "charges",
        "future_date_of_service": "encounters",
        "filing_limit_passed": "encounters",
    }
    assert set(extract.answer_key["encounter_id"]) <= set(extract["encounters"]["encounter_id"])


def test_invalid_npi_rows_really_have_a_bad_check_digit(extract: Extract) -> None:
    keys = _keys(extract, "invalid_npi")
    providers = extract["providers"].set_index("provider_id")
    encounters = extract["encounters"].set_index("encounter_id")
    for row in keys.itertuples():
        assert not is_valid_npi(providers.loc[row.row_key, "npi"])
        enc = encounters.loc[row.encounter_id]
        assert row.row_key in (enc["billing_provider_id"], enc["rendering_provider_id"])
    # A bad provider shared by several encounters is listed once per encounter.
    users = pd.concat(
        [
            extract["encounters"][["encounter_id", "billing_provider_id"]].set_axis(
                ["encounter_id", "provider_id"], axis=1
            ),
            extract["encounters"][["encounter_id", "rendering_provider_id"]].set_axis(
                ["encounter_id", "provider_id"], axis=1
            ),
        ]
    )
    bad = users[users["provider_id"].isin(keys["row_key"])]
    assert set(bad["encounter_id"]) == set(keys["encounter_id"])


def test_every_other_npi_passes_luhn(extract: Extract) -> None:
    bad = set(_keys(extract, "invalid_npi")["row_key"])
    providers = extract["providers"]
    clean = providers[~providers["provider_id"].isin(bad)]
    assert len(clean) >= 30
    assert clean["npi"].map(is_valid_npi).all()
    assert not providers["npi"].duplicated().any()


def test_missing_member_id_rows_have_no_member_id(extract: Extract) -> None:
    keys = _keys(extract, "missing_member_id")
    cov = extract["coverages"].set_index("coverage_id")
    enc = extract["encounters"].set_index("encounter_id")
    assert (cov.loc[keys["row_key"], "member_id"] == "").all()
    assert (
        enc.loc[keys["encounter_id"], "primary_coverage_id"].to_numpy()
        == keys["row_key"].to_numpy()
    ).all()
    # The dedicated row is used by that encounter only.
    assert extract["encounters"]["primary_coverage_id"].isin(keys["row_key"]).sum() == len(keys)


def test_coverage_not_active_rows_do_not_cover_the_service_date(extract: Extract) -> None:
    keys = _keys(extract, "coverage_not_active")
    cov = extract["coverages"].set_index("coverage_id").loc[keys["row_key"]]
    dos = (
        extract["encounters"]
        .set_index("encounter_id")
        .loc[keys["encounter_id"], "service_date"]
        .to_numpy()
    )
    ended = (cov["end_date"] != "").to_numpy() & (cov["end_date"].to_numpy() < dos)
    not_started = cov["effective_date"].to_numpy() > dos
    assert (ended | not_started).all()


def test_bad_pointer_lines_point_nowhere(extract: Extract) -> None:
    keys = _keys(extract, "bad_diagnosis_pointer")
    lines = extract["charges"].set_index("charge_id").loc[keys["row_key"]]
    ndx = extract["diagnoses"].groupby("encounter_id").size()
    for line in lines.itertuples():
        pointers = [getattr(line, f"diagnosis_pointer_{i}") for i in range(1, 5)]
        n = ndx[line.encounter_id]
        assert pointers[0] == "" or any(p != "" and int(p) > n for p in pointers)


def test_malformed_icd10_codes_are_not_icd10_shaped(extract: Extract) -> None:
    keys = _keys(extract, "malformed_icd10")
    dx = extract["diagnoses"]
    dx_key = dx["encounter_id"] + ":" + dx["diagnosis_sequence"]
    bad = dx[dx_key.isin(keys["row_key"])]
    assert len(bad) == len(keys)
    assert not bad["icd10_code"].str.match(ICD10_SHAPE).any()
    assert dx[~dx_key.isin(keys["row_key"])]["icd10_code"].str.match(ICD10_SHAPE).all()


def test_zero_or_negative_charges(extract: Extract) -> None:
    keys = _keys(extract, "zero_or_negative_charge")
    amounts = extract["charges"].set_index("charge_id").loc[keys["row_key"], "charge_amount"]
    assert (amounts.map(Decimal) <= 0).all()
    all_amounts = extract["charges"]["charge_amount"].map(Decimal)
    assert (all_amounts <= 0).sum() == len(keys)


def test_duplicate_lines_repeat_another_line_as_the_last_line(extract: Extract) -> None:
    keys = _keys(extract, "duplicate_charge_line")
    charges = extract["charges"]
    same = [
        "encounter_id",
        "service_date",
        "procedure_code",
        "modifier_1",
        "modifier_2",
        "modifier_3",
        "modifier_4",
        "units",
        "charge_amount",
    ]
    for row in keys.itertuples():
        line = charges[charges["charge_id"] == row.row_key].iloc[0]
        lines = charges[charges["encounter_id"] == row.encounter_id]
        twins = lines[(lines[same] == line[same]).all(axis=1)]
        assert len(twins) == 2
        assert int(line["line_number"]) == lines["line_number"].astype(int).max()
        assert line["charge_id"] == twins["charge_id"].max()


def test_future_and_late_service_dates(extract: Extract) -> None:
    enc = extract["encounters"].set_index("encounter_id")
    future = _keys(extract, "future_date_of_service")
    assert (enc.loc[future["row_key"], "service_date"] > AS_OF.isoformat()).all()
    charges = extract["charges"]
    future_lines = charges[charges["encounter_id"].isin(future["encounter_id"])]
    assert (future_lines["service_date"] > AS_OF.isoformat()).all()

    late = _keys(extract, "filing_limit_passed")
    cov = extract["coverages"].set_index("coverage_id")
    payers = extract["payers"].set_index("payer_id")
    for row in late.itertuples():
        e = enc.loc[row.row_key]
        assert e["primary_coverage_id"] != ""
        payer = payers.loc[cov.loc[e["primary_coverage_id"], "payer_id"]]
        assert payer["payer_type"] != "self_pay"
        limit = AS_OF - timedelta(days=int(payer["timely_filing_days"]))
        assert date.fromisoformat(e["service_date"]) < limit
        # Still covered that day: the only thing wrong is the age of the claim.
        c = cov.loc[e["primary_coverage_id"]]
        assert c["effective_date"] <= e["service_date"]


def test_defect_rate_zero_gives_an_empty_answer_key(tmp_path: Path) -> None:
    run = _generate(tmp_path, 1500, rate=0.0)
    assert len(run.answer_key) == 0
    assert run.summary.defective_encounters == 0
    assert run["providers"]["npi"].map(is_valid_npi).all()
    assert (run["charges"]["charge_amount"].map(Decimal) > 0).all()


# -- clean encounters ----------------------------------------------------------------------


def test_clean_lines_are_priced_from_the_chargemaster(
    extract: Extract, seeds: dict[str, dict[str, object]]
) -> None:
    lines = _clean(extract, "charges").merge(
        extract["encounters"][["encounter_id", "claim_type"]], on="encounter_id"
    )
    cm = seeds["chargemaster"]
    price = lines["procedure_code"].map(lambda c: cm[c].unit_price)  # type: ignore[index]
    expected = price * lines["units"].map(Decimal)
    assert (lines["charge_amount"].map(Decimal) == expected).all()
    assert (lines["charge_amount"].map(Decimal) > 0).all()
    inst = lines["claim_type"] == "institutional"
    revenue = lines["procedure_code"].map(lambda c: cm[c].revenue_code)  # type: ignore[index]
    assert (lines.loc[inst, "revenue_code"] == revenue[inst]).all()
    assert (lines.loc[~inst, "revenue_code"] == "").all()


def test_clean_encounters_have_valid_lines_and_pointers(extract: Extract) -> None:
    lines = _clean(extract, "charges")
    dx = _clean(extract, "diagnoses")
    ndx = dx.groupby("encounter_id").size()
    nlines = lines.groupby("encounter_id").size()
    assert nlines.between(1, 6).all()
    assert ndx.between(1, 12).all()
    # Line numbers and diagnosis sequences run 1..n.
    for frame, column, sizes in ((lines, "line_number", nlines), (dx, "diagnosis_sequence", ndx)):
        numbers = frame.groupby("encounter_id")[column].apply(lambda s: sorted(map(int, s)))
        assert all(v == list(range(1, sizes[k] + 1)) for k, v in numbers.items())
    assert (lines["diagnosis_pointer_1"] != "").all()
    limit = lines["encounter_id"].map(ndx)
    for i in range(1, 5):
        p = lines[f"diagnosis_pointer_{i}"]
        filled = p != ""
        assert (p[filled].astype(int) <= limit[filled]).all()
        assert (p[filled].astype(int) >= 1).all()
    same = ["encounter_id", "procedure_code", "modifier_1", "modifier_2", "units"]
    assert not lines.duplicated(same).any()


def test_clean_encounters_are_dated_billable_and_covered(extract: Extract) -> None:
    enc = _clean(extract, "encounters")
    first_day = (AS_OF - timedelta(days=CLEAN_WINDOW_DAYS)).isoformat()
    last_day = (AS_OF - timedelta(days=1)).isoformat()
    assert enc["service_date"].between(first_day, last_day).all()
    lines = _clean(extract, "charges").merge(
        enc[["encounter_id", "service_date"]], on="encounter_id", suffixes=("", "_enc")
    )
    assert (lines["service_date"] == lines["service_date_enc"]).all()

    npi = extract["providers"].set_index("provider_id")["npi"]
    for column in ("billing_provider_id", "rendering_provider_id"):
        assert enc[column].map(npi).map(is_valid_npi).all()

    cov = extract["coverages"].set_index("coverage_id")
    payers = extract["payers"].set_index("payer_id")
    for column in ("primary_coverage_id", "secondary_coverage_id"):
        used = enc[enc[column] != ""]
        c = cov.loc[used[column]]
        dos = used["service_date"].to_numpy()
        assert (c["effective_date"].to_numpy() <= dos).all()
        assert ((c["end_date"] == "") | (c["end_date"] > AS_OF.isoformat())).all()
        assert (c["member_id"] != "").all()
        assert (c["patient_id"].to_numpy() == used["patient_id"].to_numpy()).all()
        tfd = c["payer_id"].map(payers["timely_filing_days"]).astype(int)
        assert (tfd >= 180).all()
    assert (payers["timely_filing_days"].astype(int) >= 180).all()


# -- relationships and realism -----------------------------------------------------------


def test_references_resolve_to_the_right_kind_of_row(extract: Extract) -> None:
    enc, pat = extract["encounters"], extract["patients"]
    providers = extract["providers"].set_index("provider_id")
    assert enc["patient_id"].isin(pat["patient_id"]).all()
    assert (enc["billing_provider_id"].map(providers["role"]) == "billing").all()
    assert (enc["rendering_provider_id"].map(providers["role"]) == "rendering").all()
    fac = enc[enc["facility_provider_id"] != ""]
    assert (fac["facility_provider_id"].map(providers["role"]) == "facility").all()
    billing = providers[providers["role"] == "billing"]
    assert billing["tin"].str.fullmatch(r"[0-9]{9}").all()
    assert not billing["address_line1"].str.contains(r"(?i)\bP\.?\s*O\.?\s*Box").any()
    assert set(providers["entity_type"]) == {"1", "2"}
    assert (providers.loc[providers["role"] == "rendering", "entity_type"] == "1").all()

    inst = enc["claim_type"] == "institutional"
    assert (enc.loc[inst, "type_of_bill"] == "0131").all()
    assert (enc.loc[inst, "facility_provider_id"] != "").all()
    assert (enc.loc[~inst, "type_of_bill"] == "").all()
    assert set(enc.loc[inst, "visit_type"]) == {"emergency", "hospital_outpatient"}
    assert set(enc.loc[enc["visit_type"] == "telehealth", "place_of_service"]) <= {"02", "10"}
    assert set(enc.loc[enc["visit_type"] == "urgent_care", "place_of_service"]) == {"20"}
    assert set(enc.loc[enc["visit_type"] == "emergency", "place_of_service"]) == {"23"}
    assert set(enc["visit_type"]) == {
        "office_new",
        "office_established",
        "preventive",
        "telehealth",
        "urgent_care",
        "procedure",
        "emergency",
        "hospital_outpatient",
    }
    charges = extract["charges"]
    inst_lines = charges[charges["encounter_id"].isin(enc.loc[inst, "encounter_id"])]
    assert (inst_lines["revenue_code"].str.fullmatch(r"[0-9]{4}")).all()


def test_coverage_subscribers_and_dependents(extract: Extract) -> None:
    cov, pat, enc = extract["coverages"], extract["patients"], extract["encounters"]
    assert cov["patient_id"].isin(pat["patient_id"]).all()
    assert cov["subscriber_id"].isin(pat["patient_id"]).all()
    assert set(cov["relationship_to_subscriber"]) == {"18", "19", "01"}
    self_rows = cov["relationship_to_subscriber"] == "18"
    assert (cov.loc[self_rows, "subscriber_id"] == cov.loc[self_rows, "patient_id"]).all()
    deps = cov[~self_rows & (cov["member_id"] != "")]
    assert len(deps) > 50
    assert (deps["subscriber_id"] != deps["patient_id"]).all()
    # A dependent carries the subscriber's card: the subscriber's own row has that member id.
    own = cov[self_rows].set_index(["patient_id", "payer_id", "member_id"]).index
    assert (
        pd.MultiIndex.from_frame(deps[["subscriber_id", "payer_id", "member_id"]]).isin(own).all()
    )
    # Subscribers are also patients; children are dependents of an adult.
    births = pat.set_index("patient_id")["birth_date"]
    child = deps[deps["relationship_to_subscriber"] == "19"]
    assert (child["subscriber_id"].map(births) < child["patient_id"].map(births)).all()
    # Secondary coverage is order 2 of the same patient; self-pay visits bill nobody.
    sec = enc[enc["secondary_coverage_id"] != ""]
    c = cov.set_index("coverage_id")
    assert (c.loc[sec["secondary_coverage_id"], "coverage_order"] == "2").all()
    assert (
        c.loc[sec["secondary_coverage_id"], "patient_id"].to_numpy() == sec["patient_id"].to_numpy()
    ).all()
    assert (enc.loc[enc["primary_coverage_id"] == "", "secondary_coverage_id"] == "").all()


def test_modifiers_follow_the_visit(extract: Extract) -> None:
    lines = _clean(extract, "charges").merge(
        extract["encounters"][["encounter_id", "visit_type"]], on="encounter_id"
    )
    mods = lines[["modifier_1", "modifier_2"]].agg(" ".join, axis=1)
    em = lines["procedure_code"].str.fullmatch(r"992(?:0[2-5]|1[1-5]|8[1-5])|G0463")
    # A minor procedure (CPT surgery section) or an injection the same day puts 25 on the
    # visit E/M.
    surgery = lines["procedure_code"].str.fullmatch(r"[1-6][0-9]{4}") & (
        lines["procedure_code"] != "36415"
    )  # a blood draw is not a procedure for this
    injection = lines["procedure_code"].isin(["96372", "96374", "96360", "96365", "94640"])
    busy = set(lines.loc[surgery | injection, "encounter_id"])
    first_em = em & (lines["line_number"] == "1")
    with_procedure = first_em & lines["encounter_id"].isin(busy)
    assert with_procedure.sum() > 100
    assert mods[with_procedure].str.contains("25").all()
    assert not mods[first_em & ~lines["encounter_id"].isin(busy)].str.contains("25").any()
    tele = em & (lines["visit_type"] == "telehealth")
    assert mods[tele].str.strip().isin(["95", "93"]).all()
    side = mods.str.contains(r"\b(?:RT|LT)\b")
    assert lines.loc[side, "procedure_code"].str.fullmatch(r"[2-7][0-9]{4}|69210|69209").all()
    waived = lines["procedure_code"].isin(["87880", "87804", "87811"]) & (
        lines["visit_type"] != "emergency"
    )
    assert mods[waived].str.contains("QW").all()


def test_the_mix_looks_like_a_practice(extract: Extract) -> None:
    enc, cov, pay = extract["encounters"], extract["coverages"], extract["payers"]
    payer_of = cov.set_index("coverage_id")["payer_id"]
    payer_type = pay.set_index("payer_id")["payer_type"]
    types = enc["primary_coverage_id"].map(payer_of).map(payer_type).fillna("self_pay")
    share = types.value_counts(normalize=True)
    assert 0.24 < share["medicare"] < 0.36
    assert 0.12 < share["medicaid"] < 0.24
    assert 0.38 < share["commercial"] < 0.52
    assert 0.03 < share["self_pay"] < 0.11
    assert len(set(cov["payer_id"])) >= 7
    institutional = (enc["claim_type"] == "institutional").mean()
    assert 0.10 < institutional < 0.17
    assert 0.06 < (enc["secondary_coverage_id"] != "").mean() < 0.16
    assert 0.35 < enc["patient_id"].nunique() / len(enc) < 0.45
    lines = extract["charges"].groupby("encounter_id").size()
    assert 2.0 < lines.mean() < 3.0
    dx = extract["diagnoses"].groupby("encounter_id").size()
    assert 1.7 < dx.mean() < 2.6
    ages = _age_at(
        enc["patient_id"].map(extract["patients"].set_index("patient_id")["birth_date"]),
        enc["service_date"],
    )
    assert ages.between(0, 95).all()
    assert 0.12 < (ages < 18).mean() < 0.3
    mods = pd.concat([extract["charges"][f"modifier_{i}"] for i in (1, 2)])
    assert {"25", "95", "RT", "LT", "QW"} <= set(mods)
    office_days = pd.to_datetime(
        enc.loc[
            enc["visit_type"].isin(["office_new", "office_established", "preventive"]),
            "service_date",
        ]
    )
    assert (office_days.dt.weekday < 5).mean() > 0.97


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="encounters"):
        generate_extract(tmp_path, tmp_path, -1, 1, AS_OF)
    with pytest.raises(ValueError, match="defect_rate"):
        generate_extract(tmp_path, tmp_path, 10, 1, AS_OF, defect_rate=1.5)


def test_zero_encounters_writes_headers_and_reference_tables(tmp_path: Path) -> None:
    run = _generate(tmp_path, 0)
    assert len(run["encounters"]) == 0
    assert len(run["payers"]) > 0
    assert len(run["providers"]) > 0
    with (tmp_path / "extract" / "charges.csv").open(newline="") as fh:
        assert next(csv.reader(fh)) == schema.CHARGES.column_names

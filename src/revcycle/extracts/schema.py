"""The native EMR extract format: one CSV file per table.

This module is the single source of truth for the format. The generator writes these columns
in this order, the loader checks files against them, and ``docs/extract-format.md`` describes
them (a test keeps the document and this module in step).

Conventions shared by every table:
- UTF-8, comma separated, one header row, RFC 4180 quoting, LF line ends.
- Dates are ISO ``YYYY-MM-DD``; money is a plain decimal with two places (``125.00``).
- Codes are text and keep their leading zeros (ZIP, NPI, POS, revenue code, payer id).
- An empty field means "no value".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    """Logical column types and the DuckDB type each is loaded as into ``raw``."""

    TEXT = "VARCHAR"
    DATE = "DATE"
    INTEGER = "INTEGER"
    MONEY = "DECIMAL(18,2)"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, type_: ColumnType, required: bool, description: str) -> Column:
    return Column(name, type_, required, description)


T, D, N, M = ColumnType.TEXT, ColumnType.DATE, ColumnType.INTEGER, ColumnType.MONEY

PATIENTS = Table(
    "patients",
    "Every person the practice knows: patients and the subscribers whose plans cover them.",
    ("patient_id",),
    (
        _c("patient_id", T, True, "Stable EMR person id"),
        _c("mrn", T, True, "Medical record number"),
        _c("last_name", T, True, "Family name"),
        _c("first_name", T, True, "Given name"),
        _c("middle_initial", T, False, "Middle initial"),
        _c("sex", T, True, "Administrative sex: M, F or U"),
        _c("birth_date", D, True, "Date of birth"),
        _c("address_line1", T, True, "Street address"),
        _c("address_line2", T, False, "Apartment, suite"),
        _c("city", T, True, "City"),
        _c("state", T, True, "Two-letter state code"),
        _c("zip", T, True, "ZIP code, 5 or 9 digits, no dash"),
        _c("phone", T, False, "Phone, 10 digits"),
    ),
)

PAYERS = Table(
    "payers",
    "Insurance payers and the self-pay pseudo-payer.",
    ("payer_id",),
    (
        _c("payer_id", T, True, "Payer id as the clearinghouse knows it (X12 NM109 of NM1*PR)"),
        _c("payer_name", T, True, "Payer name"),
        _c("payer_type", T, True, "medicare, medicaid, commercial or self_pay"),
        _c(
            "claim_filing_indicator",
            T,
            True,
            "X12 SBR09 code: MB Medicare Part B, MA Part A, MC Medicaid, CI commercial, "
            "BL Blue Cross, HM HMO, 09 self-pay",
        ),
        _c("timely_filing_days", N, True, "Days after the date of service a claim is accepted"),
        _c("fee_schedule_id", T, True, "Contracted fee schedule the payer pays from"),
        _c(
            "allowed_percent_of_charge",
            M,
            True,
            "Percent of billed charge the fee schedule allows (e.g. 62.50), used by the "
            "simulated payers",
        ),
        _c("address_line1", T, False, "Claims mailing address"),
        _c("city", T, False, "City"),
        _c("state", T, False, "State"),
        _c("zip", T, False, "ZIP, 5 or 9 digits"),
    ),
)

COVERAGES = Table(
    "coverages",
    "Insurance coverage of a patient: one row per patient per plan.",
    ("coverage_id",),
    (
        _c("coverage_id", T, True, "Stable coverage id"),
        _c("patient_id", T, True, "The covered person (patients.patient_id)"),
        _c("payer_id", T, True, "payers.payer_id"),
        _c("plan_name", T, True, "Plan or product name"),
        _c("member_id", T, False, "Subscriber's member id from the insurance card"),
        _c("group_number", T, False, "Employer group number"),
        _c(
            "subscriber_id",
            T,
            True,
            "The subscriber (patients.patient_id); the patient itself when self",
        ),
        _c(
            "relationship_to_subscriber",
            T,
            True,
            "X12 individual relationship code: 18 self, 01 spouse, 19 child, G8 other",
        ),
        _c("effective_date", D, True, "First day of coverage"),
        _c("end_date", D, False, "Last day of coverage; empty while active"),
        _c("coverage_order", N, True, "1 primary, 2 secondary, 3 tertiary"),
    ),
)

PROVIDERS = Table(
    "providers",
    "Billing organisations, rendering clinicians and facilities.",
    ("provider_id",),
    (
        _c("provider_id", T, True, "Stable EMR provider id"),
        _c("role", T, True, "billing, rendering or facility"),
        _c("entity_type", T, True, "X12 entity type: 1 person, 2 organisation"),
        _c("npi", T, True, "National Provider Identifier, 10 digits with a Luhn check digit"),
        _c("organization_name", T, False, "Organisation name (entity type 2)"),
        _c("last_name", T, False, "Family name (entity type 1)"),
        _c("first_name", T, False, "Given name (entity type 1)"),
        _c("taxonomy_code", T, True, "NUCC provider taxonomy code (10 characters)"),
        _c("tin", T, False, "Federal tax id (EIN), 9 digits; required for billing providers"),
        _c("address_line1", T, True, "Street address (no PO box for billing providers)"),
        _c("city", T, True, "City"),
        _c("state", T, True, "State"),
        _c("zip", T, True, "ZIP+4 as 9 digits, no dash"),
    ),
)

ENCOUNTERS = Table(
    "encounters",
    "Visits: one row per encounter, which becomes one claim per responsible payer.",
    ("encounter_id",),
    (
        _c("encounter_id", T, True, "Stable EMR encounter id"),
        _c("patient_id", T, True, "patients.patient_id"),
        _c("service_date", D, True, "Date of service"),
        _c(
            "visit_type",
            T,
            True,
            "office_new, office_established, preventive, telehealth, "
            "urgent_care, procedure, emergency, hospital_outpatient",
        ),
        _c("claim_type", T, True, "professional (837P) or institutional (837I)"),
        _c("place_of_service", T, True, "CMS place-of-service code, 2 digits"),
        _c(
            "type_of_bill", T, False, "UB-04 type of bill, 4 digits (institutional only), e.g. 0131"
        ),
        _c("billing_provider_id", T, True, "providers.provider_id of the billing organisation"),
        _c("rendering_provider_id", T, True, "providers.provider_id of the clinician"),
        _c(
            "facility_provider_id",
            T,
            False,
            "providers.provider_id of the facility (institutional)",
        ),
        _c(
            "primary_coverage_id",
            T,
            False,
            "coverages.coverage_id registered as primary; empty for self-pay",
        ),
        _c("secondary_coverage_id", T, False, "coverages.coverage_id registered as secondary"),
    ),
)

CHARGES = Table(
    "charges",
    "Charge lines posted to an encounter, priced from the chargemaster.",
    ("charge_id",),
    (
        _c("charge_id", T, True, "Stable charge line id"),
        _c("encounter_id", T, True, "encounters.encounter_id"),
        _c("line_number", N, True, "Line order within the encounter, from 1"),
        _c("service_date", D, True, "Date the service was performed"),
        _c("procedure_code", T, True, "CPT or HCPCS Level II code, 5 characters"),
        _c("modifier_1", T, False, "Procedure modifier, 2 characters"),
        _c("modifier_2", T, False, "Procedure modifier"),
        _c("modifier_3", T, False, "Procedure modifier"),
        _c("modifier_4", T, False, "Procedure modifier"),
        _c("units", N, True, "Units of service"),
        _c("charge_amount", M, True, "Billed amount for the line (units x chargemaster price)"),
        _c("revenue_code", T, False, "UB-04 revenue code, 4 digits (institutional lines)"),
        _c("diagnosis_pointer_1", N, False, "Points at diagnoses.diagnosis_sequence (1-12)"),
        _c("diagnosis_pointer_2", N, False, "Second diagnosis pointer"),
        _c("diagnosis_pointer_3", N, False, "Third diagnosis pointer"),
        _c("diagnosis_pointer_4", N, False, "Fourth diagnosis pointer"),
    ),
)

DIAGNOSES = Table(
    "diagnoses",
    "Diagnoses coded on an encounter, in claim order.",
    ("encounter_id", "diagnosis_sequence"),
    (
        _c("encounter_id", T, True, "encounters.encounter_id"),
        _c("diagnosis_sequence", N, True, "Order on the claim, 1 = principal, up to 12"),
        _c("icd10_code", T, True, "ICD-10-CM code as the EMR shows it, with the dot (E11.9)"),
    ),
)

TABLES: tuple[Table, ...] = (PATIENTS, PAYERS, COVERAGES, PROVIDERS, ENCOUNTERS, CHARGES, DIAGNOSES)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

# The generator's answer key (not part of the extract, written to a separate folder).
ANSWER_KEY_COLUMNS: tuple[str, ...] = ("defect", "table_name", "row_key", "encounter_id")

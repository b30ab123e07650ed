"""Synthetic EMR extract generator: realistic visits with a known set of injected defects.

What it writes
--------------
One CSV per table of :mod:`revcycle.extracts.schema` (the native extract format, described
in ``docs/extract-format.md``) and, in a separate folder, ``answer_key.csv``: one row per
(defect, affected encounter), so a claim scrubber can be scored against the truth.

Design
------
* **Determinism.** Everything random comes from numpy ``default_rng`` streams derived from
  ``seed`` with :class:`numpy.random.SeedSequence` spawn keys: one stream for the reference
  data (providers) and one per block of :data:`BLOCK_ENCOUNTERS` encounters. Ids are
  sequential counters carried from block to block. Nothing reads the clock; ``as_of`` (the
  extract date) anchors every date. Same arguments, byte-identical files. Because a block's
  stream depends only on the seed and the block number, the first blocks of a large run are
  the same rows as a smaller run with the same seed.
* **Flat memory.** A block is generated with vectorised numpy/pandas code, appended to the
  open CSV files and dropped. Only the providers (written last, see below) and the answer
  key live for the whole run; both are small.
* **Clinical realism by scenario.** Every encounter gets a *setting* (office, preventive,
  telehealth, urgent care, procedure, professional or facility ED, hospital outpatient),
  then a *scenario* drawn among those that fit the setting and the patient's age, sex and
  payer (hypertension follow-up, sore throat, knee pain on one side, prenatal visit...). The
  scenario supplies the principal diagnosis, a pool of secondary diagnoses and optional
  add-on services (tests, imaging, injections, vaccines, minor procedures) with their
  companions (venipuncture, injection and vaccine administration), modifiers (25, 95, QW,
  RT/LT, XS/59, 50) and diagnosis pointers. Prices and revenue codes come from the
  chargemaster seed; code validity and age/sex limits from the code-set seeds, which act as
  a last filter, so a clean extract never contradicts the shipped code sets.
* **Payers and coverage.** Payer type follows age (Medicare mostly 65+, more Medicaid for
  children). Children and some spouses are dependents: their subscriber is another row of
  ``patients`` with its own self coverage, and the dependent's coverage carries the
  subscriber's member id. About a tenth of insured patients have a secondary coverage
  (Medicare + Medicaid dual, Medicare + supplement, a spouse's or second parent's plan).

Defects
-------
About ``defect_rate`` of encounters carry exactly one defect; clean encounters carry none.
The defect is chosen uniformly from :data:`DEFECTS` (payer defects are only put on insured
encounters; others are redrawn among the payer-free defects):

``invalid_npi``
    The rendering (or billing) provider is a dedicated extra provider row whose NPI has a
    wrong Luhn check digit. Such rows are shared by several defective encounters; the
    answer key lists each encounter (row_key = provider_id). Only used rows are written.
``missing_member_id`` / ``coverage_not_active``
    The encounter's primary coverage is a dedicated copy of the patient's coverage with an
    empty member id, or with an end date before (or effective date after) the service date
    (row_key = coverage_id). The patient's other encounters keep the clean coverage.
``bad_diagnosis_pointer``
    One charge line has no pointers or a pointer past the last diagnosis (row_key =
    charge_id).
``malformed_icd10``
    One diagnosis is not ICD-10 shaped, e.g. ``E11..9`` (row_key =
    ``<encounter_id>:<sequence>``).
``zero_or_negative_charge``
    One line is billed at 0.00 or a negative amount (row_key = charge_id).
``duplicate_charge_line``
    One line is repeated with a new charge id as the next line number (row_key = the new
    charge_id).
``future_date_of_service``
    The encounter and its lines are dated after ``as_of`` (row_key = encounter_id).
``filing_limit_passed``
    The service date is older than ``as_of`` minus the primary payer's timely filing days
    (row_key = encounter_id).

Clean encounters are dated within :data:`CLEAN_WINDOW_DAYS` before ``as_of``, every payer
accepts claims for at least 180 days, and coverage starts at least two years before
``as_of`` and ends (if at all) well after it, so none of the defects above occurs by
accident.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from revcycle import codesets
from revcycle.extracts import schema
from revcycle.extracts.npi import luhn_check_digit

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
StrArray: TypeAlias = npt.NDArray[Any]  # numpy StringDType arrays

STR = np.dtypes.StringDType()

BLOCK_ENCOUNTERS = 5_000
"""Encounters per random stream. Part of the output contract: changing it changes the data."""

PATIENTS_PER_ENCOUNTER = 0.4
CLEAN_WINDOW_DAYS = 150
MAX_LINES = 6
MAX_VACCINES = 4
NO_DATE = -(10**9)  # sentinel for an empty date (days since 1970-01-01 can be negative)

DEFECTS: tuple[str, ...] = (
    "invalid_npi",
    "missing_member_id",
    "coverage_not_active",
    "bad_diagnosis_pointer",
    "malformed_icd10",
    "zero_or_negative_charge",
    "duplicate_charge_line",
    "future_date_of_service",
    "filing_limit_passed",
)
(
    D_INVALID_NPI,
    D_MISSING_MEMBER_ID,
    D_COVERAGE_NOT_ACTIVE,
    D_BAD_POINTER,
    D_MALFORMED_ICD,
    D_ZERO_CHARGE,
    D_DUPLICATE_LINE,
    D_FUTURE_DOS,
    D_FILING_LIMIT,
) = range(len(DEFECTS))
PAYER_DEFECTS = (D_MISSING_MEMBER_ID, D_COVERAGE_NOT_ACTIVE, D_FILING_LIMIT)
PAYER_FREE_DEFECTS = np.array(
    [d for d in range(len(DEFECTS)) if d not in PAYER_DEFECTS], dtype=np.int64
)

# The tables below are laid out by hand as tables; the formatter would put every value on
# its own line.
# fmt: off
# Not ICD-10 shaped on purpose: doubled dot, digits only, ICD-9, trailing dot, dash, comma,
# dot after the first digit. (Codes like "Z0O.00" are avoided: a letter in the third place
# is legal ICD-10 shape, e.g. M1A or Z3A.)
MALFORMED_ICD10: tuple[str, ...] = (
    "E11..9", "1234", "250.00", "J06.9.", "Z00-00", "E1.19", "I10.", "K21,9",
)

# ---------------------------------------------------------------------------------------
# Reference data: payers, people, places
# ---------------------------------------------------------------------------------------

MEDICARE, MEDICAID, COMMERCIAL, SELF_PAY = range(4)
PAYER_TYPE_NAMES = ("medicare", "medicaid", "commercial", "self_pay")


@dataclass(frozen=True)
class Payer:
    payer_id: str
    payer_name: str
    payer_type: int
    claim_filing_indicator: str
    timely_filing_days: int
    fee_schedule_id: str
    allowed_percent_of_charge: str
    address_line1: str
    city: str
    state: str
    zip: str
    plans: tuple[str, ...]
    member_id_format: str  # "mbi", "cin", or a prefix followed by "#" per digit
    weight: float  # share within its payer type
    group_prefix: str = ""  # commercial plans carry employer group numbers


# Payer ids are shaped like real clearinghouse payer ids; names and addresses are made up.
PAYERS: tuple[Payer, ...] = (
    Payer("04412", "Medicare Part B", MEDICARE, "MB", 365, "MPFS", "38.50",
          "PO Box 6702", "Fargo", "ND", "581086702", ("Medicare Part B",), "mbi", 1.0),
    Payer("SKCA0", "State Medicaid Fee-for-Service", MEDICAID, "MC", 365, "MCD-FFS", "31.00",
          "PO Box 15300", "Sacramento", "CA", "958515300", ("Medicaid Fee-for-Service",),
          "cin", 0.4),
    Payer("68069", "Golden Valley Community Health Plan", MEDICAID, "MC", 180, "MCD-MCO",
          "33.00", "PO Box 2420", "Stockton", "CA", "952012420",
          ("Medicaid Managed Care",), "cin", 0.6),
    Payer("60054", "Keystone Health Plans", COMMERCIAL, "CI", 180, "COM-KHP", "62.50",
          "PO Box 981106", "El Paso", "TX", "799981106",
          ("Open Access Choice POS", "Managed Choice PPO", "Select HMO"), "W#########",
          0.25, "0"),
    Payer("87726", "Unity National Health", COMMERCIAL, "CI", 365, "COM-UNH", "58.00",
          "PO Box 30555", "Salt Lake City", "UT", "841300555",
          ("Choice Plus PPO", "Navigate HMO", "Core Essential EPO"), "#########", 0.25, "9"),
    Payer("62308", "Northstar Health Insurance", COMMERCIAL, "CI", 180, "COM-NHI", "60.00",
          "PO Box 188061", "Chattanooga", "TN", "374228061",
          ("Open Access Plus", "LocalPlus Network", "Connect HMO"), "U########", 0.15, "3"),
    Payer("SB580", "Pacific Crest Blue Plan", COMMERCIAL, "BL", 365, "COM-PCB", "64.00",
          "PO Box 272540", "Chico", "CA", "959272540",
          ("Blue Access PPO", "Trio HMO", "Bronze PPO 7000"), "XEA#########", 0.20, "W"),
    Payer("61101", "Harborview Health HMO", COMMERCIAL, "HM", 180, "COM-HHH", "55.00",
          "PO Box 14601", "Lexington", "KY", "405124601",
          ("Harborview Gold HMO", "Harborview Silver HMO"), "H########", 0.15, "K"),
    Payer("SELFPAY", "Self Pay", SELF_PAY, "09", 3650, "SELF", "100.00",
          "", "", "", "", (), "", 1.0),
)
PAYER_INDEX = {p.payer_id: i for i, p in enumerate(PAYERS)}
SUPPLEMENT_PLANS = ("Medicare Supplement Plan G", "Medicare Supplement Plan N")
SUPPLEMENT_PAYERS = (PAYER_INDEX["87726"], PAYER_INDEX["SB580"])

# Payer-type mix by age band at the extract date: child (<19), adult (19-64), 65+.
PAYER_TYPE_MIX = {
    "child": (0.0, 0.45, 0.47, 0.08),
    "adult": (0.05, 0.15, 0.70, 0.10),
    "senior": (0.88, 0.02, 0.08, 0.02),
}

FIRST_NAMES_F = (
    "Ava", "Olivia", "Emma", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn",
    "Abigail", "Emily", "Ella", "Elizabeth", "Camila", "Luna", "Sofia", "Avery", "Mila",
    "Aria", "Scarlett", "Penelope", "Layla", "Chloe", "Victoria", "Madison", "Eleanor",
    "Grace", "Nora", "Riley", "Zoey", "Hannah", "Hazel", "Lily", "Ellie", "Violet",
    "Lillian", "Zoe", "Stella", "Aurora", "Natalie", "Leah", "Aubrey", "Willow", "Lucy",
    "Audrey", "Claire", "Naomi", "Elena", "Caroline", "Maria", "Linda", "Patricia",
    "Barbara", "Susan", "Margaret", "Dorothy", "Ruth", "Carol", "Joan", "Gloria", "Rosa",
    "Mei", "Priya", "Aisha", "Fatima", "Yesenia", "Guadalupe", "Lan", "Anh", "Ingrid",
)
FIRST_NAMES_M = (
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry",
    "Theodore", "Jack", "Levi", "Alexander", "Jackson", "Mateo", "Daniel", "Michael",
    "Mason", "Sebastian", "Ethan", "Logan", "Owen", "Samuel", "Jacob", "Asher", "Aiden",
    "John", "Joseph", "Wyatt", "David", "Leo", "Luke", "Julian", "Hudson", "Grayson",
    "Matthew", "Ezra", "Gabriel", "Carter", "Isaac", "Jayden", "Anthony", "Dylan",
    "Thomas", "Elias", "Josiah", "Charles", "Caleb", "Christopher", "Miles", "Isaiah",
    "Andrew", "Joshua", "Nathan", "Robert", "Richard", "Donald", "George", "Kenneth",
    "Ronald", "Gary", "Larry", "Frank", "Raymond", "Jose", "Juan", "Carlos", "Wei",
    "Arjun", "Omar", "Hiroshi", "Minh", "Tomas", "Emeka",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
    "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards",
    "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
    "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
    "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
    "Wood", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins",
    "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Hamilton", "Graham",
    "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant",
    "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford",
    "Castro", "Marshall", "Owens", "Fernandez", "Woods", "Kennedy", "Wells", "Vargas",
    "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Porter",
    "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Dixon", "Munoz", "Hicks",
    "Holmes", "Palmer", "Wagner", "Robertson", "Boyd", "Stone", "Salazar", "Warren",
    "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols",
    "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Spencer", "Hawkins",
    "Pierce", "Hansen", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Duncan",
    "Armstrong", "Carroll", "Lane", "Riley", "Andrews", "Alvarado", "Delgado", "Berry",
    "Hoffman", "Johnston", "Pena", "Contreras", "Willis", "Sandoval", "O'Connell",
    "Nakamura", "Okafor", "Haddad", "Kowalski", "Lindqvist", "Van Dyke", "Lopez-Rivera",
)
MIDDLE_INITIALS = tuple("ABCDEFGHJKLMNPRSTW")
STREET_NAMES = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Walnut", "Willow", "Birch", "Sycamore",
    "Magnolia", "Laurel", "Juniper", "Poplar", "Aspen", "Hawthorn", "Chestnut", "Redwood",
    "Sequoia", "Manzanita", "Madrone", "River", "Lake", "Hillcrest", "Meadow", "Valley",
    "Sunset", "Sunrise", "Park", "Highland", "Garden", "Orchard", "Vineyard", "Harvest",
    "Mission", "Sierra", "Foothill", "Canyon", "Ridge", "Creekside", "Stonegate",
    "Brookside", "Fairway", "Lincoln", "Washington", "Jefferson", "Madison", "Franklin",
    "Monroe", "Church", "Main", "Mill", "Spring", "Railroad", "Depot", "College", "Quail",
    "Heron", "Egret", "Kingfisher", "Tule", "Levee", "Almond", "Olive", "Plum",
)
STREET_SUFFIXES = ("St", "Ave", "Blvd", "Dr", "Ln", "Ct", "Way", "Rd", "Pl", "Cir")
UNIT_PREFIXES = ("Apt", "Apt", "Apt", "Unit", "Spc")
# (city, state, ZIP codes, weight): a Sacramento-area practice with a few out-of-area
# patients. ZIP codes are real so address checks behave; streets and people are invented.
CITIES: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("Sacramento", "CA", ("95811", "95814", "95815", "95816", "95817", "95818", "95819",
                          "95820", "95821", "95822", "95823", "95824", "95825", "95826",
                          "95827", "95828", "95829", "95831", "95832", "95833", "95834",
                          "95835", "95838", "95841", "95842", "95864"), 0.38),
    ("Elk Grove", "CA", ("95624", "95757", "95758"), 0.09),
    ("Roseville", "CA", ("95661", "95678", "95747"), 0.07),
    ("Folsom", "CA", ("95630",), 0.04),
    ("Davis", "CA", ("95616", "95618"), 0.04),
    ("Citrus Heights", "CA", ("95610", "95621"), 0.04),
    ("Rancho Cordova", "CA", ("95670", "95742"), 0.04),
    ("Woodland", "CA", ("95695", "95776"), 0.03),
    ("Carmichael", "CA", ("95608",), 0.03),
    ("Fair Oaks", "CA", ("95628",), 0.02),
    ("Rocklin", "CA", ("95677", "95765"), 0.03),
    ("West Sacramento", "CA", ("95605", "95691"), 0.03),
    ("Antelope", "CA", ("95843",), 0.02),
    ("Orangevale", "CA", ("95662",), 0.02),
    ("North Highlands", "CA", ("95660",), 0.02),
    ("Galt", "CA", ("95632",), 0.02),
    ("Lodi", "CA", ("95240", "95242"), 0.03),
    ("Stockton", "CA", ("95207", "95209", "95210", "95219"), 0.03),
    ("Reno", "NV", ("89502", "89509"), 0.01),
    ("Portland", "OR", ("97214",), 0.005),
    ("Phoenix", "AZ", ("85016",), 0.005),
)
AREA_CODES = ("916", "916", "279", "530", "209")
# fmt: on

# ---------------------------------------------------------------------------------------
# Clinical catalogue: settings, add-on services and scenarios
# ---------------------------------------------------------------------------------------

SETTINGS = (
    "office",
    "preventive",
    "telehealth",
    "urgent_care",
    "procedure",
    "ed_prof",
    "ed_inst",
    "hop",
)
S_OFFICE, S_PREVENTIVE, S_TELEHEALTH, S_URGENT, S_PROCEDURE, S_ED_PROF, S_ED_INST, S_HOP = range(
    len(SETTINGS)
)
# ~13 % institutional (ed_inst + hop).
SETTING_WEIGHTS = (0.46, 0.13, 0.08, 0.10, 0.04, 0.06, 0.06, 0.07)
INSTITUTIONAL_SETTINGS = (S_ED_INST, S_HOP)
# Settings where offices keep weekday hours (urgent care and EDs open every day).
WEEKDAY_SETTINGS = (S_OFFICE, S_PREVENTIVE, S_TELEHEALTH, S_PROCEDURE, S_HOP)
# Line context: C clinic (professional, non-ED), P ED professional, I institutional.
SETTING_CONTEXT = ("C", "C", "T", "C", "C", "P", "I", "I")

# Line kinds, also their order on the claim (priority x 10; companions sit at +5).
K_VISIT, K_EXTRA, K_PROC, K_DRUG, K_VACCINE, K_TEST, K_IMAGE, K_LAB = range(0, 80, 10)
KIND_BY_NAME = {
    "proc": K_PROC,
    "drug": K_DRUG,
    "vaccine": K_VACCINE,
    "test": K_TEST,
    "image": K_IMAGE,
    "lab": K_LAB,
    "extra": K_EXTRA,
}
# Pointer rules: every diagnosis (up to 4), the principal, the Z23 immunization
# diagnosis, the principal and sometimes the second (tests).
P_ALL, P_PRINCIPAL, P_Z23, P_LAB = 0, 1, 2, 3
# Companion code -> (units: one line for the visit or one unit per parent line,
# place on the claim, pointer rule)
COMPANIONS: dict[str, tuple[str, int, int]] = {
    "36415": ("one", K_LAB - 1, P_PRINCIPAL),
    "96372": ("count", K_DRUG + 5, P_PRINCIPAL),
    "96374": ("one", K_DRUG + 5, P_PRINCIPAL),
    "96360": ("one", K_DRUG + 5, P_PRINCIPAL),
    "96365": ("one", K_DRUG + 5, P_PRINCIPAL),
    "94640": ("one", K_DRUG + 5, P_PRINCIPAL),
    "90460": ("count", K_VACCINE + 5, P_Z23),
    "90471": ("one", K_VACCINE + 5, P_Z23),
    "90472": ("count", K_VACCINE + 5, P_Z23),
    "G0008": ("one", K_VACCINE + 5, P_Z23),
    "G0009": ("one", K_VACCINE + 5, P_Z23),
}
# A same-day E/M takes modifier 25 next to these (NCCI pairs them with E/M services).
TRIGGER_25 = ("96372", "96374", "96360", "96365", "94640")
FLU_VACCINES = ("90686", "90656", "90662")
PNEUMO_VACCINES = ("90677", "90732")
# Lines billed together with their parent add-on keep this place on the claim.
BUNDLE_KIND = {"J3301": K_DRUG, "J1030": K_DRUG, "17003": K_PROC, "96361": K_DRUG + 6}


@dataclass(frozen=True)
class Addon:
    """An optional service of a scenario: one of ``codes`` is billed with probability ``prob``."""

    codes: tuple[str, ...]
    prob: float
    kind: str
    units: tuple[int, int] = (1, 1)
    contexts: str = "CI"
    modifier: str = ""  # fixed modifier, e.g. QW, 50
    lateral: tuple[str, str] = ("", "")  # modifiers for the right / left side
    companion: str = ""  # e.g. 36415 for blood tests, 96372 for an injected drug
    bundle: tuple[tuple[str, int, int], ...] = ()  # (code, min units, max units) billed with it
    min_age: int = 0
    max_age: int = 200
    sex: str = ""
    flu_season: bool = False
    distinct: bool = True  # a second distinct procedure takes XS / 59


@dataclass(frozen=True)
class Scenario:
    name: str
    settings: Mapping[str, float]
    principal: tuple[str, ...]  # "right|left" pairs when lateral
    secondary: tuple[str, ...] = ()
    addons: tuple[Addon, ...] = ()
    min_age: int = 0
    max_age: int = 200
    sex: str = ""
    lateral: bool = False
    chronic: bool = False  # adult comorbidities join the secondary pool from age 30
    required_dx: tuple[str, ...] = ()  # one of these is always coded (e.g. weeks of gestation)
    visit: str = "em"  # em, preventive, awv, none
    payer: str = ""  # medicare / not_medicare
    acuity: int = 0
    fallback: Addon | None = None  # billed when nothing else would be
    pool: str = ""  # rendering pool override


def _lab(code: str, prob: float, blood: bool = True, **kw: Any) -> Addon:
    return Addon((code,), prob, "lab", companion="36415" if blood else "", **kw)


def _poc(code: str, prob: float, **kw: Any) -> Addon:
    # CLIA-waived point-of-care test run in the office: QW.
    return Addon((code,), prob, "lab", contexts="C", modifier="QW", **kw)


def _img(codes: tuple[str, ...], prob: float, **kw: Any) -> Addon:
    return Addon(codes, prob, "image", **kw)


def _proc(codes: tuple[str, ...], prob: float, **kw: Any) -> Addon:
    kw.setdefault("contexts", "CIP")
    return Addon(codes, prob, "proc", **kw)


def _drug(code: str, prob: float, units: tuple[int, int], companion: str, **kw: Any) -> Addon:
    return Addon((code,), prob, "drug", units=units, companion=companion, **kw)


def _vax(codes: tuple[str, ...], prob: float, **kw: Any) -> Addon:
    kw.setdefault("contexts", "C")
    return Addon(codes, prob, "vaccine", **kw)


def _test(codes: tuple[str, ...], prob: float, contexts: str = "C", **kw: Any) -> Addon:
    return Addon(codes, prob, "test", contexts=contexts, **kw)


def _ecg(clinic: float, inst: float, prof: float) -> tuple[Addon, ...]:
    return (
        _test(("93000",), clinic, "C"),
        _test(("93005",), inst, "I"),
        _test(("93010",), prof, "P"),
    )


# fmt: off
RT_LT = ("RT", "LT")
TOES = ("T5", "TA")
FLU_ADULT = _vax(("90686", "90656"), 0.3, flu_season=True, min_age=3, max_age=64)
FLU_SENIOR = _vax(("90662",), 0.35, flu_season=True, min_age=65)
CHRONIC_POOL = (
    "I10", "I10", "E78.5", "E78.5", "E11.9", "E66.9", "Z79.899", "Z87.891", "F17.210",
    "K21.9", "E03.9", "E55.9", "G47.33", "F41.1", "F32.A", "M17.0", "E78.2", "E11.65",
)

SCENARIOS: tuple[Scenario, ...] = (
    # -- chronic care ---------------------------------------------------------------------
    Scenario(
        "cardiometabolic", {"office": 6, "telehealth": 4, "hop": 2},
        ("I10", "I10", "E11.9", "E11.65", "E78.5", "E78.2", "E11.22", "E11.40", "I11.9",
         "I25.10", "E78.00", "R73.03", "E66.9", "N18.30", "I48.91", "I50.9", "E11.69",
         "I12.9", "E11.42", "E66.01"),
        ("Z79.4", "Z79.84", "Z79.899", "Z79.01", "N18.30", "R73.03", "I10", "E78.5",
         "E55.9"),
        (_lab("80053", 0.45), _lab("80061", 0.4), _lab("83036", 0.4), _lab("85025", 0.3),
         _lab("82043", 0.15, blood=False), _lab("84443", 0.15), *_ecg(0.1, 0.1, 0.0),
         FLU_ADULT, FLU_SENIOR),
        min_age=30, chronic=True,
    ),
    Scenario(
        "chronic_other", {"office": 3, "telehealth": 2, "hop": 1},
        ("E03.9", "D50.9", "D64.9", "E55.9", "K21.9", "J30.9", "J45.909", "M81.0",
         "G47.33", "E87.6", "M10.9", "N18.9", "E61.1", "D69.6"),
        ("Z79.899", "E55.9", "D64.9"),
        (_lab("84443", 0.4), _lab("85025", 0.4), _lab("82306", 0.2), _lab("80053", 0.3),
         _lab("84439", 0.08), _drug("J3420", 0.05, (1, 1), "96372", contexts="C")),
        min_age=18, chronic=True,
    ),
    # -- acute problems -------------------------------------------------------------------
    Scenario(
        "acute_respiratory",
        {"office": 4, "telehealth": 3, "urgent_care": 7, "ed_prof": 2, "ed_inst": 2},
        ("J06.9", "J06.9", "J02.9", "J02.0", "J01.90", "J20.9", "R05.9", "R05.1", "U07.1",
         "J10.1", "J11.1", "J00", "J18.9", "R50.9", "J03.90", "B34.9", "J01.00"),
        ("R50.9", "R05.9", "R09.81", "J45.909", "R06.02", "Z20.822", "R07.0", "R53.83",
         "R51.9"),
        (_poc("87880", 0.35), _poc("87804", 0.3, flu_season=True), _poc("87811", 0.2),
         _lab("87635", 0.15, blood=False), _img(("71046",), 0.1),
         _test(("94760",), 0.2, "CI"),
         _drug("J1100", 0.05, (4, 10), "96372", contexts="C"),
         _drug("J0696", 0.03, (1, 4), "96372", contexts="C"), FLU_ADULT),
    ),
    Scenario(
        "asthma", {"office": 2, "urgent_care": 2, "ed_prof": 1, "ed_inst": 1,
                   "telehealth": 1},
        ("J45.901", "J45.909", "J45.20", "J45.30", "R06.2"),
        ("R06.02", "R05.9", "J30.9", "J06.9", "R06.2"),
        (_drug("J7613", 0.45, (2, 3), "94640"), _test(("94760",), 0.4, "CI"),
         _drug("J1100", 0.15, (4, 10), "96372", contexts="C"), _img(("71046",), 0.1),
         _test(("94010",), 0.08)),
        min_age=2,
    ),
    Scenario(
        "copd", {"office": 2, "telehealth": 1, "ed_prof": 1, "ed_inst": 1, "urgent_care": 1},
        ("J44.9", "J44.1", "R06.02"),
        ("Z87.891", "F17.210", "R05.9", "R06.2", "J30.9"),
        (_drug("J7613", 0.35, (2, 3), "94640"), _test(("94760",), 0.4, "CI"),
         _test(("94010",), 0.1), _img(("71046",), 0.2), *_ecg(0.05, 0.3, 0.3)),
        min_age=40, chronic=True,
    ),
    Scenario(
        "ear", {"office": 3, "urgent_care": 3, "telehealth": 0.5},
        ("H66.91", "H66.92", "H66.93", "H66.90", "H65.90", "H60.91", "H60.92", "H60.90",
         "H92.01", "H92.02"),
        ("R50.9", "J06.9", "H92.01", "H92.02"),
        (_drug("J0696", 0.04, (1, 4), "96372", contexts="C"),),
    ),
    Scenario(
        "cerumen_one_side", {"office": 1, "procedure": 2, "urgent_care": 0.5},
        ("H61.21|H61.22",), ("H92.01", "H92.02"),
        (_proc(("69210", "69210", "69209"), 0.85, lateral=RT_LT, contexts="C"),),
        min_age=2, lateral=True, fallback=_proc(("69210",), 1, lateral=RT_LT, contexts="C"),
    ),
    Scenario(
        "cerumen_both", {"office": 1, "procedure": 2},
        ("H61.23",), ("H92.01", "H92.02"),
        (_proc(("69210",), 0.9, modifier="50", contexts="C"),),
        min_age=2, fallback=_proc(("69210",), 1, modifier="50", contexts="C"),
    ),
    Scenario(
        "eye", {"urgent_care": 2, "office": 1, "ed_prof": 0.5, "telehealth": 0.5},
        ("H10.9", "H10.33", "H10.30", "S05.01XA|S05.02XA"), ("J30.2",),
        lateral=True,
    ),
    Scenario(
        "urinary", {"office": 2, "urgent_care": 3, "telehealth": 1, "ed_inst": 0.5,
                    "ed_prof": 0.5},
        ("N39.0", "N39.0", "N30.00", "N30.01", "R30.0", "R35.0", "R39.15"),
        ("R31.9", "R50.9", "R10.9", "R35.0"),
        (_lab("81003", 0.45, blood=False), _lab("81002", 0.35, blood=False, contexts="C"),
         _lab("87086", 0.45, blood=False), _lab("81025", 0.3, blood=False, sex="F",
                                                 min_age=12, max_age=50)),
        min_age=2,
    ),
    Scenario(
        "male_gu", {"office": 2, "telehealth": 1},
        ("N40.1", "N40.0", "N52.9", "R35.1", "R39.15", "N32.81"),
        ("R35.0", "E78.5", "I10"),
        (_lab("84153", 0.3), _lab("81003", 0.2, blood=False)),
        min_age=40, sex="M", chronic=True,
    ),
    Scenario(
        "womens_health", {"office": 2, "telehealth": 1},
        ("Z30.011", "Z30.09", "Z30.41", "N94.6", "N92.0", "N76.0", "N95.1"),
        ("Z72.0", "Z11.3"),
        (_lab("81025", 0.4, blood=False), _drug("J1050", 0.15, (150, 150), "96372",
                                                 contexts="C"),
         _lab("87491", 0.2, blood=False), _lab("87591", 0.2, blood=False),
         _lab("87210", 0.15, blood=False), _proc(("58300",), 0.03, contexts="C")),
        min_age=15, max_age=52, sex="F", pool="obgyn",
    ),
    Scenario(
        "prenatal_first", {"office": 3, "hop": 0.5, "ed_inst": 0.3, "ed_prof": 0.3},
        ("Z34.01", "Z34.81", "O21.0", "O26.851", "O20.0"), ("O21.0", "Z30.09"),
        (_img(("76801",), 0.3), _lab("85025", 0.3), _lab("86900", 0.3), _lab("86901", 0.3),
         _lab("87491", 0.2, blood=False), _lab("87591", 0.2, blood=False),
         _lab("81003", 0.3, blood=False)),
        min_age=16, max_age=44, sex="F", required_dx=("Z3A.08", "Z3A.10", "Z3A.12"),
        pool="obgyn",
    ),
    Scenario(
        "prenatal_second", {"office": 3},
        ("Z34.02", "Z34.82", "O26.852"), (),
        (_lab("81003", 0.3, blood=False), _lab("85025", 0.15)),
        min_age=16, max_age=44, sex="F", required_dx=("Z3A.16", "Z3A.20", "Z3A.24"),
        pool="obgyn",
    ),
    Scenario(
        "prenatal_third", {"office": 3},
        ("Z34.03", "Z34.83"), (),
        (_lab("81003", 0.3, blood=False), _lab("85025", 0.2),
         _vax(("90715",), 0.3)),
        min_age=16, max_age=44, sex="F", required_dx=("Z3A.28", "Z3A.32", "Z3A.36"),
        pool="obgyn",
    ),
    Scenario(
        "low_back", {"office": 3, "urgent_care": 1.5, "telehealth": 1, "ed_prof": 1,
                     "ed_inst": 1},
        ("M54.50", "M54.50", "M54.59", "M54.16", "M54.17", "M54.41", "M54.42", "S39.012A",
         "M62.830", "M54.51"),
        ("G89.29", "M62.830"),
        (_img(("72100",), 0.25), _drug("J1885", 0.1, (2, 2), "96372", contexts="C"),
         _drug("J1885", 0.35, (2, 2), "96374", contexts="I"),
         _drug("J1030", 0.05, (1, 1), "96372", contexts="C"),
         _proc(("20552",), 0.04, contexts="C")),
        min_age=16, chronic=True,
    ),
    Scenario(
        "neck_upper_back", {"office": 1.5, "urgent_care": 1, "telehealth": 0.5, "ed_prof": 0.5,
                            "ed_inst": 0.5},
        ("M54.2", "M54.2", "S16.1XXA", "M54.6"), ("G89.29", "M62.830"),
        (_img(("72040",), 0.25), _drug("J1885", 0.08, (2, 2), "96372", contexts="C"),
         _drug("J1885", 0.3, (2, 2), "96374", contexts="I"), _proc(("20552",), 0.04,
                                                                   contexts="C")),
        min_age=16, chronic=True,
    ),
    Scenario(
        "knee", {"office": 3, "procedure": 3, "urgent_care": 1, "hop": 0.5},
        ("M25.561|M25.562", "M17.11|M17.12", "S83.91XA|S83.92XA"), ("E66.9", "M17.0"),
        (_img(("73562",), 0.4, lateral=RT_LT),
         _proc(("20610",), 0.3, lateral=RT_LT, contexts="CI", bundle=(("J3301", 4, 4),))),
        min_age=18, lateral=True, chronic=True,
        fallback=_proc(("20610",), 1, lateral=RT_LT, contexts="CI", bundle=(("J3301", 4, 4),)),
    ),
    Scenario(
        "shoulder", {"office": 3, "procedure": 2, "urgent_care": 1, "hop": 0.5},
        ("M25.511|M25.512", "M75.41|M75.42"), ("M54.2",),
        (_img(("73030",), 0.35, lateral=RT_LT),
         _proc(("20610",), 0.25, lateral=RT_LT, contexts="CI", bundle=(("J1030", 1, 1),))),
        min_age=18, lateral=True, chronic=True,
        fallback=_proc(("20610",), 1, lateral=RT_LT, contexts="CI", bundle=(("J1030", 1, 1),)),
    ),
    Scenario(
        "ankle_foot", {"urgent_care": 4, "office": 1, "ed_prof": 2, "ed_inst": 2},
        ("S93.401A|S93.402A", "M25.571|M25.572", "M72.2|M72.2"), (),
        (_img(("73610",), 0.5, lateral=RT_LT), _img(("73630",), 0.15, lateral=RT_LT),
         _proc(("29515",), 0.12, lateral=RT_LT)),
        min_age=5, lateral=True,
    ),
    Scenario(
        "wrist_hand", {"urgent_care": 2, "office": 2, "ed_prof": 1, "ed_inst": 1,
                       "procedure": 1},
        ("S63.501A|S63.502A", "M25.531|M25.532", "G56.01|G56.02", "M65.311|M65.312",
         "S60.221A|S60.222A", "M79.641|M79.642"), (),
        (_img(("73110",), 0.3, lateral=RT_LT), _img(("73130",), 0.2, lateral=RT_LT),
         _proc(("29125",), 0.1, lateral=RT_LT),
         _proc(("20550",), 0.08, contexts="C", bundle=(("J3301", 1, 1),))),
        min_age=5, lateral=True, fallback=_proc(("29125",), 1, lateral=RT_LT),
    ),
    Scenario(
        "hip", {"office": 2, "procedure": 1, "hop": 0.3},
        ("M25.551|M25.552", "M70.61|M70.62"), ("M54.50", "E66.9"),
        (_img(("73502",), 0.3, lateral=RT_LT),
         _proc(("20610",), 0.15, lateral=RT_LT, contexts="CI", bundle=(("J3301", 4, 4),))),
        min_age=40, lateral=True, chronic=True,
        fallback=_proc(("20610",), 1, lateral=RT_LT, contexts="CI", bundle=(("J3301", 4, 4),)),
    ),
    Scenario(
        "limb_pain", {"office": 2, "telehealth": 1, "urgent_care": 1},
        ("M79.604|M79.605", "M79.10|M79.10", "M79.7|M79.7", "M77.11|M77.12",
         "M17.11|M17.12"), ("G89.29",),
        lateral=True, min_age=18, chronic=True,
    ),
    # -- skin -----------------------------------------------------------------------------
    Scenario(
        "actinic_keratosis", {"procedure": 3, "office": 1},
        ("L57.0",), ("L82.1", "D22.9"),
        (_proc(("17000",), 0.9, contexts="C", bundle=(("17003", 1, 8),)),),
        min_age=40, fallback=_proc(("17000",), 1, contexts="C"),
    ),
    Scenario(
        "warts", {"procedure": 3, "office": 1},
        ("B07.9", "B07.8", "L82.1"), (),
        (_proc(("17110",), 0.85, contexts="C"),),
        min_age=4, fallback=_proc(("17110",), 1, contexts="C"),
    ),
    Scenario(
        "skin_biopsy", {"procedure": 3, "office": 1},
        ("D48.5", "D22.9", "L82.1"), ("L57.0",),
        (_proc(("11102", "11102", "11104"), 0.8, contexts="C"),),
        min_age=25, fallback=_proc(("11102",), 1, contexts="C"),
    ),
    Scenario(
        "nails_corns", {"procedure": 2, "office": 1},
        ("L60.0|L60.0", "B35.1|B35.1", "L84|L84"), ("E11.9", "I73.9"),
        (_proc(("11730",), 0.5, lateral=TOES, contexts="C"), _proc(("11720",), 0.3,
                                                                     contexts="C"),
         _proc(("11055",), 0.3, contexts="C")),
        min_age=12, lateral=True, fallback=_proc(("11720",), 1, contexts="C"),
    ),
    Scenario(
        "abscess", {"urgent_care": 3, "procedure": 2, "office": 1, "ed_prof": 1,
                    "ed_inst": 1},
        ("L02.91", "L02.411", "L02.412", "L03.90", "L03.115", "L03.116"), ("R50.9",),
        (_proc(("10060",), 0.6), _drug("J0696", 0.25, (1, 4), "96372", contexts="C"),
         _drug("J0696", 0.4, (4, 4), "96365", contexts="I")),
        fallback=_proc(("10060",), 1),
    ),
    Scenario(
        "skin_general", {"office": 3, "telehealth": 2, "urgent_care": 2, "ed_prof": 0.5,
                         "ed_inst": 0.5},
        ("L20.9", "L30.9", "L25.9", "L50.9", "L70.0", "R21", "B00.1", "B02.9", "L01.00",
         "T78.40XA", "L23.9", "B35.4"),
        ("L50.9", "R21", "L30.9"),
        (_drug("J1200", 0.05, (1, 1), "96372", contexts="C"),
         _drug("J1200", 0.4, (1, 1), "96374", contexts="I"),
         _drug("J1100", 0.2, (4, 10), "96374", contexts="I")),
    ),
    Scenario(
        "laceration_limb", {"urgent_care": 4, "ed_prof": 3, "ed_inst": 2, "office": 1},
        ("S61.411A|S61.412A", "S91.311A|S91.312A"), (),
        (_proc(("12001", "12001", "12002"), 0.8), _vax(("90715",), 0.3, min_age=7,
                                                        contexts="CI")),
        min_age=1, lateral=True, fallback=_proc(("12001",), 1),
    ),
    Scenario(
        "laceration_head", {"urgent_care": 3, "ed_prof": 3, "ed_inst": 2},
        ("S01.81XA", "S01.01XA"), ("S09.90XA",),
        (_proc(("12011", "12001"), 0.8), _vax(("90715",), 0.25, min_age=7, contexts="CI")),
        min_age=1, fallback=_proc(("12011",), 1),
    ),
    # -- emergencies ----------------------------------------------------------------------
    Scenario(
        "head_injury", {"ed_inst": 3, "ed_prof": 3, "urgent_care": 1},
        ("S09.90XA", "S06.0X0A"), ("R51.9", "R42", "R11.0"),
        (_img(("70450",), 0.5, contexts="I"),), acuity=1,
    ),
    Scenario(
        "chest_pain", {"ed_inst": 4, "ed_prof": 4, "office": 1, "urgent_care": 1},
        ("R07.9", "R07.89", "R00.2", "R00.0", "R55", "R06.02", "R07.89"),
        ("I10", "E78.5", "Z87.891", "R42"),
        (*_ecg(0.5, 0.85, 0.7), _img(("71046",), 0.5, contexts="I"),
         _img(("71046",), 0.1, contexts="C"), _lab("84484", 0.7, contexts="I"),
         _lab("85025", 0.6, contexts="I"), _lab("80048", 0.5, contexts="I"),
         _test(("94760",), 0.3, "I")),
        min_age=25, chronic=True, acuity=1,
    ),
    Scenario(
        "abdominal", {"ed_inst": 4, "ed_prof": 4, "urgent_care": 2, "office": 2,
                      "telehealth": 0.5},
        ("R10.9", "R10.13", "R10.31", "R10.32", "R10.84", "R10.11", "K52.9", "A09", "A08.4",
         "R11.2", "R11.10", "R19.7", "K59.00", "N20.0", "E86.0"),
        ("R11.0", "R50.9", "E86.0", "R19.7"),
        (_img(("74177",), 0.3, contexts="I"), _img(("74176",), 0.08, contexts="I"),
         _img(("76705",), 0.08, contexts="I"), _lab("80053", 0.55, contexts="I"),
         _lab("80053", 0.15, contexts="C"), _lab("85025", 0.5), _lab("83690", 0.3,
                                                                      contexts="I"),
         _lab("81003", 0.3, blood=False), _lab("81025", 0.3, blood=False, sex="F",
                                                min_age=12, max_age=50),
         _drug("J2405", 0.35, (4, 4), "96374", contexts="I"),
         _drug("J2405", 0.08, (4, 4), "96372", contexts="C"),
         _drug("J7030", 0.3, (1, 2), "96360", contexts="I")),
        min_age=3, acuity=1,
    ),
    Scenario(
        "gi_chronic", {"office": 2, "telehealth": 1},
        ("K21.9", "K29.70", "K30", "K58.9", "K57.30", "K64.9", "K76.0", "R74.01", "R13.10"),
        ("R63.4", "R19.7", "K59.00"),
        (_lab("80053", 0.2), _lab("85025", 0.2), _lab("80076", 0.1)),
        min_age=18, chronic=True,
    ),
    Scenario(
        "headache_dizzy", {"office": 2, "telehealth": 1, "urgent_care": 1, "ed_prof": 1,
                           "ed_inst": 1},
        ("R51.9", "G43.909", "G44.209", "R42", "H81.10", "R20.2", "R55"),
        ("G47.00", "I10", "R11.0"),
        (_drug("J1885", 0.08, (2, 2), "96372", contexts="C"),
         _drug("J1885", 0.35, (2, 2), "96374", contexts="I"),
         _drug("J7030", 0.2, (1, 1), "96360", contexts="I"), _img(("70450",), 0.2,
                                                                   contexts="I"),
         *_ecg(0.05, 0.3, 0.2)),
        min_age=5,
    ),
    Scenario(
        "general_symptoms",
        {"office": 3, "telehealth": 1, "urgent_care": 1, "ed_prof": 1, "ed_inst": 1},
        ("R53.83", "R53.81", "R50.9", "R63.5", "R63.4", "R60.0", "R21", "R26.81",
         "T14.90XA", "R59.0"),
        ("R53.83", "R51.9"),
        (_lab("85025", 0.45), _lab("80053", 0.45), _lab("84443", 0.25, contexts="C"),
         _lab("82306", 0.1, contexts="C")),
    ),
    # -- behavioural health ---------------------------------------------------------------
    Scenario(
        "mental_health", {"office": 3, "telehealth": 4},
        ("F41.1", "F41.9", "F32.A", "F32.9", "F32.1", "F33.1", "F43.10", "F43.23", "F51.01",
         "G47.00", "F10.10", "F17.210"),
        ("F41.9", "G47.00", "Z72.0"),
        (_test(("96127",), 0.65, units=(1, 2)), _test(("99406",), 0.12)),
        min_age=12,
    ),
    Scenario(
        "adhd", {"office": 2, "telehealth": 2},
        ("F90.0", "F90.2", "F90.9"), ("F41.9",),
        (_test(("96127",), 0.5, units=(1, 2)),),
        min_age=5, max_age=30,
    ),
    Scenario(
        "allergy_sinus", {"office": 2, "telehealth": 2, "urgent_care": 1},
        ("J30.2", "J30.9", "J32.9", "J01.00", "R09.82"), ("R05.9", "J45.909"),
        (_drug("J3301", 0.04, (4, 4), "96372", contexts="C"),),
        min_age=4,
    ),
    Scenario(
        "immunization_only", {"office": 1},
        ("Z23",), (),
        (FLU_ADULT, FLU_SENIOR, _vax(("90715",), 0.15, min_age=19),
         _vax(("90750",), 0.15, min_age=50), _vax(("90746",), 0.08, min_age=19),
         _vax(("90651",), 0.15, min_age=9, max_age=26),
         _vax(("90734",), 0.2, min_age=11, max_age=18), _test(("86580",), 0.1)),
        min_age=7, visit="none", fallback=_vax(("90714",), 1, min_age=7),
    ),
    # -- preventive -----------------------------------------------------------------------
    Scenario(
        "well_infant", {"preventive": 1},
        ("Z00.129", "Z00.129", "Z00.129", "Z00.121"), (),
        (_vax(("90700",), 0.5), _vax(("90713",), 0.4), _vax(("90744",), 0.4),
         _vax(("90677",), 0.4), _vax(("90680",), 0.4), _vax(("90648",), 0.4),
         _test(("96110",), 0.3)),
        max_age=0, visit="preventive",
    ),
    Scenario(
        "well_toddler", {"preventive": 1},
        ("Z00.129", "Z00.129", "Z00.129", "Z00.121"), ("Z71.3", "L20.9", "J45.909"),
        (_vax(("90700",), 0.3), _vax(("90707",), 0.35), _vax(("90716",), 0.35),
         _vax(("90633",), 0.35), _vax(("90713",), 0.2), _vax(("90686",), 0.5,
                                                             flu_season=True),
         _test(("96110",), 0.4), _lab("85018", 0.25, blood=False, contexts="C"),
         _lab("83655", 0.25, blood=False, contexts="C"), _test(("99173",), 0.3, min_age=3)),
        min_age=1, max_age=4, visit="preventive",
    ),
    Scenario(
        "well_child", {"preventive": 1},
        ("Z00.129", "Z00.129", "Z00.129", "Z00.121"), ("Z71.3", "Z71.82", "J45.909",
                                                       "F90.0", "L20.9"),
        (_vax(("90700",), 0.2, max_age=6), _vax(("90707",), 0.15), _vax(("90716",), 0.15),
         _vax(("90713",), 0.15), _vax(("90686",), 0.45, flu_season=True),
         _test(("99173",), 0.6), _test(("92551",), 0.5)),
        min_age=5, max_age=10, visit="preventive",
    ),
    Scenario(
        "well_teen", {"preventive": 1},
        ("Z00.129", "Z00.129", "Z00.129", "Z00.121"), ("Z71.3", "Z71.82", "F41.9", "L70.0",
                                                       "J45.909", "F90.0"),
        (_vax(("90715",), 0.4), _vax(("90734",), 0.4), _vax(("90651",), 0.35),
         _vax(("90686",), 0.4, flu_season=True), _test(("96127",), 0.6),
         _test(("99173",), 0.3), _test(("92551",), 0.2)),
        min_age=11, max_age=17, visit="preventive",
    ),
    Scenario(
        "well_adult", {"preventive": 1},
        ("Z00.00", "Z00.00", "Z00.00", "Z00.01"),
        ("Z13.1", "Z13.220", "Z13.31", "Z11.59", "Z11.4", "Z71.3", "Z71.82", "Z72.0",
         "Z12.11", "Z13.6", "Z12.4", "Z12.5"),
        (_lab("80053", 0.4), _lab("80061", 0.5), _lab("83036", 0.25), _lab("85025", 0.4),
         _lab("84443", 0.15), _lab("86803", 0.1), _lab("87389", 0.08), FLU_ADULT,
         FLU_SENIOR, _vax(("90715",), 0.08), _vax(("90750",), 0.12, min_age=50),
         _test(("93000",), 0.08, min_age=40), _test(("99406",), 0.06),
         _lab("88142", 0.2, blood=False, sex="F", min_age=21, max_age=65, contexts="C"),
         _lab("84153", 0.25, sex="M", min_age=50)),
        min_age=18, chronic=True, visit="preventive", payer="not_medicare",
    ),
    Scenario(
        "well_woman", {"preventive": 0.3},
        ("Z01.419", "Z01.419", "Z01.411"), ("Z12.4", "Z30.09", "Z11.3"),
        (_lab("88142", 0.5, blood=False, contexts="C"), _lab("87491", 0.2, blood=False),
         _lab("87591", 0.2, blood=False)),
        min_age=21, max_age=64, sex="F", visit="preventive", payer="not_medicare",
        pool="obgyn",
    ),
    Scenario(
        "medicare_wellness", {"preventive": 1},
        ("Z00.00", "Z00.00", "Z00.00", "Z00.01"), ("Z13.31", "Z71.82", "Z12.11"),
        (_test(("G0444",), 0.35), Addon(("99497",), 0.1, "extra", contexts="C"),
         _vax(("90662",), 0.45, flu_season=True), _vax(("90677",), 0.1),
         _lab("80053", 0.2), _lab("80061", 0.2), _lab("83036", 0.15),
         _lab("G0103", 0.1, sex="M"), _test(("G0102",), 0.05, sex="M"),
         _test(("G0101",), 0.05, sex="F"), _test(("Q0091",), 0.03, sex="F")),
        min_age=65, chronic=True, visit="awv", payer="medicare",
    ),
    # -- hospital outpatient without a visit ----------------------------------------------
    Scenario(
        "outpatient_lab", {"hop": 3},
        ("E11.9", "I10", "E78.5", "Z79.01", "D64.9", "E03.9", "N18.30", "R73.03", "Z01.818",
         "R53.83"),
        ("E78.5", "Z79.899"),
        (_lab("80053", 0.45), _lab("80061", 0.35), _lab("83036", 0.3), _lab("85025", 0.55),
         _lab("84443", 0.25), _lab("82306", 0.15), _lab("81003", 0.15, blood=False),
         _lab("85610", 0.1)),
        min_age=1, visit="none", fallback=_lab("85025", 1),
    ),
    Scenario(
        "outpatient_imaging", {"hop": 3},
        ("R05.9", "R10.11", "R10.9", "M54.50", "R07.89", "R51.9", "K76.0", "R06.02"),
        (),
        (_img(("71046", "71046", "76700", "74177", "72100", "70450", "71250"), 0.9,
              contexts="I"),),
        visit="none", fallback=_img(("71046",), 1, contexts="I"),
    ),
    Scenario(
        "screening_mammogram", {"hop": 1},
        ("Z12.31",), (),
        (_img(("77067",), 1.0, contexts="I"),),
        min_age=40, sex="F", visit="none",
    ),
    Scenario(
        "pelvic_ultrasound", {"hop": 0.5},
        ("N94.6", "N92.0", "N95.1"), (),
        (_img(("76856",), 1.0, contexts="I"),),
        min_age=15, sex="F", visit="none",
    ),
    Scenario(
        "infusion", {"hop": 1},
        ("E86.0", "A09", "L03.90", "J18.9", "N39.0"), ("R11.10", "R50.9"),
        (_drug("J7030", 0.7, (1, 2), "96360", bundle=(("96361", 1, 1),)),
         _drug("J0696", 0.4, (4, 4), "96365")),
        min_age=18, visit="none", fallback=_drug("J7030", 1, (1, 1), "96360"),
    ),
)

# A hospital ED bills its own workup whatever the complaint: drawn for every facility ED
# visit on top of the scenario's add-ons (repeats of a code collapse to one line).
ED_FACILITY_ADDONS: tuple[Addon, ...] = (
    _lab("85025", 0.5, contexts="I"),
    _lab("80048", 0.4, contexts="I"),
    _lab("81003", 0.2, blood=False, contexts="I"),
    _test(("94760",), 0.45, "I"),
    _test(("93005",), 0.15, "I"),
)

# Rendering pools by name; see _Directory.
POOL_BILLING = {
    "pc_adult": "riverbend", "obgyn": "riverbend", "peds": "capitol", "uc": "delta",
    "ed": "valley",
}

# E/M level distributions
OFFICE_NEW = (("99202", "99203", "99204", "99205"), (0.08, 0.42, 0.40, 0.10))
OFFICE_EST = (("99212", "99213", "99214", "99215"), (0.10, 0.47, 0.36, 0.07))
OFFICE_EST_ACUTE = (("99212", "99213", "99214", "99215"), (0.05, 0.35, 0.45, 0.15))
ED_LEVELS = (("99281", "99282", "99283", "99284", "99285"), (0.04, 0.12, 0.38, 0.34, 0.12))
ED_LEVELS_ACUTE = (("99281", "99282", "99283", "99284", "99285"),
                   (0.01, 0.05, 0.28, 0.40, 0.26))
PREVENTIVE_BANDS = (0, 1, 5, 12, 18, 40, 65)  # lower ages of the 9938x / 9939x bands
PREVENTIVE_NEW = ("99381", "99382", "99383", "99384", "99385", "99386", "99387")
PREVENTIVE_EST = ("99391", "99392", "99393", "99394", "99395", "99396", "99397")
EM_OFFICE_CODES = ("99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214",
                   "99215")
EM_CODES = (*EM_OFFICE_CODES, "99281", "99282", "99283", "99284", "99285", "G0463")
NEW_PATIENT_SHARE = {S_OFFICE: 0.2, S_PREVENTIVE: 0.2, S_PROCEDURE: 0.2, S_URGENT: 0.55}
# fmt: on

# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_extract` wrote."""

    patients: int
    payers: int
    coverages: int
    providers: int
    encounters: int
    charges: int
    diagnoses: int
    defective_encounters: int
    answer_key_rows: int
    total_billed: Decimal
    defects: Mapping[str, int] = field(default_factory=dict)  # affected encounters per defect

    def rows_by_table(self) -> dict[str, int]:
        return {
            "patients": self.patients,
            "payers": self.payers,
            "coverages": self.coverages,
            "providers": self.providers,
            "encounters": self.encounters,
            "charges": self.charges,
            "diagnoses": self.diagnoses,
        }


def generate_extract(
    out_dir: Path,
    answer_key_dir: Path,
    encounters: int,
    seed: int,
    as_of: date,
    defect_rate: float = 0.04,
    progress: Callable[[int], None] | None = None,
) -> GenerationSummary:
    """Write a synthetic native extract of ``encounters`` visits into ``out_dir``.

    ``answer_key.csv`` (the injected defects) goes into ``answer_key_dir``. ``progress`` is
    called with the number of encounters finished after each block.
    """
    if encounters < 0:
        raise ValueError("encounters must be >= 0")
    if not 0.0 <= defect_rate <= 1.0:
        raise ValueError("defect_rate must be between 0 and 1")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    catalogue = _Catalogue.load()
    directory = _Directory.build(
        np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    answer_key_dir.mkdir(parents=True, exist_ok=True)
    as_of_day = _day_number(as_of)
    counters = _Counters()
    answer_parts: list[pd.DataFrame] = []
    used_bad: set[int] = set()
    defect_counts = dict.fromkeys(DEFECTS, 0)
    total_cents = 0
    with _ExtractWriter(out_dir) as writer:
        writer.write("payers", _payer_columns())
        n_blocks = -(-encounters // BLOCK_ENCOUNTERS)
        for block in range(n_blocks):
            n = min(BLOCK_ENCOUNTERS, encounters - block * BLOCK_ENCOUNTERS)
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, block)))
            result = _Block(rng, catalogue, directory, counters, as_of_day, n, defect_rate).run()
            for table, columns in result.tables.items():
                writer.write(table, columns)
            answer_parts.append(result.answer_key)
            used_bad.update(result.used_bad_providers)
            total_cents += result.total_cents
            for name, count in result.defect_counts.items():
                defect_counts[name] += count
            if progress is not None:
                progress(block * BLOCK_ENCOUNTERS + n)
        writer.write("providers", directory.columns(used_bad))
        rows = dict(writer.rows)
    answer_key = _write_answer_key(answer_key_dir, answer_parts)
    return GenerationSummary(
        patients=rows["patients"],
        payers=rows["payers"],
        coverages=rows["coverages"],
        providers=rows["providers"],
        encounters=rows["encounters"],
        charges=rows["charges"],
        diagnoses=rows["diagnoses"],
        defective_encounters=int(answer_key["encounter_id"].nunique()) if len(answer_key) else 0,
        answer_key_rows=len(answer_key),
        total_billed=Decimal(total_cents).scaleb(-2),
        defects=defect_counts,
    )


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


class _ExtractWriter:
    """Keeps one CSV per table open and appends blocks of already formatted columns."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.files: dict[str, IO[str]] = {}
        self.rows: dict[str, int] = {}

    def __enter__(self) -> _ExtractWriter:
        for table in schema.TABLES:
            # newline="\n": LF line ends on every platform.
            fh = (self.out_dir / table.file_name).open("w", encoding="utf-8", newline="\n")
            self.files[table.name] = fh
            csv.writer(fh, lineterminator="\n").writerow(table.column_names)
            self.rows[table.name] = 0
        return self

    def __exit__(self, *exc: object) -> None:
        for fh in self.files.values():
            fh.close()

    def write(self, table: str, columns: Mapping[str, StrArray]) -> None:
        names = schema.TABLES_BY_NAME[table].column_names
        if list(columns) != names:
            raise RuntimeError(f"{table}: columns {list(columns)} differ from schema {names}")
        n = len(next(iter(columns.values())))
        if n == 0:
            return
        # csv.writer gives minimal RFC 4180 quoting (only fields holding , " or a line end).
        lists = [columns[name].tolist() for name in names]
        csv.writer(self.files[table], lineterminator="\n").writerows(zip(*lists, strict=True))
        self.rows[table] += n


def _write_answer_key(answer_key_dir: Path, parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    columns = list(schema.ANSWER_KEY_COLUMNS)
    frames = [p for p in parts if len(p)]
    key = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    )
    key = (
        key[columns]
        .sort_values(["encounter_id", "defect", "table_name", "row_key"], kind="stable")
        .reset_index(drop=True)
    )
    with (answer_key_dir / "answer_key.csv").open("w", encoding="utf-8", newline="\n") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(key.itertuples(index=False, name=None))
    return key


def _s(values: Iterable[str] | StrArray) -> StrArray:
    return np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=STR)


def _ids(prefix: str, numbers: IntArray, width: int) -> StrArray:
    return np.strings.add(prefix, np.strings.zfill(numbers.astype(STR), width))


def _ints(values: IntArray, missing_below: int = 0) -> StrArray:
    """Integers as text; values below ``missing_below`` become empty fields."""
    text = values.astype(STR)
    return np.where(values < missing_below, "", text).astype(STR)


def _dates(days: IntArray) -> StrArray:
    text = np.datetime_as_string(days.astype("datetime64[D]")).astype(STR)
    return np.where(days == NO_DATE, "", text).astype(STR)


def _money(cents: IntArray) -> StrArray:
    whole = np.abs(cents)
    text = np.strings.add(
        np.strings.add((whole // 100).astype(STR), "."),
        np.strings.zfill((whole % 100).astype(STR), 2),
    )
    return np.where(cents < 0, np.strings.add("-", text), text).astype(STR)


def _payer_columns() -> dict[str, StrArray]:
    return {
        "payer_id": _s(p.payer_id for p in PAYERS),
        "payer_name": _s(p.payer_name for p in PAYERS),
        "payer_type": _s(PAYER_TYPE_NAMES[p.payer_type] for p in PAYERS),
        "claim_filing_indicator": _s(p.claim_filing_indicator for p in PAYERS),
        "timely_filing_days": _s(str(p.timely_filing_days) for p in PAYERS),
        "fee_schedule_id": _s(p.fee_schedule_id for p in PAYERS),
        "allowed_percent_of_charge": _s(p.allowed_percent_of_charge for p in PAYERS),
        "address_line1": _s(p.address_line1 for p in PAYERS),
        "city": _s(p.city for p in PAYERS),
        "state": _s(p.state for p in PAYERS),
        "zip": _s(p.zip for p in PAYERS),
    }


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------

_EPOCH = date(1970, 1, 1)


def _day_number(day: date) -> int:
    return (day - _EPOCH).days


def _ymd(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _age_years(birth: IntArray, on: IntArray) -> IntArray:
    by, bm, bd = _ymd(birth)
    oy, om, od = _ymd(on)
    before_birthday: IntArray = ((om < bm) | ((om == bm) & (od < bd))).astype(np.int64)
    years: IntArray = oy - by - before_birthday
    return years


def _first_of_month_at_age(birth: IntArray, years: int) -> IntArray:
    months = birth.astype("datetime64[D]").astype("datetime64[M]") + 12 * years
    return months.astype("datetime64[D]").astype(np.int64)


def _weekday(days: IntArray) -> IntArray:
    return ((days + 3) % 7).astype(np.int64)  # 0 = Monday; 1970-01-01 was a Thursday


# ---------------------------------------------------------------------------------------
# Small vector helpers
# ---------------------------------------------------------------------------------------


def _group_rank(sorted_keys: IntArray) -> IntArray:
    """0, 1, 2... within runs of equal keys (keys must be sorted)."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.arange(n, dtype=np.int64)
    starts = np.ones(n, dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return idx - np.maximum.accumulate(np.where(starts, idx, 0))


def _choice(rng: np.random.Generator, n: int, probs: Sequence[float]) -> IntArray:
    p = np.asarray(probs, dtype=np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int64)


def _pick(rng: np.random.Generator, options: Sequence[str], n: int) -> StrArray:
    return _s(options)[rng.integers(0, len(options), n)]


def _digits(rng: np.random.Generator, n: int, width: int) -> StrArray:
    return np.strings.zfill(rng.integers(0, 10**width, n).astype(STR), width)


def _row_sample(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One column index per row, drawn proportionally to that row's weights."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    if (total <= 0).any():
        raise RuntimeError("a row has no eligible option: the scenario catalogue has a gap")
    u = rng.random(len(weights)) * total
    picked: IntArray = (cum <= u[:, None]).sum(axis=1).astype(np.int64)
    clipped: IntArray = np.minimum(picked, weights.shape[1] - 1)
    return clipped


# ---------------------------------------------------------------------------------------
# Code sets and the compiled catalogue
# ---------------------------------------------------------------------------------------


@dataclass
class _Catalogue:
    """Scenarios compiled into arrays indexed by procedure / diagnosis code numbers."""

    proc_codes: list[str]
    proc_index: dict[str, int]
    price_cents: IntArray
    revenue: StrArray
    proc_sex: StrArray
    proc_min_age: IntArray
    proc_max_age: IntArray
    dx_codes: list[str]  # dotted
    dx_index: dict[str, int]
    dx_sex: StrArray
    scen_setting_w: FloatArray  # (scenarios, settings)
    scen_min_age: IntArray
    scen_max_age: IntArray
    scen_sex: StrArray
    scen_payer: IntArray  # 0 any, 1 Medicare only, 2 not Medicare
    principal: tuple[IntArray, IntArray, IntArray]  # right, left, count
    secondary: tuple[IntArray, IntArray]
    secondary_chronic: tuple[IntArray, IntArray]
    required: tuple[IntArray, IntArray]

    @classmethod
    def load(cls) -> _Catalogue:
        procedures = codesets.load_procedure_codes()
        chargemaster = codesets.load_chargemaster()
        icd = codesets.load_icd10cm_codes()
        proc_codes = sorted(procedures)
        missing_prices = [c for c in proc_codes if c not in chargemaster]
        if missing_prices:
            raise RuntimeError(f"procedure codes without a chargemaster price: {missing_prices}")
        proc_index = {c: i for i, c in enumerate(proc_codes)}
        dx_codes = sorted(c.dotted for c in icd.values())
        dx_index = {c: i for i, c in enumerate(dx_codes)}
        by_dotted = {c.dotted: c for c in icd.values()}

        used_procs = _catalogue_procedures()
        used_dx = _catalogue_diagnoses()
        unknown = sorted(used_procs - set(proc_codes)) + sorted(used_dx - set(dx_codes))
        if unknown:
            raise RuntimeError(f"catalogue codes missing from the code-set seeds: {unknown}")

        def pad(lists: Sequence[Sequence[int]]) -> tuple[IntArray, IntArray]:
            width = max(1, max((len(x) for x in lists), default=1))
            table = np.zeros((len(lists), width), dtype=np.int64)
            for i, x in enumerate(lists):
                table[i, : len(x)] = x
            return table, np.array([len(x) for x in lists], dtype=np.int64)

        right, left = [], []
        for sc in SCENARIOS:
            pairs = [p.split("|") if "|" in p else [p, p] for p in sc.principal]
            right.append([dx_index[a] for a, _ in pairs])
            left.append([dx_index[b] for _, b in pairs])
        p_right, p_count = pad(right)
        p_left, _ = pad(left)
        sec = pad([[dx_index[c] for c in sc.secondary] for sc in SCENARIOS])
        sec_chronic = pad(
            [
                [dx_index[c] for c in dict.fromkeys((*sc.secondary, *CHRONIC_POOL))]
                for sc in SCENARIOS
            ]
        )
        req = pad([[dx_index[c] for c in sc.required_dx] for sc in SCENARIOS])
        weights = np.array(
            [[sc.settings.get(s, 0.0) for s in SETTINGS] for sc in SCENARIOS], dtype=np.float64
        )
        unknown_settings = {k for sc in SCENARIOS for k in sc.settings} - set(SETTINGS)
        if unknown_settings:
            raise RuntimeError(f"unknown settings in the catalogue: {unknown_settings}")
        return cls(
            proc_codes=proc_codes,
            proc_index=proc_index,
            price_cents=np.array(
                [int(chargemaster[c].unit_price * 100) for c in proc_codes], dtype=np.int64
            ),
            revenue=_s(chargemaster[c].revenue_code for c in proc_codes),
            proc_sex=_s(procedures[c].sex_restriction or "" for c in proc_codes),
            proc_min_age=np.array(
                [procedures[c].min_age_years or 0 for c in proc_codes], dtype=np.int64
            ),
            proc_max_age=np.array(
                [
                    200 if procedures[c].max_age_years is None else procedures[c].max_age_years
                    for c in proc_codes
                ],
                dtype=np.int64,
            ),
            dx_codes=dx_codes,
            dx_index=dx_index,
            dx_sex=_s(by_dotted[c].sex_restriction or "" for c in dx_codes),
            scen_setting_w=weights,
            scen_min_age=np.array([sc.min_age for sc in SCENARIOS], dtype=np.int64),
            scen_max_age=np.array([sc.max_age for sc in SCENARIOS], dtype=np.int64),
            scen_sex=_s(sc.sex for sc in SCENARIOS),
            scen_payer=np.array(
                [{"": 0, "medicare": 1, "not_medicare": 2}[sc.payer] for sc in SCENARIOS],
                dtype=np.int64,
            ),
            principal=(p_right, p_left, p_count),
            secondary=sec,
            secondary_chronic=sec_chronic,
            required=req,
        )

    def proc(self, code: str) -> int:
        return self.proc_index[code]

    def procs(self, codes: Iterable[str]) -> IntArray:
        return np.array([self.proc_index[c] for c in codes], dtype=np.int64)


def _all_addons() -> list[Addon]:
    addons: list[Addon] = []
    for sc in SCENARIOS:
        addons.extend(sc.addons)
        if sc.fallback is not None:
            addons.append(sc.fallback)
    return [*addons, *ED_FACILITY_ADDONS]


def _catalogue_procedures() -> set[str]:
    codes: set[str] = set(COMPANIONS) | set(EM_CODES) | set(PREVENTIVE_NEW)
    codes |= set(PREVENTIVE_EST) | {"G0438", "G0439", "G2211", "99051", "96361"}
    for addon in _all_addons():
        codes.update(addon.codes)
        codes.update(b[0] for b in addon.bundle)
    return codes


def _catalogue_diagnoses() -> set[str]:
    codes: set[str] = {"Z23", *CHRONIC_POOL}
    for sc in SCENARIOS:
        for p in sc.principal:
            codes.update(p.split("|"))
        codes.update(sc.secondary)
        codes.update(sc.required_dx)
    return codes


# ---------------------------------------------------------------------------------------
# Providers
# ---------------------------------------------------------------------------------------

# fmt: off
_ORGS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    # key, role, name, taxonomy, street, city, zip5
    ("riverbend", "billing", "Riverbend Medical Group", "261QP2300X", "2150 River Plaza Dr",
     "Sacramento", "95833"),
    ("capitol", "billing", "Capitol Pediatric Associates", "208000000X",
     "5301 F St Suite 210", "Sacramento", "95819"),
    ("delta", "billing", "Delta Urgent Care", "261QU0200X", "8420 Elk Grove Blvd",
     "Elk Grove", "95758"),
    ("valley", "billing", "Valley Emergency Physicians", "207P00000X",
     "1800 Howe Ave Suite 300", "Sacramento", "95825"),
    ("sierra_oaks", "billing", "Sierra Oaks Medical Center", "282N00000X",
     "6501 Coyle Ave", "Carmichael", "95608"),
    ("foothill", "billing", "Foothill Community Hospital", "282N00000X",
     "1100 Sunrise Ave", "Roseville", "95661"),
    ("sierra_oaks_main", "facility", "Sierra Oaks Medical Center", "282N00000X",
     "6501 Coyle Ave", "Carmichael", "95608"),
    ("sierra_oaks_pavilion", "facility", "Sierra Oaks Outpatient Pavilion", "282N00000X",
     "3160 Folsom Blvd", "Sacramento", "95816"),
    ("foothill_main", "facility", "Foothill Community Hospital", "282N00000X",
     "1100 Sunrise Ave", "Roseville", "95661"),
)
HOSPITALS = (("sierra_oaks", "sierra_oaks_main"), ("foothill", "foothill_main"))
PAVILION = "sierra_oaks_pavilion"
# Rendering clinicians per pool: (taxonomy, count). Their organisation's address is used.
_CLINICIANS: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...] = (
    ("pc_adult", "riverbend", (("207Q00000X", 5), ("207R00000X", 4), ("363LF0000X", 2),
                               ("363A00000X", 1))),
    ("obgyn", "riverbend", (("207V00000X", 2), ("363LW0102X", 1))),
    ("peds", "capitol", (("208000000X", 5), ("363LP0200X", 1))),
    ("uc", "delta", (("207Q00000X", 2), ("208D00000X", 2), ("207P00000X", 1),
                     ("363LF0000X", 2), ("363A00000X", 1))),
    ("ed", "valley", (("207P00000X", 8), ("363A00000X", 2))),
    ("hosp", "sierra_oaks", (("207R00000X", 3), ("207RC0000X", 1), ("207X00000X", 1))),
)
BAD_RENDERING = 3
TIN_PREFIXES = ("20", "26", "27", "33", "45", "46", "47", "68", "77", "81", "82", "84", "86",
                "88", "91", "93", "94", "98")
# fmt: on


@dataclass
class _Directory:
    """Providers: clean rows, then dedicated rows with a wrong NPI check digit."""

    rows: list[dict[str, str]]
    org: dict[str, int]  # org key -> row index
    pools: dict[str, IntArray]  # pool -> rendering row indices
    bad_rendering: IntArray
    bad_clone: dict[int, int]  # billing row index -> its bad clone row index
    n_clean: int

    @classmethod
    def build(cls, rng: np.random.Generator) -> _Directory:
        rows: list[dict[str, str]] = []
        used_npis: set[str] = set()

        def new_npi() -> str:
            while True:
                base = str(rng.integers(1, 3)) + f"{int(rng.integers(0, 10**8)):08d}"
                npi = base + luhn_check_digit(base)
                if npi not in used_npis:
                    used_npis.add(npi)
                    return npi

        def zip9(zip5: str) -> str:
            return zip5 + f"{int(rng.integers(1, 10000)):04d}"

        def add(row: dict[str, str]) -> int:
            rows.append(row)
            return len(rows) - 1

        org: dict[str, int] = {}
        for key, role, name, taxonomy, street, city, zip5 in _ORGS:
            tin = ""
            if role == "billing":
                tin = str(rng.choice(TIN_PREFIXES)) + f"{int(rng.integers(0, 10**7)):07d}"
            org[key] = add(
                {
                    "role": role,
                    "entity_type": "2",
                    "npi": new_npi(),
                    "organization_name": name,
                    "last_name": "",
                    "first_name": "",
                    "taxonomy_code": taxonomy,
                    "tin": tin,
                    "address_line1": street,
                    "city": city,
                    "state": "CA",
                    "zip": zip9(zip5),
                }
            )

        def clinician(org_key: str, taxonomy: str) -> dict[str, str]:
            home = rows[org[org_key]]
            female = rng.random() < 0.5
            first = str(rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M))
            return {
                "role": "rendering",
                "entity_type": "1",
                "npi": new_npi(),
                "organization_name": "",
                "last_name": str(rng.choice(LAST_NAMES)),
                "first_name": first,
                "taxonomy_code": taxonomy,
                "tin": "",
                "address_line1": home["address_line1"],
                "city": home["city"],
                "state": home["state"],
                "zip": home["zip"],
            }

        pools: dict[str, IntArray] = {}
        for pool, org_key, taxonomies in _CLINICIANS:
            members = [
                add(clinician(org_key, tax)) for tax, count in taxonomies for _ in range(count)
            ]
            pools[pool] = np.array(members, dtype=np.int64)
        n_clean = len(rows)

        def break_npi(row: dict[str, str]) -> dict[str, str]:
            npi = row["npi"]
            wrong = (int(npi[9]) + int(rng.integers(1, 10))) % 10
            return {**row, "npi": npi[:9] + str(wrong)}

        bad_rendering = np.array(
            [add(break_npi(clinician("riverbend", "207Q00000X"))) for _ in range(BAD_RENDERING)],
            dtype=np.int64,
        )
        bad_clone = {
            org[key]: add(break_npi({**rows[org[key]], "npi": new_npi()}))
            for key, role, *_ in _ORGS
            if role == "billing"
        }
        for i, row in enumerate(rows):
            # Clean rows count up from 1, defective ones from 90001 so they stand apart.
            number = i + 1 if i < n_clean else 90001 + (i - n_clean)
            row["provider_id"] = f"PRV{number:05d}"
        return cls(rows, org, pools, bad_rendering, bad_clone, n_clean)

    def provider_ids(self) -> StrArray:
        return _s(r["provider_id"] for r in self.rows)

    def columns(self, used_bad: set[int]) -> dict[str, StrArray]:
        keep = [i for i in range(len(self.rows)) if i < self.n_clean or i in used_bad]
        names = schema.PROVIDERS.column_names
        return {name: _s(self.rows[i][name] for i in keep) for name in names}


# ---------------------------------------------------------------------------------------
# One block of encounters
# ---------------------------------------------------------------------------------------


@dataclass
class _Counters:
    patients: int = 0
    coverages: int = 0
    encounters: int = 0
    charges: int = 0


@dataclass
class _BlockResult:
    tables: dict[str, dict[str, StrArray]]
    answer_key: pd.DataFrame
    used_bad_providers: set[int]
    total_cents: int
    defect_counts: dict[str, int]


@dataclass
class _People:
    """Columns of person rows (patients and subscribers) for one block."""

    sex: StrArray
    birth: IntArray
    last: StrArray
    first: StrArray
    middle: StrArray
    addr1: StrArray
    addr2: StrArray
    city: StrArray
    state: StrArray
    zip: StrArray
    phone: StrArray

    def take(self, idx: IntArray) -> _People:
        return _People(**{k: v[idx] for k, v in vars(self).items()})

    @staticmethod
    def concat(parts: Sequence[_People]) -> _People:
        return _People(**{k: np.concatenate([vars(p)[k] for p in parts]) for k in vars(parts[0])})


@dataclass
class _CoverageRows:
    person: list[IntArray] = field(default_factory=list)
    payer: list[IntArray] = field(default_factory=list)
    plan: list[StrArray] = field(default_factory=list)
    member: list[StrArray] = field(default_factory=list)
    group: list[StrArray] = field(default_factory=list)
    subscriber: list[IntArray] = field(default_factory=list)
    relationship: list[StrArray] = field(default_factory=list)
    effective: list[IntArray] = field(default_factory=list)
    end: list[IntArray] = field(default_factory=list)
    order: list[IntArray] = field(default_factory=list)

    def add(self, **cols: Any) -> IntArray:
        """Append rows; returns their row numbers within the block."""
        start = sum(len(x) for x in self.person)
        n = len(cols["person"])
        for key, value in cols.items():
            getattr(self, key).append(value)
        return np.arange(start, start + n, dtype=np.int64)

    def stacked(self) -> dict[str, Any]:
        return {
            k: np.concatenate(v) if v else np.zeros(0, dtype=np.int64)
            for k, v in vars(self).items()
        }


class _Block:
    """Generates one block of encounters with everything they reference."""

    def __init__(
        self,
        rng: np.random.Generator,
        cat: _Catalogue,
        directory: _Directory,
        counters: _Counters,
        as_of: int,
        n: int,
        defect_rate: float,
    ) -> None:
        self.rng = rng
        self.cat = cat
        self.dir = directory
        self.counters = counters
        self.as_of = as_of
        self.n = n
        self.defect_rate = defect_rate
        self.answer: list[pd.DataFrame] = []
        self.used_bad: set[int] = set()

    # -- people ---------------------------------------------------------------------------

    def _people(self, sex: StrArray, birth: IntArray) -> _People:
        rng, n = self.rng, len(sex)
        female = sex == "F"
        first_f = _pick(rng, FIRST_NAMES_F, n)
        first_m = _pick(rng, FIRST_NAMES_M, n)
        # U (unknown) persons get a name from either list.
        first = np.where(female | ((sex == "U") & (rng.random(n) < 0.5)), first_f, first_m)
        city_i = _choice(rng, n, [c[3] for c in CITIES])
        zip_pick = rng.random(n)
        zips = _s(
            CITIES[c][2][int(u * len(CITIES[c][2]))]
            for c, u in zip(city_i.tolist(), zip_pick.tolist(), strict=True)
        )
        plus4 = _digits(rng, n, 4)
        zips = np.where(rng.random(n) < 0.3, np.strings.add(zips, plus4), zips).astype(STR)
        street = np.strings.add(
            np.strings.add(
                np.strings.add(rng.integers(100, 9990, n).astype(STR), " "),
                np.strings.add(_pick(rng, STREET_NAMES, n), " "),
            ),
            _pick(rng, STREET_SUFFIXES, n),
        )
        unit = np.strings.add(
            np.strings.add(_pick(rng, UNIT_PREFIXES, n), " "), rng.integers(1, 300, n).astype(STR)
        )
        phone = np.strings.add(
            np.strings.add(_pick(rng, AREA_CODES, n), "55501"), _digits(rng, n, 2)
        )  # 555-01xx: reserved for fiction
        return _People(
            sex=sex.astype(STR),
            birth=birth,
            last=_pick(rng, LAST_NAMES, n),
            first=first.astype(STR),
            middle=np.where(rng.random(n) < 0.6, _pick(rng, MIDDLE_INITIALS, n), "").astype(STR),
            addr1=street,
            addr2=np.where(rng.random(n) < 0.12, unit, "").astype(STR),
            city=_s(CITIES[c][0] for c in city_i.tolist()),
            state=_s(CITIES[c][1] for c in city_i.tolist()),
            zip=zips,
            phone=np.where(rng.random(n) < 0.88, phone, "").astype(STR),
        )

    def _relatives(self, of: _People, idx: IntArray, kind: str) -> _People:
        """New subscriber rows (parent or spouse) for the people ``idx``; same household."""
        rng, n = self.rng, len(idx)
        if kind == "parent":
            birth = (
                of.birth[idx]
                - (rng.integers(20, 41, n) * 365.25).astype(np.int64)
                - rng.integers(0, 365, n)
            )
            sex = np.where(rng.random(n) < 0.5, "F", "M").astype(STR)
        else:
            birth = of.birth[idx] + rng.integers(-6 * 365, 6 * 365 + 1, n)
            birth = np.minimum(birth, self.as_of - 19 * 366)
            own = of.sex[idx]
            opposite = np.where(own == "F", "M", "F")
            sex = np.where(rng.random(n) < 0.95, opposite, own).astype(STR)
        new = self._people(sex, birth.astype(np.int64))
        household = of.take(idx)
        keep_last = rng.random(n) < (0.9 if kind == "parent" else 0.7)
        new.last = np.where(keep_last, household.last, new.last).astype(STR)
        for attr in ("addr1", "addr2", "city", "state", "zip", "phone"):
            setattr(new, attr, getattr(household, attr))
        return new

    # -- member ids -----------------------------------------------------------------------

    def _member_ids(self, payer: IntArray) -> StrArray:
        rng, n = self.rng, len(payer)
        out = np.full(n, "", dtype=STR)
        for p_i, p in enumerate(PAYERS):
            sel = np.flatnonzero(payer == p_i)
            if not len(sel) or not p.member_id_format:
                continue
            if p.member_id_format == "mbi":
                out[sel] = self._mbi(len(sel))
            elif p.member_id_format == "cin":
                out[sel] = np.strings.add(
                    np.strings.add(
                        rng.integers(9, 10, len(sel)).astype(STR), _digits(rng, len(sel), 7)
                    ),
                    _pick(rng, tuple("ABCDEFGHJ"), len(sel)),
                )
            else:
                prefix = p.member_id_format.rstrip("#")
                width = len(p.member_id_format) - len(prefix)
                first = rng.integers(1, 10, len(sel)).astype(STR)  # no leading zero
                out[sel] = np.strings.add(
                    np.strings.add(prefix, first), _digits(rng, len(sel), width - 1)
                )
        return out

    def _mbi(self, n: int) -> StrArray:
        """Medicare Beneficiary Identifier shape: 11 characters, no S L O I B Z."""
        letters = tuple("ACDEFGHJKMNPQRTUVWXY")
        alnum = letters + tuple("0123456789")
        digits = tuple("0123456789")
        rng = self.rng
        parts = [
            _pick(rng, tuple("123456789"), n),
            _pick(rng, letters, n),
            _pick(rng, alnum, n),
            _pick(rng, digits, n),
            _pick(rng, letters, n),
            _pick(rng, alnum, n),
            _pick(rng, digits, n),
            _pick(rng, letters, n),
            _pick(rng, letters, n),
            _pick(rng, digits, n),
            _pick(rng, digits, n),
        ]
        out = parts[0]
        for part in parts[1:]:
            out = np.strings.add(out, part)
        return out

    def _plans(self, payer: IntArray) -> tuple[StrArray, StrArray]:
        rng, n = self.rng, len(payer)
        plan = np.full(n, "", dtype=STR)
        group = np.full(n, "", dtype=STR)
        for p_i, p in enumerate(PAYERS):
            sel = np.flatnonzero(payer == p_i)
            if not len(sel) or not p.plans:
                continue
            plan[sel] = _pick(rng, p.plans, len(sel))
            if p.group_prefix:
                group[sel] = np.strings.add(p.group_prefix, _digits(rng, len(sel), 6))
        return plan, group

    # -- the block ------------------------------------------------------------------------

    def run(self) -> _BlockResult:
        rng, n, as_of = self.rng, self.n, self.as_of
        n_pat = max(1, round(n * PATIENTS_PER_ENCOUNTER))

        # Patients: age band mix chosen so encounters come out ~20 % children, ~32 % 65+.
        band = _choice(rng, n_pat, (0.25, 0.47, 0.28))
        age = np.select(
            [band == 0, band == 1],
            [rng.integers(0, 19, n_pat), rng.integers(19, 65, n_pat)],
            np.minimum(65 + rng.exponential(9.0, n_pat).astype(np.int64), 95),
        ).astype(np.int64)
        # Birth at least 30 days before the extract date so even newborns have a window.
        birth = (as_of - (age * 365.25).astype(np.int64) - rng.integers(30, 365, n_pat)).astype(
            np.int64
        )
        sex_draw = rng.random(n_pat)
        sex = np.where(sex_draw < 0.515, "F", np.where(sex_draw < 0.998, "M", "U")).astype(STR)
        people = self._people(sex, birth)

        # Primary payer by age band.
        age_band = np.where(age < 19, 0, np.where(age < 65, 1, 2))
        ptype = np.zeros(n_pat, dtype=np.int64)
        for b, mix in enumerate(PAYER_TYPE_MIX.values()):
            sel = np.flatnonzero(age_band == b)
            ptype[sel] = _choice(rng, len(sel), mix)
        payer = np.full(n_pat, PAYER_INDEX["SELFPAY"], dtype=np.int64)
        for t in (MEDICARE, MEDICAID, COMMERCIAL):
            members = [i for i, p in enumerate(PAYERS) if p.payer_type == t]
            sel = np.flatnonzero(ptype == t)
            payer[sel] = np.array(members)[
                _choice(rng, len(sel), [PAYERS[i].weight for i in members])
            ]

        coverage = _CoverageRows()
        extra_people: list[_People] = []
        n_people = n_pat

        def add_people(p: _People) -> IntArray:
            nonlocal n_people
            extra_people.append(p)
            start = n_people
            n_people += len(p.sex)
            return np.arange(start, start + len(p.sex), dtype=np.int64)

        def coverage_dates(
            person_birth: IntArray, medicare: BoolArray, person_age: IntArray
        ) -> tuple[IntArray, IntArray]:
            k = len(person_birth)
            eff = np.maximum(person_birth, as_of - rng.integers(730, 3650, k))
            # Medicare for people 67+ starts the month they turned 65 when that is later;
            # still at least two years back, so older service dates stay covered.
            at65 = _first_of_month_at_age(person_birth, 65)
            eff = np.where(medicare & (person_age >= 67), np.maximum(eff, at65), eff)
            ends = np.where(rng.random(k) < 0.15, as_of + rng.integers(90, 400, k), NO_DATE)
            return eff.astype(np.int64), ends.astype(np.int64)

        def add_coverage(
            person: IntArray, pay: IntArray, rel: StrArray, order: int, plan: StrArray | None = None
        ) -> IntArray:
            """Coverage for ``person``; dependents (rel != 18) get a new subscriber row."""
            k = len(person)
            plans, groups = self._plans(pay)
            if plan is not None:
                plans = plan
                groups = np.full(k, "", dtype=STR)
            members = self._member_ids(pay)
            all_birth = np.concatenate([people.birth, *[p.birth for p in extra_people]])
            birth_p = all_birth[person]
            age_p = _age_years(birth_p, np.full(k, as_of, dtype=np.int64))
            eff, end = coverage_dates(birth_p, PAYERS_TYPE[pay] == MEDICARE, age_p)
            subscriber = person.copy()
            dependent = np.flatnonzero(rel != "18")
            if len(dependent):
                everyone = _People.concat([people, *extra_people])
                kind_parent = rel[dependent] == "19"
                new_rows = np.zeros(len(dependent), dtype=np.int64)
                for is_parent, kind in ((True, "parent"), (False, "spouse")):
                    part = np.flatnonzero(kind_parent == is_parent)
                    if len(part):
                        rel_people = self._relatives(everyone, person[dependent[part]], kind)
                        new_rows[part] = add_people(rel_people)
                subscriber[dependent] = new_rows
                # The subscriber's own coverage on the same plan, card and group.
                coverage.add(
                    person=new_rows,
                    payer=pay[dependent],
                    plan=plans[dependent],
                    member=members[dependent],
                    group=groups[dependent],
                    subscriber=new_rows,
                    relationship=np.full(len(dependent), "18", dtype=STR),
                    effective=eff[dependent],
                    end=end[dependent],
                    order=np.ones(len(dependent), dtype=np.int64),
                )
            return coverage.add(
                person=person,
                payer=pay,
                plan=plans,
                member=members,
                group=groups,
                subscriber=subscriber,
                relationship=rel,
                effective=eff,
                end=end,
                order=np.full(k, order, dtype=np.int64),
            )

        insured = np.flatnonzero(ptype != SELF_PAY)
        rel = np.full(len(insured), "18", dtype=STR)
        ins_age = age[insured]
        commercial = ptype[insured] == COMMERCIAL
        child_dep = commercial & (
            (ins_age < 19) | ((ins_age < 26) & (rng.random(len(insured)) < 0.5))
        )
        spouse_dep = commercial & ~child_dep & (rng.random(len(insured)) < 0.25)
        rel[child_dep] = "19"
        rel[spouse_dep] = "01"
        primary_row = np.full(n_pat, -1, dtype=np.int64)
        primary_row[insured] = add_coverage(insured, payer[insured], rel, 1)

        # Secondary coverage: dual eligibles and supplements for Medicare, a second
        # family plan for some commercial members.
        sec_draw = rng.random(n_pat)
        sec_medicare = (ptype == MEDICARE) & (sec_draw < 0.26)
        sec_commercial = (ptype == COMMERCIAL) & (sec_draw < 0.07)
        secondary_row = np.full(n_pat, -1, dtype=np.int64)
        sel = np.flatnonzero(sec_medicare)
        if len(sel):
            dual = rng.random(len(sel)) < 0.5
            pay2 = np.where(
                dual,
                PAYER_INDEX["SKCA0"],
                np.array(SUPPLEMENT_PAYERS)[rng.integers(0, 2, len(sel))],
            )
            plan2 = np.where(
                dual, "Medicaid Fee-for-Service", _pick(rng, SUPPLEMENT_PLANS, len(sel))
            ).astype(STR)
            secondary_row[sel] = add_coverage(
                sel, pay2.astype(np.int64), np.full(len(sel), "18", dtype=STR), 2, plan2
            )
        sel = np.flatnonzero(sec_commercial)
        if len(sel):
            comm = [i for i, p in enumerate(PAYERS) if p.payer_type == COMMERCIAL]
            pay2 = np.array(comm)[_choice(rng, len(sel), [PAYERS[i].weight for i in comm])]
            rel2 = np.where(age[sel] < 19, "19", "01").astype(STR)
            secondary_row[sel] = add_coverage(sel, pay2.astype(np.int64), rel2, 2)

        # Encounters: every patient once, the rest spread by a visit propensity that
        # grows with age.
        propensity = rng.gamma(2.0, 1.0, n_pat) * (1.0 + age / 80.0)
        extra = (
            rng.choice(n_pat, n - n_pat, p=propensity / propensity.sum())
            if n > n_pat
            else np.zeros(0, dtype=np.int64)
        )
        patient = rng.permutation(np.concatenate([np.arange(n_pat), extra]).astype(np.int64))
        patient = patient[:n]
        setting = _choice(rng, n, SETTING_WEIGHTS)
        e_payer = payer[patient]
        e_ptype = ptype[patient]
        e_birth = people.birth[patient]

        # Defects: one per defective encounter; payer defects only where a payer exists.
        defect = np.full(n, -1, dtype=np.int64)
        is_def = rng.random(n) < self.defect_rate
        draw = rng.integers(0, len(DEFECTS), n)
        redraw = PAYER_FREE_DEFECTS[rng.integers(0, len(PAYER_FREE_DEFECTS), n)]
        needs_payer = np.isin(draw, PAYER_DEFECTS)
        too_young_for_old_dos = (draw == D_FILING_LIMIT) & (e_birth > as_of - 2 * 366)
        draw = np.where((needs_payer & (e_ptype == SELF_PAY)) | too_young_for_old_dos, redraw, draw)
        defect[is_def] = draw[is_def]

        # Service dates.
        lower = np.maximum(as_of - CLEAN_WINDOW_DAYS, e_birth + 7)
        upper = np.full(n, as_of - 1, dtype=np.int64)
        tfd = PAYERS_TFD[e_payer]
        future = defect == D_FUTURE_DOS
        late = defect == D_FILING_LIMIT
        lower = np.where(future, as_of + 1, np.where(late, as_of - tfd - 60, lower))
        upper = np.where(future, as_of + 60, np.where(late, as_of - tfd - 1, upper))
        dos = (lower + (rng.random(n) * (upper - lower + 1)).astype(np.int64)).astype(np.int64)
        # Offices keep weekday hours: a weekend date moves to a weekday of the same week,
        # or of the next one when that would leave the window.
        wd = _weekday(dos)
        back = dos - (wd - 4) - rng.integers(0, 5, n)
        ahead = dos + (7 - wd) + rng.integers(0, 5, n)
        moved = np.where(back >= lower, back, ahead)
        weekend = np.isin(setting, WEEKDAY_SETTINGS) & (wd >= 5)
        dos = np.where(weekend & (moved >= lower) & (moved <= upper), moved, dos).astype(np.int64)
        age_dos = _age_years(e_birth, dos)

        # Medicare pays no 9939x: under-65 beneficiaries get a problem visit instead; and
        # a patient has at most one preventive visit in the window.
        setting = np.where(
            (setting == S_PREVENTIVE) & (e_ptype == MEDICARE) & (age_dos < 65), S_OFFICE, setting
        )
        prev = np.flatnonzero(setting == S_PREVENTIVE)
        _, first_prev = np.unique(patient[prev], return_index=True)
        repeat = np.ones(len(prev), dtype=bool)
        repeat[first_prev] = False
        setting[prev[repeat]] = S_OFFICE

        # Scenario per encounter.
        cat = self.cat
        e_sex = people.sex[patient]
        weights = cat.scen_setting_w[:, setting].T.copy()
        eligible = (
            (age_dos[:, None] >= cat.scen_min_age[None, :])
            & (age_dos[:, None] <= cat.scen_max_age[None, :])
            & ((cat.scen_sex[None, :] == "") | (cat.scen_sex[None, :] == e_sex[:, None]))
            & (
                (cat.scen_payer[None, :] == 0)
                | ((cat.scen_payer[None, :] == 1) & (e_ptype[:, None] == MEDICARE))
                | ((cat.scen_payer[None, :] == 2) & (e_ptype[:, None] != MEDICARE))
            )
        )
        weights *= eligible
        scen = _row_sample(rng, weights)
        side = rng.integers(0, 2, n)  # 0 right, 1 left

        # Providers.
        billing, rendering, facility, pos = self._providers(setting, scen, age_dos)

        # New patient: first encounter with that billing organisation in this extract, for
        # a share of patients.
        key = patient * len(self.dir.rows) + billing
        order = np.lexsort((np.arange(n), dos, key))
        first = np.ones(n, dtype=bool)
        first[order[1:]] = key[order[1:]] != key[order[:-1]]
        new_share = np.zeros(n)
        for s, share in NEW_PATIENT_SHARE.items():
            new_share[setting == s] = share
        is_new = first & (rng.random(n) < new_share)

        lines, visit_code = self._lines(setting, scen, side, age_dos, e_sex, e_ptype, dos, is_new)
        dx = self._diagnoses(scen, side, age_dos, e_sex, lines)
        self._pointers(lines, dx)

        # Encounter-level defects that swap a referenced row.
        pat_ids_start = self.counters.patients
        cov = coverage.stacked()
        e_primary = primary_row[patient]
        e_secondary = secondary_row[patient]
        defect_rows: list[pd.DataFrame] = []
        for d, name in ((D_MISSING_MEMBER_ID, "missing"), (D_COVERAGE_NOT_ACTIVE, "inactive")):
            sel = np.flatnonzero(defect == d)
            if not len(sel):
                continue
            src = e_primary[sel]
            member = cov["member"][src].copy()
            eff = cov["effective"][src].copy()
            end = cov["end"][src].copy()
            if name == "missing":
                member[:] = ""
            else:
                ended = rng.random(len(sel)) < 0.5
                end = np.where(ended, dos[sel] - rng.integers(1, 90, len(sel)), end)
                eff = np.where(
                    ended, np.minimum(eff, end - 365), dos[sel] + rng.integers(1, 45, len(sel))
                )
                end = np.where(ended, end, NO_DATE)
            new_rows = coverage.add(
                person=cov["person"][src],
                payer=cov["payer"][src],
                plan=cov["plan"][src],
                member=member.astype(STR),
                group=cov["group"][src],
                subscriber=cov["subscriber"][src],
                relationship=cov["relationship"][src],
                effective=eff.astype(np.int64),
                end=end.astype(np.int64),
                order=cov["order"][src],
            )
            e_primary[sel] = new_rows
            defect_rows.append(pd.DataFrame({"enc": sel, "defect": d, "cov_row": new_rows}))

        sel = np.flatnonzero(defect == D_INVALID_NPI)
        bad_provider = np.full(n, -1, dtype=np.int64)
        if len(sel):
            on_billing = rng.random(len(sel)) < 0.3
            bad_r = self.dir.bad_rendering[rng.integers(0, BAD_RENDERING, len(sel))]
            bad_b = np.array([self.dir.bad_clone[b] for b in billing[sel].tolist()], dtype=np.int64)
            rendering[sel] = np.where(on_billing, rendering[sel], bad_r)
            billing[sel] = np.where(on_billing, bad_b, billing[sel])
            bad_provider[sel] = np.where(on_billing, bad_b, bad_r)
            self.used_bad.update(bad_provider[sel].tolist())

        self._line_defects(defect, lines, dx)

        # ---- ids and formatting -----------------------------------------------------
        enc_no = self.counters.encounters + 1 + np.arange(n, dtype=np.int64)
        enc_id = _ids("E", enc_no, 9)
        everyone = _People.concat([people, *extra_people])
        person_no = pat_ids_start + 1 + np.arange(n_people, dtype=np.int64)
        person_id = _ids("P", person_no, 8)

        cov = coverage.stacked()
        # Coverage ids follow the person then the coverage order, so a patient's rows sit
        # together; a defect's dedicated copy comes right after the row it copies.
        n_cov = len(cov["person"])
        cov_sort = np.lexsort((np.arange(n_cov), cov["order"], cov["person"]))
        cov_no = np.empty(n_cov, dtype=np.int64)
        cov_no[cov_sort] = self.counters.coverages + 1 + np.arange(n_cov, dtype=np.int64)
        cov_id = _ids("CV", cov_no, 8)

        provider_ids = self.dir.provider_ids()
        institutional = np.isin(setting, INSTITUTIONAL_SETTINGS)
        visit_type = np.select(
            [
                setting == S_OFFICE,
                setting == S_PREVENTIVE,
                setting == S_TELEHEALTH,
                setting == S_URGENT,
                setting == S_PROCEDURE,
                setting == S_HOP,
            ],
            [
                np.where(
                    np.isin(visit_code, cat.procs(OFFICE_NEW[0])),
                    "office_new",
                    "office_established",
                ),
                "preventive",
                "telehealth",
                "urgent_care",
                "procedure",
                "hospital_outpatient",
            ],
            "emergency",
        ).astype(STR)
        encounters_tbl = {
            "encounter_id": enc_id,
            "patient_id": person_id[patient],
            "service_date": _dates(dos),
            "visit_type": visit_type,
            "claim_type": np.where(institutional, "institutional", "professional").astype(STR),
            "place_of_service": pos,
            "type_of_bill": np.where(institutional, "0131", "").astype(STR),
            "billing_provider_id": provider_ids[billing],
            "rendering_provider_id": provider_ids[rendering],
            "facility_provider_id": np.where(
                facility >= 0, provider_ids[np.maximum(facility, 0)], ""
            ).astype(STR),
            "primary_coverage_id": np.where(
                e_primary >= 0, cov_id[np.maximum(e_primary, 0)], ""
            ).astype(STR),
            "secondary_coverage_id": np.where(
                e_secondary >= 0, cov_id[np.maximum(e_secondary, 0)], ""
            ).astype(STR),
        }

        patients_tbl = {
            "patient_id": person_id,
            "mrn": np.strings.zfill(((person_no * 7919 + 1000003) % 10**8).astype(STR), 8),
            "last_name": everyone.last,
            "first_name": everyone.first,
            "middle_initial": everyone.middle,
            "sex": everyone.sex,
            "birth_date": _dates(everyone.birth),
            "address_line1": everyone.addr1,
            "address_line2": everyone.addr2,
            "city": everyone.city,
            "state": everyone.state,
            "zip": everyone.zip,
            "phone": everyone.phone,
        }

        cov_order = cov_sort
        coverages_tbl = {
            "coverage_id": cov_id[cov_order],
            "patient_id": person_id[cov["person"][cov_order]],
            "payer_id": _s(p.payer_id for p in PAYERS)[cov["payer"][cov_order]],
            "plan_name": cov["plan"][cov_order],
            "member_id": cov["member"][cov_order],
            "group_number": cov["group"][cov_order],
            "subscriber_id": person_id[cov["subscriber"][cov_order]],
            "relationship_to_subscriber": cov["relationship"][cov_order],
            "effective_date": _dates(cov["effective"][cov_order]),
            "end_date": _dates(cov["end"][cov_order]),
            "coverage_order": _ints(cov["order"][cov_order]),
        }

        # Charges: sort by encounter and line number, then number the ids.
        ln = lines
        charge_no = self.counters.charges + 1 + np.arange(len(ln.enc), dtype=np.int64)
        charge_id = _ids("CH", charge_no, 10)
        mods = _s(["", *MODIFIER_LIST])
        charges_tbl = {
            "charge_id": charge_id,
            "encounter_id": enc_id[ln.enc],
            "line_number": _ints(ln.line_number),
            "service_date": _dates(dos[ln.enc]),
            "procedure_code": _s(cat.proc_codes)[ln.code],
            "modifier_1": mods[ln.mod1],
            "modifier_2": mods[ln.mod2],
            "modifier_3": np.full(len(ln.enc), "", dtype=STR),
            "modifier_4": np.full(len(ln.enc), "", dtype=STR),
            "units": _ints(ln.units),
            "charge_amount": _money(ln.cents),
            "revenue_code": np.where(institutional[ln.enc], cat.revenue[ln.code], "").astype(STR),
            "diagnosis_pointer_1": _ints(ln.ptr[:, 0], 1),
            "diagnosis_pointer_2": _ints(ln.ptr[:, 1], 1),
            "diagnosis_pointer_3": _ints(ln.ptr[:, 2], 1),
            "diagnosis_pointer_4": _ints(ln.ptr[:, 3], 1),
        }

        dx_text = _s(cat.dx_codes)[dx.code]
        if dx.malformed is not None:
            bad = dx.malformed >= 0
            dx_text[bad] = _s(MALFORMED_ICD10)[dx.malformed[bad]]
        diagnoses_tbl = {
            "encounter_id": enc_id[dx.enc],
            "diagnosis_sequence": _ints(dx.seq),
            "icd10_code": dx_text,
        }

        # ---- answer key ---------------------------------------------------------------
        keys: list[pd.DataFrame] = []

        def key_rows(d: int, table: str, row_key: StrArray, enc: IntArray) -> None:
            if len(enc):
                keys.append(
                    pd.DataFrame(
                        {
                            "defect": DEFECTS[d],
                            "table_name": table,
                            "row_key": row_key.astype(object),
                            "encounter_id": enc_id[enc].astype(object),
                        }
                    )
                )

        for part in defect_rows:
            d = int(part["defect"].iloc[0])
            key_rows(d, "coverages", cov_id[part["cov_row"].to_numpy()], part["enc"].to_numpy())
        sel = np.flatnonzero(defect == D_INVALID_NPI)
        key_rows(D_INVALID_NPI, "providers", provider_ids[bad_provider[sel]], sel)
        for d in (D_BAD_POINTER, D_ZERO_CHARGE, D_DUPLICATE_LINE):
            rows = np.flatnonzero(ln.defect_line == d)
            key_rows(d, "charges", charge_id[rows], ln.enc[rows])
        if dx.malformed is not None:
            rows = np.flatnonzero(dx.malformed >= 0)
            key_rows(
                D_MALFORMED_ICD,
                "diagnoses",
                np.strings.add(np.strings.add(enc_id[dx.enc[rows]], ":"), dx.seq[rows].astype(STR)),
                dx.enc[rows],
            )
        for d in (D_FUTURE_DOS, D_FILING_LIMIT):
            sel = np.flatnonzero(defect == d)
            key_rows(d, "encounters", enc_id[sel], sel)
        answer = (
            pd.concat(keys, ignore_index=True)
            if keys
            else pd.DataFrame(columns=list(schema.ANSWER_KEY_COLUMNS))
        )

        self.counters.patients += n_people
        self.counters.coverages += n_cov
        self.counters.encounters += n
        self.counters.charges += len(ln.enc)
        counts = {name: int((defect == d).sum()) for d, name in enumerate(DEFECTS)}
        return _BlockResult(
            tables={
                "patients": patients_tbl,
                "coverages": coverages_tbl,
                "encounters": encounters_tbl,
                "charges": charges_tbl,
                "diagnoses": diagnoses_tbl,
            },
            answer_key=answer,
            used_bad_providers=set(self.used_bad),
            total_cents=int(ln.cents.sum()),
            defect_counts=counts,
        )

    # -- providers ------------------------------------------------------------------------

    def _providers(
        self, setting: IntArray, scen: IntArray, age: IntArray
    ) -> tuple[IntArray, IntArray, IntArray, StrArray]:
        rng, n, d = self.rng, len(setting), self.dir
        pool = np.full(n, "", dtype=object)
        clinic = np.isin(setting, (S_OFFICE, S_PREVENTIVE, S_TELEHEALTH, S_PROCEDURE))
        peds = clinic & (age < 18) & (rng.random(n) < 0.85)
        obgyn = clinic & np.array([SCENARIOS[s].pool == "obgyn" for s in scen.tolist()], dtype=bool)
        pool[clinic] = "pc_adult"
        pool[peds] = "peds"
        pool[obgyn] = "obgyn"
        pool[setting == S_URGENT] = "uc"
        pool[np.isin(setting, (S_ED_PROF, S_ED_INST))] = "ed"
        pool[setting == S_HOP] = "hosp"
        rendering = np.zeros(n, dtype=np.int64)
        billing = np.zeros(n, dtype=np.int64)
        for name, members in d.pools.items():
            sel = np.flatnonzero(pool == name)
            rendering[sel] = members[rng.integers(0, len(members), len(sel))]
            if name in POOL_BILLING:
                billing[sel] = d.org[POOL_BILLING[name]]
        hospital = (rng.random(n) < 0.3).astype(np.int64)  # 70 % Sierra Oaks
        hosp_billing = np.array([d.org[h[0]] for h in HOSPITALS])[hospital]
        hosp_main = np.array([d.org[h[1]] for h in HOSPITALS])[hospital]
        inst = np.isin(setting, INSTITUTIONAL_SETTINGS)
        billing = np.where(inst, hosp_billing, billing)
        facility = np.full(n, -1, dtype=np.int64)
        ed = np.isin(setting, (S_ED_PROF, S_ED_INST))
        facility = np.where(ed | inst, hosp_main, facility)
        off_campus = (setting == S_HOP) & (hospital == 0) & (rng.random(n) < 0.4)
        facility = np.where(off_campus, d.org[PAVILION], facility)
        tele_pos = np.where(rng.random(n) < 0.75, "10", "02")
        pos = np.select(
            [setting == S_TELEHEALTH, setting == S_URGENT, ed, off_campus, setting == S_HOP],
            [tele_pos, "20", "23", "19", "22"],
            "11",
        ).astype(STR)
        return billing, rendering, facility, pos

    # -- charge lines ---------------------------------------------------------------------

    def _lines(
        self,
        setting: IntArray,
        scen: IntArray,
        side: IntArray,
        age: IntArray,
        sex: StrArray,
        ptype: IntArray,
        dos: IntArray,
        is_new: BoolArray,
    ) -> tuple[_Lines, IntArray]:
        """Charge lines of every encounter, and the visit code of each (-1 when none)."""
        rng, cat, n = self.rng, self.cat, len(setting)
        parts = _LineParts()
        context = _s(SETTING_CONTEXT)[setting]
        medicare = ptype == MEDICARE
        _, month, _ = _ymd(dos)
        flu_season = (month >= 9) | (month <= 3)

        # Visit line.
        visit_kind = _s(sc.visit for sc in SCENARIOS)[scen]
        acuity = np.array([sc.acuity for sc in SCENARIOS], dtype=np.int64)[scen]
        visit_code = np.full(n, -1, dtype=np.int64)

        def levels(sel: IntArray, table: tuple[tuple[str, ...], tuple[float, ...]]) -> None:
            codes = cat.procs(table[0])
            visit_code[sel] = codes[_choice(rng, len(sel), table[1])]

        em = visit_kind == "em"
        office_like = np.isin(setting, (S_OFFICE, S_URGENT, S_PROCEDURE, S_TELEHEALTH))
        # Procedure visits bill the E/M only half the time (the rest is procedure only).
        em_wanted = em & ~((setting == S_PROCEDURE) & (rng.random(n) < 0.5))
        new_em = em_wanted & office_like & is_new & (setting != S_TELEHEALTH)
        levels(np.flatnonzero(new_em), OFFICE_NEW)
        est = em_wanted & office_like & ~new_em
        levels(np.flatnonzero(est & (acuity == 0)), OFFICE_EST)
        levels(np.flatnonzero(est & (acuity == 1)), OFFICE_EST_ACUTE)
        ed = em_wanted & np.isin(setting, (S_ED_PROF, S_ED_INST))
        levels(np.flatnonzero(ed & (acuity == 0)), ED_LEVELS)
        levels(np.flatnonzero(ed & (acuity == 1)), ED_LEVELS_ACUTE)
        visit_code[em_wanted & (setting == S_HOP)] = cat.proc("G0463")
        prev = visit_kind == "preventive"
        band = np.searchsorted(np.array(PREVENTIVE_BANDS), age, side="right") - 1
        prev_codes = np.where(
            is_new, cat.procs(PREVENTIVE_NEW)[band], cat.procs(PREVENTIVE_EST)[band]
        )
        visit_code = np.where(prev, prev_codes, visit_code)
        awv = visit_kind == "awv"
        awv_codes = np.where(rng.random(n) < 0.1, cat.proc("G0438"), cat.proc("G0439"))
        visit_code = np.where(awv, awv_codes, visit_code)
        has_visit = visit_code >= 0
        sel = np.flatnonzero(has_visit)
        tele_mod = np.where(rng.random(n) < 0.08, MOD["93"], MOD["95"])
        parts.add(
            enc=sel,
            code=visit_code[sel],
            kind=K_VISIT,
            ptr=P_ALL,
            mod1=np.where(setting[sel] == S_TELEHEALTH, tele_mod[sel], 0),
        )

        # A problem addressed at a preventive visit is a second, modifier-25 E/M.
        problem = (prev | awv) & (rng.random(n) < 0.08)
        sel = np.flatnonzero(problem)
        parts.add(
            enc=sel,
            code=cat.procs(("99213", "99214"))[rng.integers(0, 2, len(sel))],
            kind=K_EXTRA,
            ptr=P_ALL,
            mod1=np.full(len(sel), MOD["25"]),
        )
        # Urgent care on a weekend adds the after-hours code half the time.
        weekend = _weekday(dos) >= 5
        sel = np.flatnonzero((setting == S_URGENT) & weekend & (rng.random(n) < 0.5))
        parts.add(enc=sel, code=np.full(len(sel), cat.proc("99051")), kind=K_EXTRA, ptr=P_PRINCIPAL)

        # Scenario add-ons.
        order = np.argsort(scen, kind="stable")
        bounds = np.searchsorted(scen[order], np.arange(len(SCENARIOS) + 1))
        for s_i, sc in enumerate(SCENARIOS):
            members = order[bounds[s_i] : bounds[s_i + 1]]
            if not len(members):
                continue
            got = np.zeros(len(members), dtype=bool)
            got_proc = np.zeros(len(members), dtype=bool)
            for addon in sc.addons:
                take = rng.random(len(members)) < addon.prob
                take &= self._addon_ok(addon, members, context, age, sex, flu_season)
                got |= take
                if addon.kind == "proc":
                    got_proc |= take
                self._add_addon(parts, addon, members[take], side)
            if sc.fallback is not None:
                # Bill the fallback when the visit would otherwise be empty, or when a
                # procedure visit drew no procedure.
                ok = self._addon_ok(sc.fallback, members, context, age, sex, flu_season)
                empty = ~got & ~has_visit[members]
                no_proc = (setting[members] == S_PROCEDURE) & ~got_proc
                self._add_addon(parts, sc.fallback, members[ok & (empty | no_proc)], side)

        members = np.flatnonzero(setting == S_ED_INST)
        for addon in ED_FACILITY_ADDONS:
            take = rng.random(len(members)) < addon.prob
            take &= self._addon_ok(addon, members, context, age, sex, flu_season)
            self._add_addon(parts, addon, members[take], side)

        lines = self._finish_lines(parts.build(), scen, age, sex, medicare)
        if (np.bincount(lines.enc, minlength=n) == 0).any():
            raise RuntimeError("an encounter has no charge line: the scenario catalogue has a gap")
        return lines, visit_code

    def _addon_ok(
        self,
        addon: Addon,
        members: IntArray,
        context: StrArray,
        age: IntArray,
        sex: StrArray,
        flu_season: BoolArray,
    ) -> BoolArray:
        ok = np.isin(context[members], list(addon.contexts))
        ok &= (age[members] >= addon.min_age) & (age[members] <= addon.max_age)
        if addon.sex:
            ok &= sex[members] == addon.sex
        if addon.flu_season:
            ok &= flu_season[members]
        return np.asarray(ok, dtype=bool)

    def _add_addon(self, parts: _LineParts, addon: Addon, chosen: IntArray, side: IntArray) -> None:
        if not len(chosen):
            return
        rng, cat = self.rng, self.cat
        codes = cat.procs(addon.codes)[rng.integers(0, len(addon.codes), len(chosen))]
        units = rng.integers(addon.units[0], addon.units[1] + 1, len(chosen))
        mod1 = np.zeros(len(chosen), dtype=np.int64)
        if addon.modifier:
            mod1[:] = MOD[addon.modifier]
        if addon.lateral[0]:
            mod1 = np.where(side[chosen] == 0, MOD[addon.lateral[0]], MOD[addon.lateral[1]])
        kind = KIND_BY_NAME[addon.kind]
        ptr = P_LAB if kind == K_LAB else (P_Z23 if kind == K_VACCINE else P_PRINCIPAL)
        companion = cat.proc(addon.companion) if addon.companion else -1
        parts.add(
            enc=chosen,
            code=codes,
            kind=kind,
            ptr=ptr,
            units=units,
            mod1=mod1,
            companion=np.full(len(chosen), companion),
            distinct=addon.distinct and kind == K_PROC,
        )
        for code, lo, hi in addon.bundle:
            parts.add(
                enc=chosen,
                code=np.full(len(chosen), cat.proc(code)),
                kind=BUNDLE_KIND[code],
                ptr=P_PRINCIPAL,
                units=rng.integers(lo, hi + 1, len(chosen)),
            )

    def _finish_lines(
        self, ln: _Lines, scen: IntArray, age: IntArray, sex: StrArray, medicare: BoolArray
    ) -> _Lines:
        cat, rng = self.cat, self.rng
        # The seeds are the last word: drop lines whose code the patient cannot have.
        e_age, e_sex = age[ln.enc], sex[ln.enc]
        fits = (e_age >= cat.proc_min_age[ln.code]) & (e_age <= cat.proc_max_age[ln.code])
        fits &= (cat.proc_sex[ln.code] == "") | (cat.proc_sex[ln.code] == e_sex)
        ln = ln.subset(np.flatnonzero(fits))

        # One line per code and encounter (two add-ons can pick the same code).
        ln = ln.sorted()
        dup = np.zeros(len(ln.enc), dtype=bool)
        o = np.lexsort((np.arange(len(ln.enc)), ln.code, ln.enc))
        dup[o[1:]] = (ln.enc[o[1:]] == ln.enc[o[:-1]]) & (ln.code[o[1:]] == ln.code[o[:-1]])
        ln = ln.subset(np.flatnonzero(~dup))

        # Vaccine administration codes, and at most MAX_VACCINES vaccines per visit.
        vac = np.flatnonzero(ln.kind == K_VACCINE)
        vrank = _group_rank(ln.enc[vac])
        ln = ln.subset(np.setdiff1d(np.arange(len(ln.enc)), vac[vrank >= MAX_VACCINES]))
        vac = np.flatnonzero(ln.kind == K_VACCINE)
        if len(vac):
            enc_v = ln.enc[vac]
            code_v = _s(cat.proc_codes)[ln.code[vac]]
            flu = np.isin(code_v, FLU_VACCINES)
            pneumo = np.isin(code_v, PNEUMO_VACCINES)
            child = age[enc_v] < 19
            med = medicare[enc_v]
            other = ~(med & (flu | pneumo)) & ~child
            # Rank among the vaccines that use 90471/90472 (first one 90471, the rest 90472).
            orank = np.zeros(len(vac), dtype=np.int64)
            osel = np.flatnonzero(other)
            orank[osel] = _group_rank(enc_v[osel])
            comp = np.select(
                [child, med & flu, med & pneumo, orank == 0],
                [cat.proc("90460"), cat.proc("G0008"), cat.proc("G0009"), cat.proc("90471")],
                cat.proc("90472"),
            )
            ln.companion[vac] = comp

        # Keep at most MAX_LINES lines counting the companion lines a kept line brings in.
        ln = ln.sorted()
        comp_key = np.where(ln.companion >= 0, ln.companion, -1)
        o = np.lexsort((np.arange(len(ln.enc)), comp_key, ln.enc))
        first_comp = np.zeros(len(ln.enc), dtype=bool)
        starts = np.ones(len(o), dtype=bool)
        starts[1:] = (ln.enc[o[1:]] != ln.enc[o[:-1]]) | (comp_key[o[1:]] != comp_key[o[:-1]])
        first_comp[o] = starts & (comp_key[o] >= 0)
        cost = 1 + first_comp.astype(np.int64)
        csum = np.cumsum(cost)
        enc_start = np.searchsorted(ln.enc, ln.enc, side="left")
        before = np.where(enc_start > 0, csum[np.maximum(enc_start - 1, 0)], 0)
        used = csum - before
        ln = ln.subset(np.flatnonzero(used <= MAX_LINES))

        # Companion lines: one per (encounter, companion code).
        has = np.flatnonzero(ln.companion >= 0)
        if len(has):
            frame = pd.DataFrame({"enc": ln.enc[has], "comp": ln.companion[has]})
            agg = frame.groupby(["enc", "comp"], sort=True).size().reset_index(name="count")
            comp_codes = _s(cat.proc_codes)[agg["comp"].to_numpy()]
            rule = np.array([COMPANIONS[c][0] for c in comp_codes.tolist()], dtype=object)
            prio = np.array([COMPANIONS[c][1] for c in comp_codes.tolist()], dtype=np.int64)
            ptr = np.array([COMPANIONS[c][2] for c in comp_codes.tolist()], dtype=np.int64)
            count = agg["count"].to_numpy().astype(np.int64)
            ln = _Lines.concat(
                [
                    ln,
                    _Lines.new(
                        enc=agg["enc"].to_numpy().astype(np.int64),
                        code=agg["comp"].to_numpy().astype(np.int64),
                        kind=prio,
                        ptr_rule=ptr,
                        units=np.where(rule == "count", count, 1).astype(np.int64),
                        seq_base=10**9,
                    ),
                ]
            )
        ln = ln.sorted()

        # Modifier 25 on the E/M when a procedure or injection is billed the same day.
        em_codes = cat.procs(EM_CODES)
        is_em_line = np.isin(ln.code, em_codes) & (ln.kind == K_VISIT)
        trigger = (ln.kind == K_PROC) | np.isin(ln.code, cat.procs(TRIGGER_25))
        enc_trigger = np.zeros(self.n, dtype=bool)
        enc_trigger[ln.enc[trigger]] = True
        add25 = is_em_line & enc_trigger[ln.enc] & (ln.mod1 == 0)
        ln.mod1 = np.where(add25, MOD["25"], ln.mod1)

        # G2211 (longitudinal care add-on) for Medicare office and telehealth E/M without
        # modifier 25 in chronic-care scenarios.
        chronic = np.array([sc.chronic for sc in SCENARIOS], dtype=bool)
        office_em = np.isin(ln.code, cat.procs(EM_OFFICE_CODES)) & (ln.kind == K_VISIT)
        cand = np.flatnonzero(office_em & (ln.mod1 != MOD["25"]) & medicare[ln.enc])
        cand = cand[chronic[scen[ln.enc[cand]]]]
        cand = cand[rng.random(len(cand)) < 0.45]
        room = np.bincount(ln.enc, minlength=self.n) < MAX_LINES
        cand = cand[room[ln.enc[cand]]]
        if len(cand):
            k = len(cand)
            ln = _Lines.concat(
                [
                    ln,
                    _Lines.new(
                        enc=ln.enc[cand],
                        code=np.full(k, cat.proc("G2211"), dtype=np.int64),
                        kind=np.full(k, K_EXTRA, dtype=np.int64),
                        ptr_rule=np.full(k, P_ALL, dtype=np.int64),
                        units=np.ones(k, dtype=np.int64),
                        seq_base=2 * 10**9,
                    ),
                ]
            ).sorted()

        # A second distinct procedure takes XS (Medicare) or 59 (others).
        dsel = np.flatnonzero(ln.distinct)
        drank = _group_rank(ln.enc[dsel])
        later = dsel[drank >= 1]
        distinct_mod = np.where(medicare[ln.enc[later]], MOD["XS"], MOD["59"])
        empty1 = ln.mod1[later] == 0
        ln.mod1[later] = np.where(empty1, distinct_mod, ln.mod1[later])
        ln.mod2[later] = np.where(empty1, 0, distinct_mod)

        ln.line_number = (_group_rank(ln.enc) + 1).astype(np.int64)
        ln.cents = ln.units * cat.price_cents[ln.code]
        return ln

    # -- diagnoses ------------------------------------------------------------------------

    def _diagnoses(
        self, scen: IntArray, side: IntArray, age: IntArray, sex: StrArray, lines: _Lines
    ) -> _Dx:
        rng, cat, n = self.rng, self.cat, len(scen)
        p_right, p_left, p_count = cat.principal
        j = (rng.random(n) * p_count[scen]).astype(np.int64)
        principal = np.where(side == 0, p_right[scen, j], p_left[scen, j])
        enc_parts = [np.arange(n, dtype=np.int64)]
        code_parts = [principal]
        rank_parts = [np.zeros(n, dtype=np.int64)]

        has_vaccine = np.zeros(n, dtype=bool)
        has_vaccine[lines.enc[lines.kind == K_VACCINE]] = True
        sel = np.flatnonzero(has_vaccine)
        enc_parts.append(sel)
        code_parts.append(np.full(len(sel), cat.dx_index["Z23"], dtype=np.int64))
        rank_parts.append(np.ones(len(sel), dtype=np.int64))

        r_table, r_count = cat.required
        sel = np.flatnonzero(r_count[scen] > 0)
        k = (rng.random(len(sel)) * r_count[scen[sel]]).astype(np.int64)
        enc_parts.append(sel)
        code_parts.append(r_table[scen[sel], k])
        rank_parts.append(np.full(len(sel), 2, dtype=np.int64))

        chronic = np.array([sc.chronic for sc in SCENARIOS], dtype=bool)[scen] & (age >= 30)
        a_table, a_count = cat.secondary
        b_table, b_count = cat.secondary_chronic
        pool_n = np.where(chronic, b_count[scen], a_count[scen])
        wanted = _choice(rng, n, (0.30, 0.32, 0.20, 0.12, 0.06))
        for slot in range(4):
            u = rng.random(n)
            sel = np.flatnonzero((wanted > slot) & (pool_n > 0))
            k = (u[sel] * pool_n[sel]).astype(np.int64)
            # (np.where evaluates both tables, so keep k inside the narrower one.)
            code = np.where(
                chronic[sel],
                b_table[scen[sel], k],
                a_table[scen[sel], np.minimum(k, a_table.shape[1] - 1)],
            )
            enc_parts.append(sel)
            code_parts.append(code.astype(np.int64))
            rank_parts.append(np.full(len(sel), 3 + slot, dtype=np.int64))

        enc = np.concatenate(enc_parts)
        code = np.concatenate(code_parts)
        rank = np.concatenate(rank_parts)
        # Sex-restricted secondary codes never reach a patient of the other sex.
        fits = (rank == 0) | (cat.dx_sex[code] == "") | (cat.dx_sex[code] == sex[enc])
        enc, code, rank = enc[fits], code[fits], rank[fits]
        o = np.lexsort((rank, enc))
        enc, code, rank = enc[o], code[o], rank[o]
        # Drop repeats of a code within the encounter (keep the first, highest ranked).
        o2 = np.lexsort((rank, code, enc))
        dup = np.zeros(len(enc), dtype=bool)
        dup[o2[1:]] = (enc[o2[1:]] == enc[o2[:-1]]) & (code[o2[1:]] == code[o2[:-1]])
        enc, code = enc[~dup], code[~dup]
        seq = _group_rank(enc) + 1
        count = np.bincount(enc, minlength=n).astype(np.int64)
        z23_seq = np.where(principal == cat.dx_index["Z23"], 1, 2).astype(np.int64)
        return _Dx(
            enc=enc,
            code=code,
            seq=seq.astype(np.int64),
            count=count,
            z23_seq=z23_seq,
            malformed=None,
        )

    def _pointers(self, ln: _Lines, dx: _Dx) -> None:
        rng = self.rng
        m = len(ln.enc)
        ndx = dx.count[ln.enc]
        ptr = np.zeros((m, 4), dtype=np.int64)
        for k in range(4):
            ptr[:, k] = np.where((ln.ptr_rule == P_ALL) & (ndx > k), k + 1, 0)
        single = (ln.ptr_rule == P_PRINCIPAL) | (ln.ptr_rule == P_LAB)
        ptr[:, 0] = np.where(single, 1, ptr[:, 0])
        ptr[:, 1] = np.where(
            (ln.ptr_rule == P_LAB) & (ndx >= 2) & (rng.random(m) < 0.5), 2, ptr[:, 1]
        )
        ptr[:, 0] = np.where(ln.ptr_rule == P_Z23, dx.z23_seq[ln.enc], ptr[:, 0])
        ln.ptr = ptr

    # -- line and diagnosis defects -------------------------------------------------------

    def _line_defects(self, defect: IntArray, ln: _Lines, dx: _Dx) -> None:
        rng, n = self.rng, len(defect)
        ln.defect_line = np.full(len(ln.enc), -1, dtype=np.int64)
        start = np.searchsorted(ln.enc, np.arange(n), side="left")
        count = np.bincount(ln.enc, minlength=n)

        def one_line(sel: IntArray) -> IntArray:
            return (start[sel] + (rng.random(len(sel)) * count[sel]).astype(np.int64)).astype(
                np.int64
            )

        sel = np.flatnonzero((defect == D_BAD_POINTER) & (count > 0))
        rows = one_line(sel)
        empty = rng.random(len(rows)) < 0.5
        beyond = np.minimum(dx.count[sel] + rng.integers(1, 4, len(sel)), 12)
        ln.ptr[rows] = np.where(empty[:, None], 0, ln.ptr[rows])
        ln.ptr[rows, 0] = np.where(empty, 0, beyond)
        ln.defect_line[rows] = D_BAD_POINTER

        sel = np.flatnonzero((defect == D_ZERO_CHARGE) & (count > 0))
        rows = one_line(sel)
        zero = rng.random(len(rows)) < 0.5
        ln.cents[rows] = np.where(zero, 0, -ln.cents[rows])
        ln.defect_line[rows] = D_ZERO_CHARGE

        sel = np.flatnonzero((defect == D_DUPLICATE_LINE) & (count > 0))
        rows = one_line(sel)
        if len(rows):
            copy = ln.subset(rows)
            copy.line_number = (count[sel] + 1).astype(np.int64)
            copy.defect_line = np.full(len(rows), D_DUPLICATE_LINE, dtype=np.int64)
            copy.seq = np.arange(len(rows), dtype=np.int64) + 3 * 10**9
            merged = _Lines.concat([ln, copy])
            o = np.lexsort((merged.line_number, merged.enc))
            merged = merged.subset(o)
            for name, value in vars(merged).items():
                setattr(ln, name, value)

        sel = np.flatnonzero((defect == D_MALFORMED_ICD) & (dx.count > 0))
        dstart = np.searchsorted(dx.enc, sel, side="left")
        rows = dstart + (rng.random(len(sel)) * dx.count[sel]).astype(np.int64)
        dx.malformed = np.full(len(dx.enc), -1, dtype=np.int64)
        dx.malformed[rows] = rng.integers(0, len(MALFORMED_ICD10), len(rows))


# ---------------------------------------------------------------------------------------
# Line and diagnosis containers
# ---------------------------------------------------------------------------------------

MODIFIER_LIST = ("25", "95", "93", "QW", "RT", "LT", "50", "XS", "59", "T5", "TA")
MOD = {m: i + 1 for i, m in enumerate(MODIFIER_LIST)}
PAYERS_TFD = np.array([p.timely_filing_days for p in PAYERS], dtype=np.int64)
PAYERS_TYPE = np.array([p.payer_type for p in PAYERS], dtype=np.int64)


@dataclass
class _Lines:
    """The charge lines of a block as parallel arrays, one entry per line.

    ``line_number``, ``cents``, ``ptr`` and ``defect_line`` are filled once the lines are
    final; until then they are empty, and ``subset`` and ``concat`` carry only the fields that
    have one entry per line.
    """

    enc: IntArray  # encounter number within the block
    code: IntArray  # index into the procedure code list
    kind: IntArray  # K_* place on the claim
    ptr_rule: IntArray  # P_* pointer rule
    units: IntArray
    mod1: IntArray  # index into ["", *MODIFIER_LIST]
    mod2: IntArray
    companion: IntArray  # procedure index of the companion line it needs, or -1
    distinct: BoolArray  # a procedure that takes XS / 59 when it is not the first
    seq: IntArray  # creation order, the tie-breaker for the claim order
    line_number: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cents: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    ptr: IntArray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))
    defect_line: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def empty(cls) -> _Lines:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, z, z, z, z, np.zeros(0, dtype=bool), z)

    @classmethod
    def new(
        cls,
        *,
        enc: IntArray,
        code: IntArray,
        kind: IntArray,
        ptr_rule: IntArray,
        units: IntArray,
        seq_base: int,
    ) -> _Lines:
        """Lines added after the add-ons (companions, G2211): no modifiers, not distinct.

        ``seq_base`` keeps them after the add-on lines of the same kind."""
        k = len(enc)
        zeros = np.zeros(k, dtype=np.int64)
        return cls(
            enc,
            code,
            kind,
            ptr_rule,
            units,
            zeros,
            zeros.copy(),
            np.full(k, -1, dtype=np.int64),
            np.zeros(k, dtype=bool),
            seq_base + np.arange(k, dtype=np.int64),
        )

    def _row_fields(self) -> list[str]:
        m = len(self.enc)
        return [f.name for f in fields(self) if len(getattr(self, f.name)) == m]

    def subset(self, idx: IntArray) -> _Lines:
        out = _Lines.empty()
        for f in self._row_fields():
            setattr(out, f, getattr(self, f)[idx])
        return out

    def sorted(self) -> _Lines:
        return self.subset(np.lexsort((self.seq, self.kind, self.enc)))

    @staticmethod
    def concat(parts: Sequence[_Lines]) -> _Lines:
        shared = [f for f in parts[0]._row_fields() if all(f in p._row_fields() for p in parts)]
        out = _Lines.empty()
        for f in shared:
            setattr(out, f, np.concatenate([getattr(p, f) for p in parts]))
        return out


class _LineParts:
    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []
        self.next_seq = 0

    def add(
        self,
        *,
        enc: IntArray,
        code: IntArray,
        kind: int,
        ptr: int,
        units: IntArray | None = None,
        mod1: IntArray | None = None,
        companion: IntArray | None = None,
        distinct: bool = False,
    ) -> None:
        m = len(enc)
        if not m:
            return
        self.parts.append(
            {
                "enc": enc.astype(np.int64),
                "code": np.asarray(code, dtype=np.int64),
                "kind": np.full(m, kind, dtype=np.int64),
                "ptr_rule": np.full(m, ptr, dtype=np.int64),
                "units": np.ones(m, dtype=np.int64) if units is None else units.astype(np.int64),
                "mod1": np.zeros(m, dtype=np.int64)
                if mod1 is None
                else np.asarray(mod1, dtype=np.int64),
                "mod2": np.zeros(m, dtype=np.int64),
                "companion": np.full(m, -1, dtype=np.int64)
                if companion is None
                else companion.astype(np.int64),
                "distinct": np.full(m, distinct, dtype=bool),
                "seq": self.next_seq + np.arange(m, dtype=np.int64),
            }
        )
        self.next_seq += m

    def build(self) -> _Lines:
        ln = _Lines.empty()
        if self.parts:
            for key in self.parts[0]:
                setattr(ln, key, np.concatenate([p[key] for p in self.parts]))
        return ln.sorted()


@dataclass
class _Dx:
    enc: IntArray
    code: IntArray
    seq: IntArray
    count: IntArray
    z23_seq: IntArray
    malformed: IntArray | None

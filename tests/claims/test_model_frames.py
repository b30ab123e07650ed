"""``claims_from_frames``: the claims it builds and the rows it refuses. It reads the frames
column by column and shares what repeats between claims; these tests pin down that the result
and the first refusal are those of a plain row-by-row reading."""

from __future__ import annotations

import pandas as pd
import pytest

from revcycle.claims.model import Claim, ClaimDataError, claims_from_frames
from tests.claims.support import (
    DEPENDENT,
    FACILITY,
    frames_from_claims,
    institutional_claim,
    professional_claim,
)


def some_claims() -> list[Claim]:
    return [
        professional_claim("C0000000000000001"),
        professional_claim("C0000000000000002", patient=DEPENDENT, relationship_to_subscriber="19"),
        professional_claim("C0000000000000003", facility=FACILITY, place_of_service="22"),
        institutional_claim("C1000000000000001"),
        professional_claim("C0000000000000004"),
    ]


def test_claims_equal_the_claims_the_frames_were_made_from() -> None:
    claims = some_claims()
    built = list(claims_from_frames(*frames_from_claims(claims)))
    assert built == claims
    # What repeats is shared, not copied: same subscriber, payer and billing provider object.
    assert built[0].subscriber is built[4].subscriber
    assert built[0].payer is built[3].payer
    assert built[0].billing_provider is built[3].billing_provider


def test_the_first_bad_row_is_refused_with_its_own_message() -> None:
    claims_df, lines_df = frames_from_claims(some_claims())
    claims_df.loc[1, "payer_name"] = None  # the same payer is fine on row 0
    claims_df.loc[3, "member_id"] = "  "
    with pytest.raises(ClaimDataError, match=r"^claim C0000000000000002: payer_name is empty$"):
        list(claims_from_frames(claims_df, lines_df))
    claims_df.loc[1, "payer_name"] = "Acme Health"
    with pytest.raises(ClaimDataError, match=r"^claim C1000000000000001: member_id is empty$"):
        list(claims_from_frames(claims_df, lines_df))


def test_checks_run_in_row_order_whatever_the_kind() -> None:
    claims_df, lines_df = frames_from_claims(some_claims())
    claims_df.loc[2, "billing_provider_tin"] = None  # a shared part, first seen on row 0
    claims_df.loc[2, "line_count"] = 5  # checked before the billing provider on that row
    with pytest.raises(ClaimDataError, match="C0000000000000003: line_count 5 but 2 lines"):
        list(claims_from_frames(claims_df, lines_df))


def test_text_columns_of_other_types_are_read_as_text() -> None:
    # An object column may hold numbers: 1 and 1.0 are equal keys but different text.
    claims_df, lines_df = frames_from_claims(some_claims())
    claims_df["group_number"] = pd.Series([1, 1.0, " G1 ", None, float("nan")], dtype=object)
    built = list(claims_from_frames(claims_df, lines_df))
    assert [c.subscriber.group_number for c in built] == ["1", "1.0", "G1", None, None]


def test_pointers_that_are_not_whole_numbers_are_refused() -> None:
    claims_df, lines_df = frames_from_claims(some_claims())
    lines_df["diagnosis_pointer_1"] = lines_df["diagnosis_pointer_1"].astype("float64")
    lines_df.loc[1, "diagnosis_pointer_1"] = 1.5
    with pytest.raises(ValueError, match=r"not a whole number: 1\.5"):
        list(claims_from_frames(claims_df, lines_df))

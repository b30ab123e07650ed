"""Settings that come from the environment, with defaults for the simulated clearinghouse.

Until a real clearinghouse exists, every 837 goes to revcycle's simulated one (ISA15 ``T``).
A billing office sets its own identities with the variables below.
"""

from __future__ import annotations

import os

from revcycle.x12.envelope import SubmitterConfig


def submitter_from_env() -> SubmitterConfig:
    env = os.environ.get
    return SubmitterConfig(
        submitter_name=env("REVCYCLE_SUBMITTER_NAME", "REVCYCLE BILLING OFFICE"),
        submitter_id=env("REVCYCLE_SUBMITTER_ID", "REVCYCLE01"),
        contact_name=env("REVCYCLE_CONTACT_NAME", "BILLING DESK"),
        contact_phone=env("REVCYCLE_CONTACT_PHONE", "9165550100"),
        receiver_name=env("REVCYCLE_RECEIVER_NAME", "REVCYCLE SIMULATED CLEARINGHOUSE"),
        receiver_id=env("REVCYCLE_RECEIVER_ID", "RCSIMCH"),
        usage_indicator=env("REVCYCLE_ISA15", "T"),
    )

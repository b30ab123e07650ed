"""The simulated outside world: a clearinghouse and its payers, for demos and tests.

Nothing in this package talks to a real trading partner. :func:`answer_outbox` reads the 837
files the project wrote and answers them as a clearinghouse and payers would: 999
acknowledgments, 277CA claim acknowledgments and 835 remittances with denials, patient
responsibility, reversals, split claims, takebacks, interest and duplicate deliveries, all
deterministic from a seed and balanced to the cent. Claims sent to a secondary or tertiary
payer (SBR01 ``S``/``T``) are adjudicated after the primary payer's adjudication their COB
loops carry (:mod:`revcycle.sim.secondary`). See :mod:`revcycle.sim.clearinghouse` for a run,
:mod:`revcycle.sim.adjudicate` for the payment rules and
:class:`~revcycle.sim.config.SimConfig` for the rates.
"""

from revcycle.sim.clearinghouse import SimResult, answer_outbox
from revcycle.sim.config import ClaimRejection, DenialReason, SimConfig

__all__ = ["ClaimRejection", "DenialReason", "SimConfig", "SimResult", "answer_outbox"]

"""Review states, decision outcomes and condition states: the vocabulary shared by every module."""

from enum import StrEnum


class State(StrEnum):
    ANNOUNCED = "announced"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    NOT_APPLICABLE = "not_applicable"


OPEN_STATES = frozenset({State.ANNOUNCED, State.IN_REVIEW, State.NEEDS_INFO})
DECIDED_STATES = frozenset({State.APPROVED, State.APPROVED_WITH_CONDITIONS, State.REJECTED})
APPROVED_STATES = frozenset({State.APPROVED, State.APPROVED_WITH_CONDITIONS})
CLOSED_STATES = frozenset({State.WITHDRAWN, State.NOT_APPLICABLE})


class Outcome(StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"


class ConditionState(StrEnum):
    OPEN = "open"
    DONE = "done"
    WAIVED = "waived"


RISK_TIERS = ("low", "medium", "high", "critical")

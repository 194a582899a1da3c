"""Action, callback and block ids: one enum each, never scattered string literals."""

from enum import StrEnum


class ActionId(StrEnum):
    START_INTAKE = "review-start-intake"
    TAKE = "review-take"
    RELEASE = "review-release"
    DECIDE = "review-decide"
    ASK_INFO = "review-ask-info"
    NOT_A_PROJECT = "review-not-a-project"
    FAST_TRACK = "review-fast-track"
    CONDITION_DONE = "condition-done"
    NEW_REVIEW = "home-new-review"
    OPEN_REVIEW = "home-open-review"
    LIST_PAGE = "list-page"
    REOPEN = "review-reopen"


class CallbackId(StrEnum):
    INTAKE = "intake-modal"
    DECISION = "decision-modal"
    ASK_INFO = "ask-info-modal"


class ShortcutId(StrEnum):
    """Callback ids of the shortcuts in the manifest."""

    REQUEST_REVIEW = "request-security-review"  # on a message
    NEW_REVIEW = "new-security-review"  # global (the ⚡ menu)


class FunctionId(StrEnum):
    """Callback ids of the Workflow Builder steps (the manifest's `functions`)."""

    OPEN_REVIEW = "open_security_review"


class BlockId(StrEnum):
    TITLE = "title"
    SUMMARY = "summary"
    OWNER = "owner"
    GO_LIVE = "go_live"
    CLASSIFICATION = "data_classification"
    SENSITIVE = "sensitive_data"
    EXPOSURE = "exposure"
    HOSTING = "hosting"
    THIRD_PARTIES = "third_parties"
    USES_AI = "uses_ai"
    CHANGES_AUTH = "changes_auth"
    LINKS = "links"
    OUTCOME = "outcome"
    RATIONALE = "rationale"
    CONDITIONS = "conditions"
    RISK_TIER = "risk_tier"
    REGULATIONS = "regulations"
    COST_AVOIDED = "cost_avoided"
    QUESTION = "question"
    CONDITION_DUE = "condition_due"

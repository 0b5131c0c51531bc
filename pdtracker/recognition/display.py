"""Words for recognition states and refusals, in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from pdtracker.recognition.rulesets import active_for, level_names, round_ruleset

ROUND_STATES: dict[str, LazyString] = {
    "draft": _l("Draft"),
    "open": _l("Open for applications"),
    "closed": _l("Under review"),
    "published": _l("Results published"),
}
APPLICATION_STATES: dict[str, LazyString] = {
    "submitted": _l("Submitted"),
    "returned": _l("Returned for more evidence"),
    "resubmitted": _l("Re-submitted"),
    "formal_ok": _l("With the panel"),
    "decided": _l("Decided"),
    "closed": _l("Returned, closed"),
}
RECOGNITION_STATES: dict[str, LazyString] = {
    "active": _l("Active"),
    "review_due": _l("Review due"),
    "expired": _l("Expired"),
    "suspended": _l("Suspended"),
    "revoked": _l("Revoked"),
}
STATE_CSS = {
    "active": "text-bg-success",
    "review_due": "text-bg-warning",
    "expired": "text-bg-secondary",
    "suspended": "text-bg-danger",
    "revoked": "text-bg-dark",
}
BAD_REASONS: dict[str, LazyString] = {
    "rejected": _l("rejected"),
    "unverified": _l("no longer verified"),
    "deleted": _l("deleted"),
    "expired": _l("expired"),
}
ERRORS: dict[str, LazyString] = {
    "not_allowed": _l("You may not do this."),
    "own_application": _l(
        "This is your own: another administrator of the college decides on it."
    ),
    "no_college": _l("Choose a college for the round."),
    "window_order": _l("The window must close on or after the day it opens."),
    "unknown_level": _l("That level is not offered."),
    "name_taken": _l("The college already has a round of that name."),
    "not_draft": _l("Only a draft round can be opened."),
    "not_open": _l("Only an open round can be closed."),
    "not_closed": _l("Close the round before publishing its results."),
    "published": _l("The results of this round are already published."),
    "reviewer_not_in_college": _l(
        "A reviewer must be a teacher or head of the college."
    ),
    "already_reviewer": _l("This person is already on the panel."),
    "not_reviewer": _l("This person is not on the panel."),
    "window_closed": _l("The round does not accept applications today."),
    "already_applied": _l("You have already applied in this round."),
    "statement_required": _l("You do not meet the level: write a statement."),
    "cannot_resubmit": _l("This application cannot be re-submitted."),
    "round_finished": _l("The round is finished."),
    "not_awaiting_check": _l("This application is not waiting for a formal check."),
    "note_required": _l("Write a note saying what is missing."),
    "already_decided": _l("The round has already decided on this application."),
    "reason_required": _l("Give a reason."),
    "not_ready": _l("The application has not passed the formal check."),
    "no_votes": _l("The panel has not voted yet."),
    "level_above_applied": _l("The level cannot be above the one applied for."),
    "undecided": _l("Some applications are still waiting for a check or a decision."),
    "already_objected": _l("You have already objected."),
    "objection_closed": _l("The objection period is over."),
    "already_resolved": _l("The objection has already been resolved."),
    "outcome_required": _l("Choose the new decision."),
    "revoked": _l("The recognition has been revoked."),
    "not_suspended": _l("Only a suspended recognition is reviewed."),
    "already_revoked": _l("The recognition is already revoked."),
}


def error_text(code: str) -> str:
    """The refusal in the user's language."""
    return str(ERRORS.get(code, ERRORS["not_allowed"]))


def level_labels(rnd: Any, locale: str) -> dict[str, str]:
    """Level names by code: the round's frozen ruleset (a draft: the active one)."""
    ruleset = (
        round_ruleset(rnd)
        if rnd.ruleset_name is not None
        else active_for(rnd.institution_id).ruleset
    )
    return {code: name.get(locale) for code, name in level_names(ruleset).items()}

"""The workbook an import hands back: the error rows to fix, the activation links.

Every cell goes through :mod:`pdtracker.tabular`, so a value that looks like a
formula (an imported ``=HYPERLINK(…)``) is stored as text and never runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _

from pdtracker.onboarding.apply import NewAccount
from pdtracker.onboarding.plan import Action, Plan
from pdtracker.onboarding.services import error_message
from pdtracker.tabular import append_row, new_sheet, xlsx_bytes


def mailed_note() -> str:
    """What stands in place of a link that went to the person by e-mail."""
    return _("Sent by e-mail")


# Fixed by the issue (and ignored on re-import): the column users look for.
REASON_HEADER = "错误原因"


def result_workbook(
    plan: Plan, accounts: Iterable[NewAccount] = (), links: dict[int, str] | None = None
) -> bytes:
    """Error rows as in the file plus 错误原因; a second sheet of activation links."""
    book, sheet = new_sheet(_("Rows with errors"))
    names = list(plan.header.names)
    append_row(sheet, [_("Row"), *names, REASON_HEADER])
    for row in plan.rows:
        if row.action != Action.ERROR:
            continue
        cells = list(row.cells) + [None] * (len(names) - len(row.cells))
        reasons = "；".join(f"{e.column}: {error_message(e)}" for e in row.errors)
        append_row(sheet, [row.number, *cells[: len(names)], reasons])
    accounts = list(accounts)
    if accounts:
        links_sheet = book.create_sheet(_("Activation links"))
        # The login goes last: scripts read the first four columns by position.
        append_row(links_sheet, [_("Staff number"), _("Name"), _("E-mail"),
                                 _("Activation link"), _("Username")])  # fmt: skip
        for account in accounts:
            link = (
                mailed_note() if account.mailed else (links or {}).get(account.user_id)
            )
            append_row(
                links_sheet,
                [account.staff_number, account.name, account.email, link,
                 account.username],
            )  # fmt: skip
    return xlsx_bytes(book)

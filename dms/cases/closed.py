"""What a closed case means to the rest: it takes nothing new (documents, events, tasks) until it
is reopened, which is a decision of its own and recorded as one."""

from __future__ import annotations

from dms.cases.models import Case
from dms.errors import Conflict


def require_open(case: Case) -> None:
    if case.status == "closed":
        raise Conflict("the case is closed; reopen it first", field="caseId")

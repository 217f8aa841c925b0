"""Which lines a user may act on: every line, or the lines of their operator position.

An operator acknowledges, shelves and comments on alerts, explains stops and records scrap
only on the lines where the admin made them an operator (`Line.operators`); a supervisor (the
`assets.act_on_every_line` permission) and an admin act plant-wide. Services call
`require_line` before they write, so a screen, the API and a socket get the same answer.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from plantops.assets.models import Line
from plantops.core.refusals import Refused
from plantops.core.roles import OPERATORS

EVERY_LINE = "assets.act_on_every_line"


def acting_line_ids(user: Any) -> frozenset[int] | None:
    """The ids of the lines `user` may act on; None for every line."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.has_perm(EVERY_LINE):
        return None
    return frozenset(Line.objects.filter(operators=user).values_list("pk", flat=True))


def shown_line_ids(user: Any) -> frozenset[int] | None:
    """The lines whose data the API and the MCP server show `user`; None for every line.

    An operator works at their own position and is shown its lines (a token or an assistant
    of theirs reads no further); roles that act plant-wide, and plant managers, who watch it,
    are shown every line. The tablet's screens show an operator the whole floor: they are on
    it."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.has_perm(EVERY_LINE) or not user.groups.filter(name=OPERATORS).exists():
        return None
    return acting_line_ids(user)


def may_act_on(user: Any, line_id: int) -> bool:
    lines = acting_line_ids(user)
    return lines is None or line_id in lines


def require_line(user: Any, line_id: int, *, what: str) -> None:
    """Refuse unless `user` may act on the line; `what` names the thing ("this alert"), in the
    user's language."""
    if not may_act_on(user, line_id):
        name = Line.objects.filter(pk=line_id).values_list("name", flat=True).first() or gettext(
            "another line"
        )
        raise Refused(
            gettext("You may act only on your own lines: %(what)s is on %(line)s.")
            % {"what": what, "line": name}
        )

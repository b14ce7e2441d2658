"""The signed-in user as Flask-Login sees it: an account, its roster person
and unit (read afresh at every request), and the Actor the chat uses for
the same person — one role model for chat and web."""
from __future__ import annotations

from handlers.context import COMMITTEE, ORG_ADMIN, REPORTER, Actor
from storage.accounts import Holder

SIGN_IN_ROLES = (ORG_ADMIN, COMMITTEE, REPORTER)
ROLE_NAMES = {ORG_ADMIN: "组织部", COMMITTEE: "党委", REPORTER: "支部"}


class WorkbenchUser:
    is_active = True
    is_anonymous = False
    is_authenticated = True

    def __init__(self, holder: Holder):
        self.holder = holder
        self.actor = Actor(holder.member, holder.unit)

    def get_id(self) -> str:
        # The version makes a changed password or a closed account end every session at once.
        return f"{self.holder.account.id}:{self.holder.account.session_version}"

    @property
    def may_sign_in(self) -> bool:
        """Org staff, committee staff and a branch's 书记 / 副书记 / 支委; not other members."""
        return self.actor.kind in SIGN_IN_ROLES

    @property
    def name(self) -> str:
        return self.holder.member.name

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.actor.kind, "")

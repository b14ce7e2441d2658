"""Who is asking, and what a handler works with."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from handlers.inbound import Inbound
from storage.models import COMMITTEE_TYPES, ORG_DEPARTMENT, REPORTING_ROLES, Member, Organization
from storage.orgs import branches_under
from storage.month import Month

ORG_ADMIN, COMMITTEE, REPORTER, MEMBER = "org_admin", "committee", "reporter", "member"
# Who may use a command, as declared at its registration (handlers/registry.py).
ALL_ROLES = (ORG_ADMIN, COMMITTEE, REPORTER, MEMBER)
STAFF = (ORG_ADMIN, COMMITTEE)        # the org department and the committees above branches
BRANCH = (REPORTER, MEMBER)           # everyone in a branch
REPORTERS = (REPORTER,)               # 书记、副书记、支委: who reports for a branch
NOT_A_BRANCH = "这是支部的命令；你是组织部门工作人员，请用“进度”查看各支部情况。"


class CommandError(Exception):
    """A problem the user can fix; the message is shown as written."""


@dataclass
class Actor:
    member: Member
    unit: Organization

    @property
    def kind(self) -> str:
        if self.unit.type == ORG_DEPARTMENT:
            return ORG_ADMIN
        if self.unit.type in COMMITTEE_TYPES:
            return COMMITTEE
        return REPORTER if self.member.role in REPORTING_ROLES else MEMBER

    @property
    def is_staff(self) -> bool:
        return self.kind in STAFF

    @property
    def branch(self) -> Organization:
        if self.is_staff:  # branch commands refuse staff at registration; this is the backstop
            raise CommandError(NOT_A_BRANCH)
        return self.unit


@dataclass
class Context:
    session: Session
    now: datetime
    actor: Actor
    inbound: Inbound
    inbound_id: int | None = None

    @property
    def month(self) -> Month:
        return Month.of(self.now.date())

    def month_named(self, number: int | None) -> Month:
        """The month a command's "N月" means today (none: this month)."""
        if number is None:
            return self.month
        if not 1 <= number <= 12:
            raise CommandError(f"没有{number}月。")
        return Month.referred(number, self.now.date())

    @cached_property
    def scope(self) -> list[Organization]:
        """The branches this actor may see: own branch, or a subtree."""
        return branches_under(self.session, self.actor.unit)

"""Workbench accounts, the sign-in locks and the key that signs sessions.

An account belongs to one roster person; what it may see is that person's
role and unit, read afresh at every request (storage returns the rows; the
web edge decides). Passwords arrive here already hashed: hashing is the
edge's business (argon2, bot/web/workbench/passwords.py)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.insert_ignore import insert_ignore
from storage.models import AccessToken, Account, Member, Organization, SignInLock

LOCK_AFTER = 5                      # wrong passwords …
LOCK_WINDOW = timedelta(minutes=15)  # … within this long lock the key …
LOCK_FOR = timedelta(minutes=15)     # … for this long
SECRET_KEY_NAME = "web:session-secret"  # kept beside WeCom's tokens: a credential, never backed up


@dataclass(frozen=True)
class Holder:
    """An account with its person and unit, as one request sees them."""
    account: Account
    member: Member
    unit: Organization


def holder_of(session: Session, account_id: int) -> Holder | None:
    """The account with its (active) person and unit; None if any is gone."""
    row = session.execute(select(Account, Member, Organization)
                          .join(Member, Account.member_id == Member.id)
                          .join(Organization, Member.org_id == Organization.id)
                          .where(Account.id == account_id)).first()
    if row is None or not row[0].active or not row[1].active or not row[2].active:
        return None
    return Holder(*row)


def holder_by_userid(session: Session, userid: str) -> tuple[Member, Organization, Account | None] | None:
    """The active roster person with this WeCom id, their unit and account (if any)."""
    row = session.execute(select(Member, Organization).join(Organization, Member.org_id == Organization.id)
                          .where(Member.wecom_userid == userid, Member.active)).first()
    if row is None:
        return None
    account = session.scalar(select(Account).where(Account.member_id == row[0].id))
    return row[0], row[1], account


def open_account(session: Session, member: Member, password_hash: str | None, now: datetime) -> tuple[Account, bool]:
    """Create the person's account, or set its password (and reopen it);
    (account, created). Sessions signed in before stop working."""
    account = session.scalar(select(Account).where(Account.member_id == member.id))
    if account is None:
        account = Account(member_id=member.id, password_hash=password_hash, active=True, session_version=1,
                          received_at=now, updated_at=now)
        session.add(account)
        session.flush()
        return account, True
    if password_hash is not None:
        account.password_hash = password_hash
    account.active, account.session_version, account.updated_at = True, account.session_version + 1, now
    return account, False


def signed_in(session: Session, account_id: int, now: datetime, password_hash: str | None = None) -> None:
    """Note a sign-in (and a rehashed password, when the hasher's parameters moved)."""
    values: dict = {"last_sign_in_at": now}
    if password_hash:
        values["password_hash"] = password_hash
    session.execute(update(Account).where(Account.id == account_id).values(**values))


# ---- locks -------------------------------------------------------------

def locked_until(session: Session, keys: list[str], now: datetime) -> datetime | None:
    """The latest lock still running on any of these keys."""
    ends = [t for t in session.scalars(select(SignInLock.locked_until).where(SignInLock.key.in_(keys))) if t]
    later = [t for t in ends if t > now]
    return max(later) if later else None


def record_failure(session: Session, key: str, now: datetime) -> tuple[int, datetime | None]:
    """Count a wrong password against `key`: (failures in the window, the
    lock's end if this one locked it). A window older than LOCK_WINDOW
    starts again; the count is one UPDATE, so parallel attempts all count."""
    insert_ignore(session, SignInLock, [{"key": key, "failures": 0, "window_start": now, "locked_until": None}])
    session.execute(update(SignInLock).where(SignInLock.key == key, SignInLock.window_start < now - LOCK_WINDOW)
                    .values(failures=0, window_start=now))
    session.execute(update(SignInLock).where(SignInLock.key == key).values(failures=SignInLock.failures + 1))
    failures = session.scalar(select(SignInLock.failures).where(SignInLock.key == key)) or 0
    if failures >= LOCK_AFTER:
        until = now + LOCK_FOR
        session.execute(update(SignInLock).where(SignInLock.key == key)
                        .values(failures=0, window_start=now, locked_until=until))
        return failures, until
    return failures, None


def clear_failures(session: Session, key: str) -> None:
    session.execute(update(SignInLock).where(SignInLock.key == key).values(failures=0))


# ---- the session key ---------------------------------------------------

def session_secret(session: Session, now: datetime) -> str:
    """The key every web worker signs sessions with: made once, at random,
    by whichever worker asks first (the others read that one)."""
    insert_ignore(session, AccessToken, [{"key": SECRET_KEY_NAME, "token": secrets.token_hex(32),
                                          "expires_at": now + timedelta(days=36500)}])
    return session.scalar(select(AccessToken.token).where(AccessToken.key == SECRET_KEY_NAME))

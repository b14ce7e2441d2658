"""Password hashing for workbench accounts: Argon2id (argon2-cffi, the
reference implementation's bindings), at OWASP's recommended minimum
(19 MiB, 2 passes, 1 lane) so 16 threads signing in at once stay within a
few hundred MB. A hash made with older parameters is redone at the next
sign-in."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH, MAX_LENGTH = 8, 256
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Checked against when the account does not exist, so a wrong user id costs
# the same time as a wrong password (no user enumeration by timing).
_NOBODY = _hasher.hash("no account has this password")


def check_new(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码至多 {MAX_LENGTH} 个字符"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a fresh hash to store when the parameters have moved)."""
    try:
        _hasher.verify(stored or _NOBODY, password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored) else None)

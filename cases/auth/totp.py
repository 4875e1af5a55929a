"""Two-factor authentication for staff: TOTP codes (RFC 6238) and one-time recovery codes.

Supervisors and admins must turn it on (the guard sends them to the enrolment page until they
do); caseworkers may. A login then asks for the password, and after it for a 6-digit code from
an authenticator app on the person's phone, or for one of ten recovery codes kept on paper.

Codes are accepted one 30-second step either side of the server's clock, because phone clocks
drift, and each time step is accepted only once per account, so a code seen over a shoulder or
caught by a phishing page cannot be used a second time.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Literal

import pyotp
import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from pyotp.utils import strings_equal
from sqlalchemy import func, or_, select, update

from ..audit import services as audit
from ..clock import utcnow
from ..extensions import db
from . import services
from .models import RecoveryCode, Role, User
from .services import AccountError, check_password, hash_password, verify_secret

ISSUER = "Athar"
STEP_SECONDS = 30  # what every authenticator app uses
VALID_WINDOW = 1  # steps accepted either side of the current one
ROLES_REQUIRED = frozenset({Role.SUPERVISOR, Role.ADMIN})
PENDING_SECONDS = 5 * 60  # time between a correct password and the code
RECOVERY_CODE_COUNT = 10
QR_BORDER = 4  # the quiet zone scanners need, in modules
# Read off paper and typed on phones: lower case, no 0/o, 1/l/i. 31 symbols, 10 of them per
# code: about 49 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUP = 5
# Arabic-Indic and Extended Arabic-Indic digits, as Arabic and Kurdish keyboards type them.
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
_SEPARATORS = {ord(c): None for c in " -\u00a0\t\u200f\u200e"}


def required_for(user: User) -> bool:
    """Supervisors and admins see every case or every account: they must use two factors."""
    return user.role in ROLES_REQUIRED


def needs_enrolment(user: User) -> bool:
    """True while a user whose role requires two-factor authentication has not set it up."""
    return required_for(user) and not user.has_two_factor


def new_secret() -> str:
    """A fresh 160-bit shared secret, base32 as authenticator apps expect (RFC 4226 §4)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address the QR code carries: issuer "Athar", account = username."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )


@dataclass(frozen=True)
class QrCode:
    """A QR code as the template draws it: a square of ``size`` units, dark modules in ``path``."""

    size: int
    path: str


def qr_code(uri: str) -> QrCode:
    """The QR code of ``uri`` (segno encodes it), as SVG path data, quiet zone included.

    The template writes the <svg> itself, so nothing reaches the page unescaped and there is no
    style attribute or data: URI for the CSP to refuse. Each run of dark modules in a row
    becomes one filled rectangle.
    """
    qr = segno.make(uri, error="m")
    runs = []
    for y, row in enumerate(qr.matrix_iter(border=QR_BORDER)):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return QrCode(size=qr.symbol_size(border=QR_BORDER)[0], path="".join(runs))


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into the app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise(code: str) -> str:
    """What the person meant: ASCII digits, no spaces or hyphens, lower case."""
    return code.translate(_DIGITS).translate(_SEPARATORS).strip().lower()


def _step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step, within the window, whose code is ``code``; None if there is none."""
    code = normalise(code)
    if len(code) != 6 or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = _step(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if strings_equal(code, otp.generate_otp(step)):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as used, unless it or a later one was used already.

    One conditional UPDATE, so two requests racing with the same code cannot both win.
    """
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def verify_code(user: User, code: str, now: float | None = None) -> bool:
    """Is ``code`` a current app code for ``user`` that was not used before? Commits the step."""
    if not user.has_two_factor or not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is None or not _claim_step(user, step):
        db.session.rollback()
        return False
    db.session.commit()
    return True


def enable(
    user: User, secret: str, password: str, code: str, now: float | None = None
) -> list[str]:
    """Turn two-factor authentication on with ``secret``, once the person proves they hold it.

    The current password and a code made by the app from ``secret`` are both needed; nothing is
    saved unless both are right. Returns the new recovery codes, to be shown once.
    """
    if user.has_two_factor:
        raise AccountError(_l("Two-factor authentication is already on."), "code")
    if not check_password(user, password):
        raise AccountError(_l("This is not your password."), "password")
    step = _matching_step(secret, code, now)
    if step is None:
        raise AccountError(
            _l("That code does not match. Check the phone's time and enter the newest code."),
            "code",
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _replace_recovery_codes(user)
    audit.record("totp_enable", "user", user.id, actor=user)
    db.session.commit()
    return codes


def disable(user: User, password: str, code: str) -> None:
    """Turn two-factor authentication off (only where the role allows): password and code."""
    if required_for(user):
        raise AccountError(_l("Your role requires two-factor authentication."), "code")
    if not user.has_two_factor:
        raise AccountError(_l("Two-factor authentication is not on."), "code")
    if not check_password(user, password):
        raise AccountError(_l("This is not your password."), "password")
    if not verify_code(user, code):
        raise AccountError(_l("That code is not valid."), "code")
    _clear(user)
    audit.record("totp_disable", "user", user.id, actor=user)
    db.session.commit()


def reset(user: User, admin: User, admin_password: str) -> None:
    """An administrator turns off someone's two-factor authentication (a lost phone).

    The administrator re-enters their own password. The account's sessions end; at the next
    login a supervisor or admin is asked to set it up again.
    """
    if user.id == admin.id:
        raise AccountError(_l("You cannot reset your own two-factor authentication."))
    if not check_password(admin, admin_password):
        raise AccountError(_l("This is not your password. Nothing was changed."))
    if not user.has_two_factor:
        raise AccountError(_l("Two-factor authentication is not on for this account."))
    _clear(user)
    services.end_sessions(user)
    audit.record("totp_reset", "user", user.id, actor=admin)
    db.session.commit()


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.totp_failures = 0
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


# --- recovery codes ---------------------------------------------------------------------------
# Stored as argon2id hashes (services.hash_password), never as a fast or keyed hash: with about
# 49 bits each they are below the 112 bits for which ASVS V6.5.2 allows a plain hash, so a
# stolen database must not let anyone try them all offline. Checking one means up to ten slow
# verifications, acceptable for a rare act behind the login rate limits.


def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(2 * RECOVERY_GROUP))
    return f"{chars[:RECOVERY_GROUP]}-{chars[RECOVERY_GROUP:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_password(normalise(code))) for code in codes
    )
    return codes


def new_recovery_codes(user: User, password: str) -> list[str]:
    """Ten new recovery codes in place of all the old ones (password required)."""
    if not user.has_two_factor:
        raise AccountError(_l("Two-factor authentication is not on."), "password")
    if not check_password(user, password):
        raise AccountError(_l("This is not your password."), "password")
    codes = _replace_recovery_codes(user)
    audit.record("recovery_codes_new", "user", user.id, actor=user)
    db.session.commit()
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def use_recovery_code(user: User, code: str) -> bool:
    """Accept one unused recovery code of ``user`` and mark it used; audited."""
    code = normalise(code)
    if len(code) != 2 * RECOVERY_GROUP or not user.has_two_factor:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for stored in unused:
        if verify_secret(stored.code_hash, code):
            # Conditional, like the TOTP step: a code raced from two tabs works only once.
            used = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == stored.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if used.rowcount != 1:
                db.session.rollback()
                return False
            audit.record("recovery_code_used", "user", user.id, actor=user)
            db.session.commit()
            return True
    return False


class SecondFactorLockedError(AccountError):
    """Too many wrong codes in a row: only an admin's reset opens the second step again."""


def locked(user: User) -> bool:
    return user.totp_failures >= current_app.config["TOTP_FAILURE_LIMIT"]


def check_second_factor(user: User, code: str) -> Literal["totp", "recovery"] | None:
    """The login's second step: an app code or a recovery code; a failure is audited.

    The rate limit slows guessing; this cap ends it. Whoever keeps getting codes wrong holds the
    password but not the phone, so after TOTP_FAILURE_LIMIT wrong codes in a row (NIST SP
    800-63B allows at most 100) the account waits for an admin, who can also change the password.
    """
    if locked(user):
        audit.record("login_failed", "user", user.id, commit=True)
        raise SecondFactorLockedError(
            _l(
                "Too many wrong codes were entered for this account. Ask an administrator to "
                "reset your two-factor authentication."
            ),
            "code",
        )
    used: Literal["totp", "recovery"] | None = None
    if verify_code(user, code):
        used = "totp"
    elif use_recovery_code(user, code):
        used = "recovery"
    if used is not None:
        if user.totp_failures:
            user.totp_failures = 0
            db.session.commit()
        return used
    db.session.execute(
        update(User).where(User.id == user.id).values(totp_failures=User.totp_failures + 1)
    )
    db.session.refresh(user, ["totp_failures"])
    if locked(user):
        audit.record("totp_locked", "user", user.id)
    audit.record("login_failed", "user", user.id, commit=True)
    return None

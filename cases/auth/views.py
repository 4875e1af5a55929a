from __future__ import annotations

import time
from datetime import datetime
from datetime import time as time_of_day
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from .. import crypto
from ..api import services as api_clients
from ..api.models import ApiClient
from ..extensions import db, limiter
from ..security import posted_field
from . import invitations, services, sessions, totp
from .forms import (
    ApiClientForm,
    EndSessionForm,
    InvitationForm,
    LanguageForm,
    LoginCodeForm,
    LoginForm,
    LogoutForm,
    PasswordChangeForm,
    RecoveryCodesForm,
    RevokeApiClientForm,
    TwoFactorOffForm,
    TwoFactorSetupForm,
)
from .guard import end_session, public, roles, start_session
from .models import Role, User

bp = Blueprint("auth", __name__)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths: an open redirect would help phishing."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def home_for(user) -> str:  # noqa: ANN001
    if user.role == Role.ADMIN:
        return url_for("admin.users")
    return url_for("casework.case_list")


@bp.route("/staff")
@public
def home():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


def _attempted_username() -> str:
    return "user:" + posted_field("username").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@public
# Brute force: limited per address and, so that many addresses cannot take turns on one
# account, per username typed (known or not, so the limit reveals nothing).
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_attempted_username,
    methods=["POST"],
)
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            _fresh_session()
            if user.has_two_factor:
                return _await_code(user, safe_next(form.next.data, ""))
            login_user(user)
            start_session()
            return redirect(safe_next(form.next.data, home_for(user)))
        flash(_("Incorrect username or password."), "error")
    elif request.method == "POST":
        flash(_("Incorrect username or password."), "error")
    return render_template("auth/login.html", form=form), 200


def _fresh_session() -> None:
    """A new session at login: nothing from before survives but the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True


# --- the login's second step ------------------------------------------------------------------

PENDING_KEY = "login_pending"


def _await_code(user: User, next_page: str) -> Response:
    """The password was right: not logged in yet, the code comes next within a few minutes."""
    session[PENDING_KEY] = {
        "user": user.id,
        "at": int(time.time()),
        "password": _password_mark(user),
        "next": next_page,
    }
    return redirect(url_for("auth.login_code"))


def _password_mark(user: User) -> str:
    # Ties the waiting state to the password that was typed: once it is changed or reset (it
    # may have leaked), a half-finished login with the old one cannot be completed.
    return crypto.blind_index(user.password_hash, "login-pending")[:32]


def _pending_user() -> User | None:
    """The account whose password was just right, while its few minutes for the code last."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    user_id, at = pending.get("user"), pending.get("at")
    if not isinstance(user_id, int) or not isinstance(at, int):
        return None
    if not 0 <= time.time() - at <= totp.PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not user.has_two_factor:
        return None
    if pending.get("password") != _password_mark(user):
        return None
    return user


def _pending_account() -> str:
    pending = session.get(PENDING_KEY)
    if isinstance(pending, dict) and isinstance(pending.get("user"), int):
        return f"login-code:{pending['user']}"
    return "login-code-address:" + get_remote_address()


def _code_refused(response: Response) -> bool:
    # Only wrong codes count towards the limits (the form comes back); a login does not.
    return response.status_code == 200


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_code_refused,
)
# Per account too, so that guesses from many addresses still add up.
@limiter.limit(
    lambda: current_app.config["LOGIN_CODE_LIMIT_PER_ACCOUNT"],
    key_func=_pending_account,
    methods=["POST"],
    deduct_when=_code_refused,
)
def login_code():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("The time to enter the code ran out. Please log in again."), "info")
        return redirect(url_for("auth.login"))
    form = LoginCodeForm()
    if form.validate_on_submit():
        try:
            used = totp.check_second_factor(user, form.code.data)
        except totp.SecondFactorLockedError as error:
            flash(str(error), "error")
            return render_template("auth/login_code.html", form=form), 200
        if used is not None:
            target = safe_next(session[PENDING_KEY].get("next"), home_for(user))
            _fresh_session()
            login_user(user)
            start_session()
            if used == "recovery":
                _recovery_code_message(user)
            return redirect(target)
        flash(_("That code is not valid. Try again."), "error")
    elif request.method == "POST":
        flash(_("That code is not valid. Try again."), "error")
    return render_template("auth/login_code.html", form=form), 200


def _recovery_code_message(user: User) -> None:
    left = totp.recovery_codes_left(user)
    flash(
        _(
            "You logged in with a recovery code; it will not work again. "
            "Recovery codes left: %(n)d.",
            n=left,
        ),
        "error" if left <= 2 else "info",
    )


@bp.route("/logout", methods=["POST"])
@roles(Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN)
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        end_session("logout")
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
            db.session.commit()
    return redirect(safe_next(form.next.data, url_for("family.start")))


# --- setting up two-factor authentication ------------------------------------------------------

SETUP_KEY = "totp_setup"
ALL_STAFF = (Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN)


def _account_key() -> str:
    # The limiter looks before the guard does: an anonymous request is keyed by its address.
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return "address:" + get_remote_address()


def _setup_secret() -> str:
    """The secret offered for enrolment, the same on every reload until it is confirmed.

    It waits in the session, encrypted (the session cookie is signed, not secret), and reaches
    the database only once a code from the app proves the phone holds it.
    """
    stored = session.get(SETUP_KEY)
    if isinstance(stored, str):
        try:
            return crypto.decrypt(stored)
        except crypto.CryptoError:
            pass
    secret = totp.new_secret()
    session[SETUP_KEY] = crypto.encrypt(secret)
    return secret


def _two_factor_page(
    codes_form: RecoveryCodesForm | None = None, off_form: TwoFactorOffForm | None = None
) -> str:
    """The page for someone who already uses two-factor authentication."""
    return render_template(
        "auth/two_factor.html",
        required=totp.required_for(current_user),
        codes_left=totp.recovery_codes_left(current_user),
        codes_form=codes_form or RecoveryCodesForm(prefix="codes"),
        off_form=off_form or TwoFactorOffForm(prefix="off"),
    )


@bp.route("/account/two-factor", methods=["GET", "POST"])
@roles(*ALL_STAFF)
@limiter.limit("10 per 15 minutes", key_func=_account_key, methods=["POST"])
def two_factor():
    if current_user.has_two_factor:
        return _two_factor_page()
    secret = _setup_secret()
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        try:
            codes = totp.enable(current_user, secret, form.password.data, form.code.data)
        except services.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            session.pop(SETUP_KEY, None)
            flash(_("Two-factor authentication is on."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = totp.provisioning_uri(current_user, secret)
    return render_template(
        "auth/two_factor.html",
        form=form,
        required=totp.required_for(current_user),
        qr=totp.qr_code(uri),
        secret=totp.grouped(secret),
    )


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@roles(*ALL_STAFF)
@limiter.limit("10 per 15 minutes", key_func=_account_key, methods=["POST"])
def recovery_codes():
    if not current_user.has_two_factor:
        return redirect(url_for("auth.two_factor"))
    form = RecoveryCodesForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = totp.new_recovery_codes(current_user, form.password.data)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            flash(_("New recovery codes made. The old ones no longer work."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    return _two_factor_page(codes_form=form)


@bp.route("/account/two-factor/off", methods=["POST"])
# Supervisors and admins must keep it: only an administrator can reset theirs.
@roles(Role.CASEWORKER)
@limiter.limit("10 per 15 minutes", key_func=_account_key, methods=["POST"])
def two_factor_off():
    if not current_user.has_two_factor:
        return redirect(url_for("auth.two_factor"))
    form = TwoFactorOffForm(prefix="off")
    if form.validate_on_submit():
        try:
            totp.disable(current_user, form.password.data, form.code.data)
        except services.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            flash(_("Two-factor authentication is off."), "success")
            return redirect(url_for("auth.two_factor"))
    return _two_factor_page(off_form=form)


# --- the account page and invitation links ---------------------------------------------------


@bp.route("/account")
@roles(*ALL_STAFF)
def account():
    return _account_page(PasswordChangeForm())


def _account_page(
    form: PasswordChangeForm,
    api_form: ApiClientForm | None = None,
    created: ApiClient | None = None,
    token: str | None = None,
):  # noqa: ANN202
    """The account page; with ``token``, a new API client's token shown this once."""
    works_cases = current_user.works_cases
    return render_template(
        "auth/account.html",
        form=form,
        end_form=EndSessionForm(),
        staff_sessions=sessions.active_sessions(current_user),
        current_key_hash=sessions.cookie_key_hash(),
        describe_browser=sessions.describe_browser,
        min_length=services.MIN_PASSWORD_LENGTH,
        # An admin's account reads no case files, so it has no API clients to make.
        api_form=(api_form or _empty_api_client_form()) if works_cases else None,
        api_clients=api_clients.clients_of(current_user) if works_cases else [],
        revoke_form=RevokeApiClientForm(),
        created=created,
        token=token,
    )


def _empty_api_client_form() -> ApiClientForm:
    return ApiClientForm(prefix="api", formdata=None)


@bp.route("/account/password", methods=["POST"])
@roles(*ALL_STAFF)
@limiter.limit("10 per 15 minutes", key_func=_account_key)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(
                current_user._get_current_object(), form.current_password.data, form.password.data
            )
        except services.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            flash(_("Your password is changed. Your other sessions have ended."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(form)


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@roles(*ALL_STAFF)
def end_other_session(session_id: int):
    if EndSessionForm().validate_on_submit():
        try:
            sessions.end_other_session(current_user._get_current_object(), session_id)
        except sessions.SessionError as error:
            flash(str(error), "error")
        else:
            flash(_("That session has ended; the browser using it must log in again."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/api-clients", methods=["POST"])
@roles(Role.CASEWORKER, Role.SUPERVISOR)
@limiter.limit("10 per 15 minutes", key_func=_account_key, methods=["POST"])
def api_client_create():
    """A token for a partner tool acting as oneself, after typing one's password again."""
    form = ApiClientForm(prefix="api")
    if not form.validate_on_submit():
        return _account_page(PasswordChangeForm(formdata=None), api_form=form), 400
    if not services.check_password(current_user, form.password.data):
        form.password.errors.append(_("This is not your password. Nothing was changed."))
        return _account_page(PasswordChangeForm(formdata=None), api_form=form), 400
    on = form.expires_on.data
    expires = datetime.combine(on, time_of_day.min) if on else None
    user = current_user._get_current_object()
    try:
        client, token = api_clients.create_client(
            user, user, form.name.data, form.scopes.data, expires
        )
    except api_clients.ApiClientError as error:
        flash(str(error), "error")
        return _account_page(PasswordChangeForm(formdata=None), api_form=form), 400
    flash(_("API client %(name)s created.", name=client.name), "success")
    return _account_page(PasswordChangeForm(formdata=None), created=client, token=token)


@bp.route("/account/api-clients/<int:client_id>/revoke", methods=["POST"])
@roles(Role.CASEWORKER, Role.SUPERVISOR)
def api_client_revoke(client_id: int):
    """Revoking only takes access away, like ending a session: no password needed."""
    client = api_clients.own_client(current_user, client_id)
    if client is None:
        abort(404)
    if RevokeApiClientForm().validate_on_submit():
        try:
            api_clients.revoke_client(current_user._get_current_object(), client)
        except api_clients.ApiClientError as error:
            flash(str(error), "error")
        else:
            flash(_("API client %(name)s revoked.", name=client.name), "success")
    return redirect(url_for("auth.account"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["INVITATION_LIMIT"])
def accept_invitation(token: str):
    """The invitee sets their own password, then is logged in (two-factor set-up may follow)."""
    invitation = invitations.find_valid(token)
    if invitation is None:
        return _invalid_invitation()
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept(invitation, form.password.data)
        except services.AccountError as error:
            form[error.field].errors.append(str(error))
        except invitations.InvitationUsedError:
            return _invalid_invitation()
        else:
            if user.has_two_factor:
                # A reset link replaces the password, never the phone: whoever intercepted
                # the link still needs a code.
                _log_out_here()
                flash(_("Your password is set. Now enter the code from your phone."), "success")
                return _await_code(user, "")
            _log_in_fresh(user)
            flash(_("Your password is set. Welcome to Athar."), "success")
            return redirect(home_for(user))
    return render_template(
        "auth/invitation.html",
        invitation=invitation,
        form=form,
        token=token,
        min_length=services.MIN_PASSWORD_LENGTH,
    )


def _invalid_invitation():  # noqa: ANN202
    # Unknown, used, expired or for a disabled account: one answer, so a link reveals nothing.
    return render_template("auth/invitation.html", invitation=None, form=None), 404


def _log_out_here() -> None:
    """Whoever was logged in in this browser is logged out; a fresh session starts."""
    if current_user.is_authenticated:
        end_session("logout")
    _fresh_session()


def _log_in_fresh(user: User) -> None:
    """A new session for ``user``: whoever was logged in in this browser is logged out."""
    _log_out_here()
    login_user(user)
    start_session()

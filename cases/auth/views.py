from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..extensions import db, limiter
from . import services
from .forms import LanguageForm, LoginForm, LogoutForm
from .guard import public, roles, start_session
from .models import Role

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
    return "user:" + (request.form.get("username") or "").strip().lower()[:64]


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
            # A fresh session at login: nothing from before survives but the language.
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            session.permanent = True
            login_user(user)
            start_session()
            return redirect(safe_next(form.next.data, home_for(user)))
        flash(_("Incorrect username or password."), "error")
    elif request.method == "POST":
        flash(_("Incorrect username or password."), "error")
    return render_template("auth/login.html", form=form), 200


@bp.route("/logout", methods=["POST"])
@roles(Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN)
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
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

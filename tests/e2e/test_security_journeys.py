"""Issue 5 through the browser: an invited supervisor's first login, and a family's photo.

1. An administrator creates a supervisor's account on /admin/users and copies the one-time
   invitation link. The supervisor opens it on her phone (Arabic, 360px, her own browser), sets
   a passphrase, is sent straight to two-factor enrolment, types the key shown on the page into
   "her app" (pyotp), confirms, and gets ten recovery codes. She logs out and back in with
   password and the app's next code. Each of her pages fits the phone and axe-core finds no
   serious or critical violation.
2. A family attaches a photo of their relative to the inquiry form on a phone; the caseworker
   who makes a case of the inquiry sees the photo itself on the case page.

Selectors are ids, names and classes; expected labels come from the compiled catalog (see
test_case_journey.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pyotp
from PIL import Image
from playwright.sync_api import Page, expect

from cases.auth.models import Role

from ..factories import PASSWORD, make_user
from .conftest import PHONE, LiveServer
from .live import page_width, run_axe, send_inquiry, staff_code
from .test_case_journey import Labels, expect_language, log_in

ADMIN = "admin_layla"
SUPERVISOR = "hanan"
SUPERVISOR_NAME = "حنان عبد الكريم"
PASSPHRASE = "نخيل دجلة قارب الفجر"  # her own, long enough, in Arabic as she would type it
BLOCKING = ("critical", "serious")
RECOVERY_CODE = re.compile(r"^[a-z2-9]{5}-[a-z2-9]{5}$")
FAMILY_GIVEN = "نزار"  # a name no other browser test uses: the intake queue is shared


def expect_phone_ready(page: Page, step: str) -> None:
    """No sideways scrolling on a 360px phone, and nothing serious for axe-core."""
    width = page_width(page)
    assert width <= PHONE["viewport"]["width"] + 1, f"{step}: {width}px wide on a 360px phone"
    blocking = [v for v in run_axe(page) if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {step}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in blocking
    )


def staff_log_in(page: Page, server: LiveServer, username: str, password: str) -> None:
    """Password, then the code page (every account here has two-factor authentication)."""
    page.goto(f"{server.url}/login")
    form = page.locator('main form[action$="/login"]')
    form.locator("#username").fill(username)
    form.locator("#password").fill(password)
    form.locator("button.primary").click()
    expect(page).to_have_url(re.compile(r"/login/code$"))


def send_code(page: Page, code: str) -> None:
    form = page.locator('main form[action$="/login/code"]')
    form.locator("#code").fill(code)
    form.locator("button.primary").click()


def test_invited_supervisor_sets_up_two_factor(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
) -> None:
    t = Labels("ar")
    with live_server.app.app_context():
        make_user(ADMIN, Role.ADMIN, "ليلى")

    # The administrator, at her desk, creates the account and gets its invitation link.
    admin = new_page("ar")
    staff_log_in(admin, live_server, ADMIN, PASSWORD)
    send_code(admin, staff_code(live_server, ADMIN))
    expect(admin).to_have_url(re.compile(r"/admin/users$"))
    new_account = admin.locator('main form[action$="/admin/users"]')
    new_account.locator("#username").fill(SUPERVISOR)
    new_account.locator("#display_name").fill(SUPERVISOR_NAME)
    new_account.locator("#role").select_option(value="supervisor")
    new_account.locator("button.primary").click()
    expect(admin.locator(".flash-success")).to_be_visible()
    link = admin.locator("#invitation-link")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/invite/[\w-]{40,}$"))
    invitation = link.input_value()
    row = admin.locator("main table tbody tr", has_text=SUPERVISOR)
    expect(row.locator(".badge.pending")).to_be_visible()
    screenshot(admin, "admin-invitation-link")

    # The supervisor opens it on her phone and chooses her passphrase.
    phone = new_page("ar", bypass_csp=True, **PHONE)
    phone.goto(invitation)
    expect_language(phone, "ar")
    expect(phone.locator("main h1")).to_have_text(t("Set your password"))
    expect(phone.locator("main strong[dir=ltr]")).to_have_text(SUPERVISOR)
    expect_phone_ready(phone, "invitation")
    screenshot(phone, "invitation")
    form = phone.locator("main form")
    form.locator("#password").fill(PASSPHRASE)
    form.locator("#confirm").fill(PASSPHRASE)
    form.locator("button.primary").click()

    # Her role requires two-factor authentication: nothing else opens before it.
    expect(phone).to_have_url(re.compile(r"/account/two-factor$"))
    expect(phone.locator("main h1")).to_have_text(t("Two-factor authentication"))
    expect(phone.locator("svg.qr-code")).to_be_visible()
    expect_phone_ready(phone, "two-factor enrolment")
    screenshot(phone, "enrolment")
    secret = re.sub(r"\s", "", phone.locator(".totp-key").inner_text())
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    enrol = phone.locator('main form[action$="/account/two-factor"]')
    enrol.locator("#password").fill(PASSPHRASE)
    enrol.locator("#code").fill(pyotp.TOTP(secret).now())
    enrol.locator("button.primary").click()

    # Ten recovery codes, once.
    expect(phone.locator("main h1")).to_have_text(t("Your recovery codes"))
    codes = phone.locator("ol.recovery-list li").all_inner_texts()
    assert len(codes) == 10 and all(RECOVERY_CODE.match(c.strip()) for c in codes), codes
    expect_phone_ready(phone, "recovery codes")
    screenshot(phone, "recovery-codes")
    phone.locator("main a.button.primary").click()
    expect(phone).to_have_url(re.compile(r"/cases/$"))

    # Logged out and in again: the password alone is not enough, the app's next code is.
    log_out = phone.locator('header.top form[action$="/logout"] button[type=submit]')
    log_out.click()
    expect(phone).to_have_url(re.compile(r"/login$"))
    staff_log_in(phone, live_server, SUPERVISOR, PASSPHRASE)
    expect(phone.locator("main h1")).to_have_text(t("Enter your code"))
    expect_phone_ready(phone, "login code")
    # The code she used to enrol cannot be used twice: her app has moved on to the next one.
    send_code(phone, pyotp.TOTP(secret).at(time.time() + 30))
    expect(phone).to_have_url(re.compile(r"/cases/$"))
    overview = phone.locator('header.top nav a[href$="/oversight/"]')
    expect(overview).to_have_text(t("Overview"))
    overview.click()
    expect(phone.locator("main h1")).to_have_text(t("Where every case stands"))
    assert page_width(phone) <= PHONE["viewport"]["width"] + 1
    screenshot(phone, "oversight")

    assert admin.e2e_errors == []
    assert phone.e2e_errors == []
    t.assert_all_translated()


def test_family_photo_reaches_the_case(
    live_server: LiveServer,
    new_page: Callable[..., Page],
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    t = Labels("ar")
    photo = tmp_path / "نزار.jpg"
    Image.new("RGB", (320, 240), (40, 110, 160)).save(photo, "JPEG")

    # The family sends the inquiry with a photo, from a phone.
    family = new_page("ar", **PHONE)
    family.goto(f"{live_server.url}/inquiry")
    form = family.locator("form.public-form")
    form.locator("#inquirer_name").fill("زهراء كريم عباس")
    form.locator("#inquirer_relationship").select_option(value="sister")
    form.locator("#inquirer_phone").fill("0780 765 4321")
    form.locator("#given_name").fill(FAMILY_GIVEN)
    form.locator("#father_name").fill("كريم")
    expect(form.locator('label[for="photo"]')).to_have_text(t("A photo of him (optional)"))
    form.locator("#photo").set_input_files(photo)
    form.locator("#consent_search").check()
    screenshot(family, "inquiry-with-photo")
    send_inquiry(family)

    # The caseworker makes a case of it; the photo is on the case page, and it loads.
    staff = new_page("ar")
    staff.goto(f"{live_server.url}/login")
    log_in(staff, t, "zainab")
    staff.goto(f"{live_server.url}/intake/")
    staff.locator("main table tbody tr", has_text=FAMILY_GIVEN).locator(
        'a[href*="/intake/"]'
    ).click()
    staff.locator('form[action$="/create-case"] button.primary').click()
    expect(staff).to_have_url(re.compile(r"/cases/\d+$"))
    files = staff.locator('section[aria-labelledby="attachments-h"]')
    expect(files.locator("#attachments-h")).to_have_text(t("Photos and documents"))
    card = files.locator("li.attachment")
    expect(card).to_have_count(1)
    expect(card.locator(".meta").first).to_contain_text(t("Sent by the family"))
    image = card.locator("img.thumb")
    image.scroll_into_view_if_needed()  # loading="lazy"
    staff.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => img.naturalWidth") == 320
    screenshot(staff, "case-with-family-photo")

    assert family.e2e_errors == []
    assert staff.e2e_errors == []
    t.assert_all_translated()

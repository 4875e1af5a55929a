"""Phone and document numbers are stored encrypted and found again through keyed hashes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select, text

from cases import create_app, crypto
from cases.casework.models import CasePhone, FamilyContact, IdentityDocument
from cases.casework.services import ContactDetails, DocumentDetails
from cases.crypto_cli import crypto_cli, encrypt_plaintext
from cases.demo.seed import seed_cases
from cases.extensions import db
from cases.identity_documents import DOCUMENT_INDEX
from cases.inquiries import services as intake
from cases.inquiries.models import Inquiry
from cases.phones import PHONE_INDEX
from tests.factories import make_case
from tests.inquiries.factories import make_inquiry

PHONE = "+9647801234567"
FAMILY_PHONE = "+9647709998877"
PASSPORT = "A12345678"


def raw(sql: str) -> list[tuple]:
    """Rows as the database holds them, without the model's decryption."""
    return [tuple(row) for row in db.session.execute(text(sql))]


def a_case(owner, **overrides):  # noqa: ANN001, ANN201, ANN003
    details = {
        "phones": [PHONE],
        "documents": [DocumentDetails("passport", PASSPORT)],
        "contacts": [ContactDetails("أم حيدر", "الأم", FAMILY_PHONE, "ar")],
    }
    return make_case(owner, **(details | overrides))


@pytest.fixture
def keys(app: Flask) -> Iterator[Callable[..., None]]:
    """Reconfigure the keys as an operator would (config, then restart); restored afterwards."""
    saved = app.extensions[crypto.EXTENSION]

    def use(data_keys: list[str] | None = None, lookup_key: str | None = None) -> None:
        db.session.commit()
        if data_keys is not None:
            app.config["DATA_KEYS"] = data_keys
        if lookup_key is not None:
            app.config["LOOKUP_KEY"] = lookup_key
        crypto.init_app(app)
        db.session.expire_all()  # values decrypted under the old keys are read again

    yield use
    app.extensions[crypto.EXTENSION] = saved


def crypto_command(app: Flask, *args: str):  # noqa: ANN201
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["crypto", *args])
    db.session.expire_all()
    return result


# --- at rest ---------------------------------------------------------------------------------


def test_numbers_are_stored_encrypted_and_differently_each_time(app, caseworker) -> None:
    first, second = a_case(caseworker), a_case(caseworker)
    make_inquiry(inquirer_phone=PHONE)
    make_inquiry(inquirer_phone=PHONE)
    stored = {
        "case_phones": raw("SELECT e164, e164_hash FROM case_phones ORDER BY id"),
        "family_contacts": raw("SELECT phone_e164, phone_hash FROM family_contacts ORDER BY id"),
        "identity_documents": raw("SELECT number, number_hash FROM identity_documents ORDER BY id"),
        "inquiries": raw("SELECT inquirer_phone, inquirer_phone_hash FROM inquiries ORDER BY id"),
    }
    plain = {
        "case_phones": PHONE,
        "family_contacts": FAMILY_PHONE,
        "identity_documents": PASSPORT,
        "inquiries": PHONE,
    }
    for table, rows in stored.items():
        assert len(rows) == 2, table
        (value_1, hash_1), (value_2, hash_2) = rows
        digits = plain[table].lstrip("+")
        assert digits not in value_1 and digits not in value_2, table
        assert value_1 != value_2, table  # Fernet is randomised: equal numbers look unrelated
        assert hash_1 == hash_2, table  # ... but hash alike, so they can be found
        assert plain[table] not in hash_1 and len(hash_1) == 64, table
    # The application reads plain text.
    db.session.expire_all()
    assert [p.e164 for p in db.session.scalars(select(CasePhone))] == [PHONE, PHONE]
    assert {d.number for d in db.session.scalars(select(IdentityDocument))} == {PASSPORT}
    assert {c.phone_e164 for c in db.session.scalars(select(FamilyContact))} == {FAMILY_PHONE}
    assert {i.inquirer_phone for i in db.session.scalars(select(Inquiry))} == {PHONE}
    assert first.id != second.id


def test_phone_and_document_hashes_differ_for_the_same_digits(app, caseworker) -> None:
    a_case(
        caseworker,
        phones=["+9647712345678"],
        documents=[DocumentDetails("civil_id", "9647712345678")],
    )
    (phone_hash,) = raw("SELECT e164_hash FROM case_phones")[0]
    (document_hash,) = raw("SELECT number_hash FROM identity_documents")[0]
    assert phone_hash != document_hash


def test_the_hash_follows_every_change_of_the_number(app) -> None:
    inquiry, _ = make_inquiry(inquirer_phone=PHONE)
    inquiry.inquirer_phone = FAMILY_PHONE
    db.session.commit()
    assert raw("SELECT inquirer_phone_hash FROM inquiries") == [(PHONE_INDEX.of(FAMILY_PHONE),)]
    inquiry.inquirer_phone = None
    db.session.commit()
    assert raw("SELECT inquirer_phone, inquirer_phone_hash FROM inquiries") == [(None, None)]


def test_editing_a_case_rehashes_its_numbers(app, caseworker) -> None:
    from cases.casework.services import details_of, update_case

    case = a_case(caseworker)
    details = details_of(case)
    details.phones = ["+79123456789"]
    details.documents = [DocumentDetails("passport", "B7654321")]
    update_case(caseworker, case, details)
    assert raw("SELECT e164_hash FROM case_phones") == [(PHONE_INDEX.of("+79123456789"),)]
    assert raw("SELECT number_hash FROM identity_documents") == [(DOCUMENT_INDEX.of("B7654321"),)]


@pytest.mark.parametrize("typed", ["a 1234-5678", "A١٢٣٤٥٦٧٨", "A 12 34 56 78", "a12345678"])
def test_document_numbers_hash_alike_however_typed(app, typed: str) -> None:
    assert DOCUMENT_INDEX.of(typed) == DOCUMENT_INDEX.of("A12345678")


@pytest.mark.parametrize("typed", ["0780 123 4567", "٠٧٨٠ ١٢٣ ٤٥٦٧", "00964 780 123 4567"])
def test_phone_numbers_hash_alike_however_typed(app, typed: str) -> None:
    assert PHONE_INDEX.of(typed) == PHONE_INDEX.of(PHONE)


def test_encrypted_columns_refuse_sql_comparison(app) -> None:
    # Equal numbers encrypt differently: "=" would silently find nothing, so it is an error.
    with pytest.raises(TypeError, match="blind index"):
        select(CasePhone).where(CasePhone.e164 == PHONE)
    with pytest.raises(TypeError):
        select(Inquiry).where(Inquiry.inquirer_phone.in_([PHONE]))
    # Testing for a missing value still works.
    assert db.session.scalars(select(Inquiry).where(Inquiry.inquirer_phone.is_(None))).all() == []


# --- found by hash ---------------------------------------------------------------------------


def test_intake_lists_the_cases_that_have_the_familys_phone(app, caseworker) -> None:
    # Other names (another son of the same family): not the same person, but a known family.
    reported = a_case(caseworker, given_name="علي", father_name="حسن")
    own_phone = a_case(
        caseworker, given_name="عباس", father_name="جواد", phones=[FAMILY_PHONE], contacts=[]
    )
    a_case(caseworker, given_name="كرار", father_name="مهدي", phones=[], contacts=[])
    inquiry, _ = make_inquiry(inquirer_phone=FAMILY_PHONE)
    assert intake.possible_matches(caseworker, inquiry) == []
    found = intake.cases_with_family_phone(inquiry)
    assert [c.id for c in found] == [reported.id, own_phone.id]


def test_names_and_phone_together_rank_first(app, caseworker) -> None:
    names = {"given_name": "حيدر", "father_name": "كاظم", "grandfather_name": "جاسم"}
    same_name = make_case(caseworker, **names)
    both = a_case(caseworker, **names)
    inquiry, _ = make_inquiry(inquirer_phone=FAMILY_PHONE)
    first, second = intake.possible_matches(caseworker, inquiry)
    assert (first.case.id, second.case.id) == (both.id, same_name.id)
    assert first.result.score > second.result.score
    assert "phone" in {r.field for r in first.result.reasons}
    assert "phone" not in {r.field for r in second.result.reasons}


def test_intake_page_shows_the_familys_other_cases(client, auth, caseworker) -> None:
    existing = a_case(caseworker, given_name="علي", father_name="حسن")
    inquiry, _ = make_inquiry(inquirer_phone=FAMILY_PHONE)
    auth.login(caseworker)
    page = client.get(f"/intake/{inquiry.id}").get_data(as_text=True)
    assert "The family's phone number is also on these cases" in page
    assert existing.reference in page


def test_a_wrong_lookup_key_finds_nothing_until_reindexed(app, caseworker, keys) -> None:
    reported = a_case(caseworker, given_name="علي", father_name="حسن")
    inquiry, _ = make_inquiry(inquirer_phone=FAMILY_PHONE)
    inquiry_id = inquiry.id
    keys(lookup_key="another-lookup-key-of-at-least-32-characters")
    inquiry = db.session.get(Inquiry, inquiry_id)
    assert intake.cases_with_family_phone(inquiry) == []
    result = crypto_command(app, "check")
    assert result.exit_code == 1
    assert "family_contacts.phone_hash: 1 stale" in result.output
    result = crypto_command(app, "reindex")
    assert result.exit_code == 0, result.output
    assert "family_contacts.phone_hash: 1 recomputed" in result.output
    found = intake.cases_with_family_phone(db.session.get(Inquiry, inquiry_id))
    assert [c.id for c in found] == [reported.id]
    assert crypto_command(app, "check").exit_code == 0


# --- keys ------------------------------------------------------------------------------------


def test_rotation_moves_everything_to_the_new_key(app, caseworker, keys) -> None:
    old = app.config["DATA_KEYS"][0]
    a_case(caseworker)
    make_inquiry(inquirer_phone=PHONE)
    before = raw("SELECT e164 FROM case_phones")
    new = crypto.new_key()
    keys(data_keys=[new, old])
    result = crypto_command(app, "rotate", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert "case_phones.e164: 1 re-encrypted, 0 already under the current key" in result.output
    assert "inquiries.inquirer_phone: 1 re-encrypted" in result.output
    assert PHONE not in result.output
    after = raw("SELECT e164 FROM case_phones")
    assert after != before
    assert Fernet(new).decrypt(after[0][0].encode()).decode() == PHONE
    # Again: nothing left to do.
    again = crypto_command(app, "rotate")
    assert "case_phones.e164: 0 re-encrypted, 1 already under the current key" in again.output
    # The old key can go: everything still reads.
    keys(data_keys=[new])
    assert db.session.scalar(select(CasePhone.e164)) == PHONE
    assert db.session.scalar(select(IdentityDocument.number)) == PASSPORT
    assert db.session.scalar(select(FamilyContact.phone_e164)) == FAMILY_PHONE
    assert db.session.scalar(select(Inquiry.inquirer_phone)) == PHONE
    check = crypto_command(app, "check")
    assert check.exit_code == 0, check.output
    assert "case_phones.e164: 1 values, 0 unreadable, 0 under an older key" in check.output


def test_check_finds_a_value_no_key_opens_and_shows_no_content(app, caseworker, keys) -> None:
    a_case(caseworker, phones=[PHONE, "+9647511111111"])
    stranger = Fernet(Fernet.generate_key()).encrypt(PHONE.encode()).decode()
    db.session.execute(text("UPDATE case_phones SET e164 = :v WHERE id = 1"), {"v": stranger})
    result = crypto_command(app, "check")
    assert result.exit_code == 1
    assert "case_phones.e164: 2 values, 1 unreadable" in result.output
    assert "1 problems" in result.output
    assert PHONE not in result.output and stranger not in result.output
    assert "+9647511111111" not in result.output
    # Rotation leaves it alone, moves the rest, and says so.
    keys(data_keys=[crypto.new_key(), *app.config["DATA_KEYS"]])
    result = crypto_command(app, "rotate")
    assert result.exit_code == 1
    assert "case_phones.e164: 1 re-encrypted, 0 already under the current key, 1 unreadable" in (
        result.output
    )
    assert raw("SELECT e164 FROM case_phones WHERE id = 1") == [(stranger,)]


def test_new_keys_work_without_a_configured_app(tmp_path) -> None:
    result = CliRunner().invoke(crypto_cli, ["new-keys"])
    assert result.exit_code == 0, result.output
    lines = dict(
        line.split("=", 1) for line in result.output.splitlines() if line[:1] in ("D", "L")
    )
    data_key, lookup_key = lines["DATA_KEYS"], lines["LOOKUP_KEY"]
    Fernet(data_key)  # a valid key
    assert len(lookup_key) >= 32
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'k.sqlite'}",
            "DATA_KEYS": data_key,
            "LOOKUP_KEY": lookup_key,
        }
    )
    with app.app_context():
        assert crypto.decrypt(crypto.encrypt(PHONE)) == PHONE
    assert CliRunner().invoke(crypto_cli, ["new-keys"]).output != result.output


# --- existing data and bulk writes -----------------------------------------------------------


def test_plain_numbers_from_before_encryption_are_encrypted_and_hashed(app, caseworker) -> None:
    # What the migration that introduces encryption finds: plain text, no hashes.
    case = make_case(caseworker, contacts=[])
    db.session.execute(
        text("INSERT INTO case_phones (case_id, e164, e164_hash) VALUES (:c, :p, '')"),
        {"c": case.id, "p": PHONE},
    )
    db.session.execute(
        text(
            "INSERT INTO identity_documents (case_id, doc_type, number, number_hash) "
            "VALUES (:c, 'passport', :n, '')"
        ),
        {"c": case.id, "n": "a 1234-5678"},
    )
    db.session.commit()
    with db.engine.begin() as connection:
        assert encrypt_plaintext(connection) == 2
    with db.engine.begin() as connection:
        assert encrypt_plaintext(connection) == 0  # safe to run again
    [(stored, phone_hash)] = raw("SELECT e164, e164_hash FROM case_phones")
    assert PHONE.lstrip("+") not in stored
    assert phone_hash == PHONE_INDEX.of(PHONE)
    db.session.expire_all()
    assert db.session.scalar(select(CasePhone.e164)) == PHONE
    assert db.session.scalar(select(IdentityDocument.number)) == "a 1234-5678"
    assert crypto_command(app, "check").exit_code == 0


def test_demo_seed_encrypts_and_hashes(app, caseworker, supervisor) -> None:
    seed_cases(30, seed=3)
    stored = raw("SELECT phone_e164, phone_hash FROM family_contacts WHERE phone_e164 IS NOT NULL")
    assert stored
    assert all(not value.startswith("+") and len(digest) == 64 for value, digest in stored)
    assert raw("SELECT count(*) FROM identity_documents WHERE number LIKE 'gAAAAA%'") != [(0,)]
    result = crypto_command(app, "check")
    assert result.exit_code == 0, result.output
    assert "0 stale" in result.output

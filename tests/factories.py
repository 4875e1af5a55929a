"""gen_* style helpers that build real rows through the services."""

from __future__ import annotations

from cases.auth import services as auth_services
from cases.auth.models import Role, User
from cases.casework import services
from cases.casework.models import Case
from cases.casework.services import CaseDetails, ContactDetails

PASSWORD = "correct horse battery staple"


def make_user(username: str, role: Role, display_name: str = "") -> User:
    return auth_services.create_user(username, role, PASSWORD, display_name or username)


def make_case(owner: User, **overrides) -> Case:  # noqa: ANN003
    details = CaseDetails(
        given_name="محمد",
        father_name="عماد",
        grandfather_name="جبار",
        great_grandfather_name="كاظم",
        laqab="الجنابي",
        mother_name="فاطمة حسين علي",
        age=24,
        governorate_pcode="IQG07",
        district_pcode="IQG07Q04",
        latin_names=["Mohammed Imad Jabbar"],
        contacts=[ContactDetails("أم محمد", "الأم", "+9647701234567", "ar")],
    )
    for key, value in overrides.items():
        setattr(details, key, value)
    return services.create_case(owner, details)

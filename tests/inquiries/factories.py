from __future__ import annotations

from cases.inquiries import services
from cases.inquiries.models import Inquiry
from cases.inquiries.services import InquiryDetails


def make_inquiry(**overrides) -> tuple[Inquiry, str]:  # noqa: ANN003
    details = InquiryDetails(
        inquirer_name="زينب كاظم",
        inquirer_relationship="mother",
        inquirer_phone="+9647801234567",
        given_name="حيدر",
        father_name="كاظم",
        grandfather_name="جاسم",
        laqab="الخفاجي",
        mother_name="زينب علي حسين",
        age=23,
        governorate_pcode="IQG07",
        district_pcode="IQG07Q04",
        travel_company="شركة الرافدين للسفر",
        details="ذهب إلى موسكو في ٢٠٢٣",
        consent_search=True,
    )
    for key, value in overrides.items():
        setattr(details, key, value)
    return services.submit_inquiry(details, locale="ar")

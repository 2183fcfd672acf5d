"""Building blocks for the volunteer tests: people, opportunities and shifts in a tenant's schema."""

from __future__ import annotations

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from cms_pages.models import HomePage
from roles.services import grant_role
from tenants.demo import DEMO_PASSWORD
from volunteers import services
from volunteers.models import OpportunityIndexPage, OpportunityPage, Shift, Volunteer

User = get_user_model()
_counter = itertools.count(1)
PASSWORD = DEMO_PASSWORD


def person(prefix: str = "vol") -> User:
    return User.objects.create_user(username=f"{prefix}_{next(_counter)}", password=PASSWORD)


def coordinator(schema: str = "zhejiang") -> User:
    user = person("coord")
    with schema_context(schema):
        grant_role(user, "志愿者管理员")
    return user


APPLICATION = {
    "real_name": "李明华",
    "mobile": "13812345678",
    "emergency_contact_name": "李建国",
    "emergency_contact_phone": "13987654321",
    "consent": True,
    "skills": ["guide", "first_aid"],
    "availability": [
        f"{d}_{p}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") for p in ("am", "pm", "eve")
    ],
}


def approved_volunteer(schema: str = "zhejiang", user=None, by=None, **overrides) -> Volunteer:
    user = user or person()
    with schema_context(schema):
        volunteer = services.apply(user, **{**APPLICATION, **overrides})
        return services.decide_application(volunteer, approve=True, decided_by=by or coordinator(schema))


def opportunity(schema: str = "zhejiang", *, title: str = "图书馆周末导读服务", **fields) -> OpportunityPage:
    with schema_context(schema):
        home = HomePage.objects.first()
        index = OpportunityIndexPage.objects.first()
        if index is None:
            index = home.add_child(instance=OpportunityIndexPage(title="志愿服务", slug="volunteering"))
        page = OpportunityPage(title=title, slug=f"opportunity-{next(_counter)}", place="省图书馆一楼", **fields)
        index.add_child(instance=page)
        page.save_revision().publish()
        return OpportunityPage.objects.get(pk=page.pk)


def shift(
    page: OpportunityPage,
    schema: str = "zhejiang",
    *,
    starts_in: datetime.timedelta = datetime.timedelta(days=3),
    hours: float = 3,
    capacity: int = 5,
    **fields,
) -> Shift:
    starts_at = timezone.now().replace(microsecond=0) + starts_in
    with schema_context(schema):
        return Shift.objects.create(
            opportunity=page,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(hours=hours),
            place=fields.pop("place", "省图书馆一楼"),
            capacity=capacity,
            **fields,
        )

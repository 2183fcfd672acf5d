"""Excel exports of volunteers and hours (openpyxl, write-only: flat memory for 10,000 rows).

Names and phones are masked unless the coordinator's role may see personal data
(roles.view_personal_data). Text people typed is written so Excel never runs it as a formula.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook

from accounts.personal_data import mask_mobile, mask_name

from .models import HourRecord, TeamMembership, Volunteer
from .services import star_level, volunteer_settings

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Text starting like a formula is kept as text (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _save(workbook: Workbook) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def volunteers_workbook(*, full: bool) -> bytes:
    thresholds = volunteer_settings().star_thresholds_minutes()
    teams = defaultdict(list)
    for volunteer_id, team_name, leader in TeamMembership.objects.values_list(
        "volunteer_id", "team__name", "is_leader"
    ):
        teams[volunteer_id].append(f"{team_name}（队长）" if leader else team_name)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("志愿者")
    header = [
        "志愿者编号",
        "姓名",
        "手机号",
        "状态",
        "技能",
        "服务区域",
        "可服务时间",
        "已审核时长（小时）",
        "星级",
        "服务队",
        "申请时间",
    ]
    if full:
        header += ["紧急联系人", "紧急联系人电话"]
    sheet.append(header)
    for volunteer in Volunteer.objects.order_by("number", "pk").iterator(chunk_size=2000):
        row = [
            volunteer.number or "",
            volunteer.real_name if full else mask_name(volunteer.real_name),
            volunteer.mobile if full else mask_mobile(volunteer.mobile),
            volunteer.get_status_display(),
            "、".join(volunteer.skill_labels),
            volunteer.service_areas,
            "、".join(volunteer.availability_labels),
            volunteer.approved_hours,
            star_level(volunteer.approved_minutes, thresholds),
            "、".join(teams.get(volunteer.pk, [])),
            timezone.localtime(volunteer.applied_at).strftime("%Y-%m-%d %H:%M"),
        ]
        if full:
            row += [volunteer.emergency_contact_name, volunteer.emergency_contact_phone]
        sheet.append([_cell(value) for value in row])
    return _save(workbook)


def hours_workbook(*, full: bool, since: datetime.date | None = None) -> bytes:
    records = HourRecord.objects.select_related("volunteer", "shift__opportunity").order_by("served_on", "pk")
    if since is not None:
        records = records.filter(served_on__gte=since)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("服务时长")
    sheet.append(
        ["志愿者编号", "姓名", "服务项目", "时段开始", "服务日期", "类型", "时长（小时）", "状态", "补录/退回原因"]
    )
    for record in records.iterator(chunk_size=2000):
        shift = record.shift
        sheet.append(
            [
                _cell(value)
                for value in [
                    record.volunteer.number or "",
                    record.volunteer.real_name if full else mask_name(record.volunteer.real_name),
                    shift.opportunity.title if shift else "",
                    timezone.localtime(shift.starts_at).strftime("%Y-%m-%d %H:%M") if shift else "",
                    record.served_on.isoformat(),
                    record.get_kind_display(),
                    record.hours,
                    record.get_status_display(),
                    record.reason,
                ]
            ]
        )
    return _save(workbook)

"""Forms of the volunteer pages: they parse what people type; the rules live in services.py."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import AVAILABILITY_SLOTS, SKILLS


class ApplicationForm(forms.Form):
    real_name = forms.CharField(label="姓名", max_length=200, help_text="请填写真实姓名，用于服务记录与证明。")
    mobile = forms.CharField(label="手机号", max_length=200)
    skills = forms.MultipleChoiceField(
        label="技能", choices=SKILLS, required=False, widget=forms.CheckboxSelectMultiple
    )
    service_areas = forms.CharField(label="意向服务区域", max_length=200, required=False)
    availability = forms.MultipleChoiceField(
        label="可服务时间", choices=AVAILABILITY_SLOTS, required=False, widget=forms.CheckboxSelectMultiple
    )
    emergency_contact_name = forms.CharField(label="紧急联系人", max_length=200)
    emergency_contact_phone = forms.CharField(label="紧急联系人电话", max_length=200)
    introduction = forms.CharField(label="自我介绍（可选）", max_length=1000, required=False, widget=forms.Textarea)
    consent = forms.BooleanField(
        label="我同意本站记录并保存我的志愿服务信息（报名、签到、服务时长），用于服务管理与出具证明。", required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required-ness is checked by services.apply, so every field's problem shows at once.
        for field in self.fields.values():
            field.required = False
            field.error_messages["invalid_choice"] = "包含无效的选项。"
            field.error_messages["max_length"] = "内容过长。"


def _local_datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "请填写。", "invalid": "请按 年-月-日 时:分 填写。"},
    )


class ShiftForm(forms.Form):
    title = forms.CharField(label="时段名称（可选）", max_length=100, required=False)
    starts_at = _local_datetime_field("开始时间")
    ends_at = _local_datetime_field("结束时间")
    place = forms.CharField(label="地点", max_length=200, required=False)
    capacity = forms.IntegerField(label="需要人数", error_messages={"required": "请填写。", "invalid": "请填写整数。"})
    required_skills = forms.MultipleChoiceField(
        label="所需技能", choices=SKILLS, required=False, widget=forms.CheckboxSelectMultiple
    )


class MakeupHoursForm(forms.Form):
    volunteer = forms.IntegerField(widget=forms.HiddenInput)
    hours = forms.DecimalField(
        label="补录时长（小时）",
        max_digits=5,
        decimal_places=1,
        error_messages={
            "required": "请填写。",
            "invalid": "请填写数字，例如 1.5。",
            "max_digits": "数字过大。",
            "max_decimal_places": "最多一位小数。",
        },
    )
    reason = forms.CharField(label="补录原因", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class CheckForm(forms.Form):
    shift = forms.IntegerField(
        widget=forms.HiddenInput, error_messages={"required": "缺少服务时段。", "invalid": "缺少服务时段。"}
    )
    code = forms.CharField(
        label="签到码",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}),
        error_messages={"required": "请输入 6 位签到码。"},
    )


def aware(value):
    return timezone.make_aware(value) if value is not None and timezone.is_naive(value) else value


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Service errors name their field ("姓名：…"); the field template adds the label itself."""
    for field, messages in exc.message_dict.items():
        if field in form.fields:
            prefix = f"{form.fields[field].label}："
            form.add_error(field, [m.removeprefix(prefix) for m in messages])
        else:
            form.add_error(None, messages)

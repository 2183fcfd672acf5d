"""Public forms of feedback/: a rating and a demand request. Messages are Chinese; the field
template (accounts/_field.html) puts the field's label before each one ("评分：…")."""

from __future__ import annotations

from django import forms

from .models import ANSWER_MAX, COMMENT_MAX, DEMAND_TEXT_MAX, REASON_MAX, DemandRequest
from .services import region_choices

SCORES = [
    ("5", "5 分：非常满意"),
    ("4", "4 分：满意"),
    ("3", "3 分：一般"),
    ("2", "2 分：不满意"),
    ("1", "1 分：非常不满意"),
]


def _text_errors(required: bool = True) -> dict:
    errors = {"max_length": "最多 %(limit_value)d 字，现在是 %(show_value)d 字"}
    if required:
        errors["required"] = "请填写"
    return errors


class RatingForm(forms.Form):
    score = forms.ChoiceField(
        label="评分",
        choices=SCORES,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择 1 到 5 分", "invalid_choice": "只能是 1 到 5 分"},
    )
    comment = forms.CharField(
        label="评价内容",
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"选填，最多 {COMMENT_MAX} 字",
        error_messages=_text_errors(required=False),
    )


class DemandForm(forms.Form):
    category = forms.ChoiceField(
        label="需求类别",
        choices=[("", "请选择"), *DemandRequest.Category.choices],
        error_messages={"required": "请选择一个类别", "invalid_choice": "请从列表中选择一个类别"},
    )
    region_code = forms.ChoiceField(
        label="所在区域",
        required=False,
        error_messages={"invalid_choice": "请从列表中选择本地区的区县，或选“全域”"},
    )
    text = forms.CharField(
        label="需求内容",
        max_length=DEMAND_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"希望举办什么活动、开设什么课程、提供什么资源，最多 {DEMAND_TEXT_MAX} 字",
        error_messages=_text_errors(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = [("", "全域（不限区县）"), *region_choices()]


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="回复",
        required=False,
        max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=_text_errors(required=False),
    )
    published = forms.BooleanField(label="公开展示评价和回复", required=False)


class TriageForm(forms.Form):
    status = forms.ChoiceField(
        label="状态",
        choices=DemandRequest.Status.choices,
        error_messages={"required": "请选择状态", "invalid_choice": "请选择新提交、已纳入计划、已落实或暂不采纳"},
    )
    reason = forms.CharField(
        label="处理说明",
        required=False,
        max_length=REASON_MAX,
        help_text="暂不采纳时必须填写原因；提交人可以看到",
        error_messages=_text_errors(required=False),
    )


def add_refusal(form: forms.Form, refused) -> None:
    """A service refusal shown on its field (or above the form when no field carries it)."""
    if refused.field in form.fields:
        form.add_error(refused.field, refused.bare)
    else:
        form.add_error(None, refused.message)

"""在线培训 in the Wagtail admin: a 培训管理员 authors courses without the Django shell.

* 课程: the course's facts and status (草稿/已发布/已下架) with its chapters inline;
* 章节与课时: a chapter with its lessons inline (video: an uploaded MP4/WebM document or an
  MP4/HLS address, WebVTT captions, the length; document: a PDF; text: the body);
* 测验: the quiz of a course (draw, time limit, attempts, pass mark);
* 题库: questions of a quiz with their choices inline (single, multiple, true/false);
* 学员分组: staff groups and their members (people of this site only);
* 指派、报表与导入: the manager pages (/training/manage/: assign a course to a group with a due
  date, 学时 reports, offline hours import).

Saving goes through training.services (search text, published_at, the national feed); a course
pulled from the national site is read-only here (the next pull would overwrite it).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, InlinePanel, ObjectList
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from . import services
from .models import Chapter, Course, Question, Quiz, TrainingGroup

PULLED = "该课程来自国家公共文化云，只能在国家平台修改（下次同步会覆盖本站的修改）。"


class CourseForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.is_pulled:
            raise ValidationError(PULLED)
        return cleaned


class ChapterForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        course = cleaned.get("course")
        if course is not None and course.is_pulled:
            self.add_error("course", PULLED)
        return cleaned


class QuestionForm(WagtailAdminModelForm):
    """The choices must make sense for the kind: one right answer (single, true/false), at least one (multiple)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "quiz" in self.fields:
            self.fields["quiz"].queryset = Quiz.objects.select_related("course").order_by("course__title")

    def clean(self):
        cleaned = super().clean()
        quiz = cleaned.get("quiz")
        if quiz is not None and quiz.course.is_pulled:
            self.add_error("quiz", PULLED)
        formset = self.formsets["choices"]
        formset.is_valid()  # the parent form is cleaned first: clean the choices now to count them
        choices = [
            form.cleaned_data
            for form in formset.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]
        right = sum(1 for choice in choices if choice.get("is_correct"))
        kind = cleaned.get("kind")
        if len(choices) < 2:
            raise ValidationError("选项：至少需要两个选项。")
        if kind == Question.Kind.MULTIPLE and right < 1:
            raise ValidationError("选项：多选题至少要有一个正确答案。")
        if kind != Question.Kind.MULTIPLE and right != 1:
            raise ValidationError("选项：单选题和判断题必须有且只有一个正确答案。")
        if kind == Question.Kind.TRUE_FALSE and len(choices) != 2:
            raise ValidationError("选项：判断题只有“正确”和“错误”两个选项。")
        return cleaned


class GroupForm(WagtailAdminModelForm):
    """Members are people of this site (a role here), never every account of the platform."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = services.site_people().order_by("username")


class SavedThroughServices:
    """The admin's create and edit views save, then let training.services do the rest."""

    def save_instance(self):
        instance = super().save_instance()
        services.after_admin_save(instance, by=self.request.user)
        return instance


def _views(viewset_class):
    from wagtail.admin.views.generic.models import CreateView, EditView

    viewset_class.add_view_class = type("Create", (SavedThroughServices, CreateView), {})
    viewset_class.edit_view_class = type("Edit", (SavedThroughServices, EditView), {})
    return viewset_class


@_views
class CourseViewSet(ModelViewSet):
    model = Course
    icon = "doc-full"
    menu_label = "课程"
    add_to_admin_menu = False
    list_display = ["title", "tier", "audience", "credit_hours", "hours_kind", "status", "origin_name"]
    list_filter = ["status", "tier", "audience", "category"]
    search_fields = ["title", "teacher"]
    edit_handler = ObjectList(
        [
            FieldPanel("title"),
            FieldPanel("summary"),
            FieldPanel("teacher"),
            FieldPanel("tier"),
            FieldPanel("audience"),
            FieldPanel("category"),
            FieldPanel("credit_hours"),
            FieldPanel("hours_kind"),
            FieldPanel("completion_rule"),
            FieldPanel("open_enrolment"),
            FieldPanel("status"),
            InlinePanel("chapters", label="章", panels=[FieldPanel("title"), FieldPanel("position")]),
        ],
        base_form_class=CourseForm,
    )


@_views
class ChapterViewSet(ModelViewSet):
    model = Chapter
    icon = "list-ol"
    menu_label = "章节与课时"
    add_to_admin_menu = False
    list_display = ["title", "course", "position"]
    list_filter = ["course"]
    search_fields = ["title", "course__title"]
    edit_handler = ObjectList(
        [
            FieldPanel("course"),
            FieldPanel("title"),
            FieldPanel("position"),
            InlinePanel(
                "lessons",
                label="课时",
                panels=[
                    FieldPanel("title"),
                    FieldPanel("position"),
                    FieldPanel("kind"),
                    FieldPanel("video"),
                    FieldPanel("video_url"),
                    FieldPanel("captions"),
                    FieldPanel("duration_seconds"),
                    FieldPanel("document"),
                    FieldPanel("body"),
                    FieldPanel("min_reading_seconds"),
                ],
            ),
        ],
        base_form_class=ChapterForm,
    )


@_views
class QuizViewSet(ModelViewSet):
    model = Quiz
    icon = "tasks"
    menu_label = "测验"
    add_to_admin_menu = False
    list_display = ["__str__", "draw_count", "time_limit_minutes", "max_attempts", "pass_mark"]
    form_fields = ["course", "title", "draw_count", "time_limit_minutes", "max_attempts", "pass_mark"]


@_views
class QuestionViewSet(ModelViewSet):
    model = Question
    icon = "help"
    menu_label = "题库"
    add_to_admin_menu = False
    list_display = ["__str__", "kind", "quiz"]
    list_filter = ["kind", "quiz"]
    search_fields = ["text"]
    edit_handler = ObjectList(
        [
            FieldPanel("quiz"),
            FieldPanel("kind"),
            FieldPanel("text"),
            FieldPanel("explanation"),
            FieldPanel("position"),
            InlinePanel(
                "choices",
                label="选项",
                min_num=2,
                panels=[FieldPanel("text"), FieldPanel("is_correct"), FieldPanel("position")],
            ),
        ],
        base_form_class=QuestionForm,
    )


@_views
class TrainingGroupViewSet(ModelViewSet):
    model = TrainingGroup
    icon = "group"
    menu_label = "学员分组"
    add_to_admin_menu = False
    list_display = ["name", "organisation"]
    search_fields = ["name", "organisation"]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("organisation"), FieldPanel("members")], base_form_class=GroupForm
    )


class TrainingViewSetGroup(ModelViewSetGroup):
    menu_label = "在线培训"
    menu_icon = "doc-full"
    menu_order = 900
    items = (
        CourseViewSet("training_courses"),
        ChapterViewSet("training_chapters"),
        QuizViewSet("training_quizzes"),
        QuestionViewSet("training_questions"),
        TrainingGroupViewSet("training_groups"),
    )


@hooks.register("register_admin_viewset")
def register_training_viewsets():
    return TrainingViewSetGroup()


class ManageMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("training.manage_training")


@hooks.register("register_admin_menu_item")
def register_training_menu_item():
    return ManageMenuItem("培训指派、报表与导入", "/training/manage/", icon_name="date", order=901)

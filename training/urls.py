"""Online training URLs, on every tenant site."""

from django.urls import path

from . import views

urlpatterns = [
    path("training/", views.catalogue, name="training_catalogue"),
    path("training/courses/<int:course_id>/", views.course_detail, name="training_course"),
    path("training/courses/<int:course_id>/enrol/", views.enrol, name="training_enrol"),
    path("training/courses/<int:course_id>/lessons/<int:lesson_id>/", views.lesson, name="training_lesson"),
    path(
        "training/courses/<int:course_id>/lessons/<int:lesson_id>/document.pdf",
        views.lesson_document,
        name="training_lesson_document",
    ),
    path(
        "training/courses/<int:course_id>/lessons/<int:lesson_id>/video",
        views.lesson_video,
        name="training_lesson_video",
    ),
    path(
        "training/courses/<int:course_id>/lessons/<int:lesson_id>/done/", views.lesson_done, name="training_lesson_done"
    ),
    path("training/courses/<int:course_id>/quiz/", views.quiz, name="training_quiz"),
    path("training/attempts/<int:attempt_id>/", views.attempt, name="training_attempt"),
    path("training/progress/<int:progress_id>/", views.progress_report, name="training_progress"),
    path("training/manage/", views.manage, name="training_manage"),
    path("training/manage/report/", views.report, name="training_report"),
    path("training/manage/import/", views.import_hours, name="training_import"),
    path("me/learning/", views.my_learning, name="training_my_learning"),
]

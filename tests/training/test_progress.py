"""Anti-skip arithmetic: only what real time allows is counted, merged on the server."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from training import services
from training.models import LessonProgress

from .factories import lessons, make_course, trainee

pytestmark = pytest.mark.django_db
T0 = timezone.now().replace(microsecond=0)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


@pytest.fixture
def watching():
    with schema_context("zhejiang"):
        user = trainee()
        course = make_course(video_seconds=100)
        enrollment = services.enrol(user, course)
        video, _ = lessons(course)
        progress = services.start_lesson(enrollment, video, now=T0)
        yield user, enrollment, progress


def report(user, progress, seq, start, end, when, session=None):
    return services.record_progress(
        progress.pk, user=user, session=session or progress.session, seq=seq, start=start, end=end, now=when
    )


def test_merge_intervals_unions_overlaps_and_keeps_gaps():
    merged = services.merge_intervals([[0, 10], [20, 30]], 5, 22)
    assert merged == [[0, 30]]
    assert services.merge_intervals([[0, 10]], 50, 60) == [[0, 10], [50, 60]]
    assert services.covered_seconds([[0, 10], [50, 60]]) == 20


def test_honest_watching_completes_at_ninety_percent(watching):
    user, enrollment, progress = watching
    for i in range(9):
        outcome = report(user, progress, i + 1, i * 10, i * 10 + 10, at(i * 10 + 10))
    assert outcome.watched_seconds == 90 and outcome.percent == 90 and outcome.completed


def test_seeking_to_the_end_counts_only_the_time_that_passed(watching):
    user, enrollment, progress = watching
    outcome = report(user, progress, 1, 0, 100, at(10))  # claims the whole video after 10 s
    assert outcome.accepted == 10 and outcome.watched_seconds == 10 and not outcome.completed
    outcome = report(user, progress, 2, 90, 100, at(12))  # jumped to the end, 2 s later
    assert outcome.accepted == 2 and not outcome.completed


def test_a_faster_clock_earns_nothing_extra(watching):
    user, enrollment, progress = watching
    # A player at 4x (or a script) reports 40 s of video every 10 s of real time.
    for i in range(5):
        outcome = report(user, progress, i + 1, i * 40, i * 40 + 40, at((i + 1) * 10))
    assert outcome.watched_seconds <= 50
    assert not outcome.completed


def test_replayed_and_out_of_order_reports_count_nothing(watching):
    user, enrollment, progress = watching
    report(user, progress, 2, 0, 10, at(10))
    again = report(user, progress, 2, 10, 20, at(20))
    older = report(user, progress, 1, 10, 20, at(30))
    assert again.status == older.status == "ignored"
    assert again.accepted == older.accepted == 0
    assert LessonProgress.objects.get(pk=progress.pk).watched_seconds == 10


def test_rewatching_the_same_part_adds_nothing(watching):
    user, enrollment, progress = watching
    report(user, progress, 1, 0, 10, at(10))
    outcome = report(user, progress, 2, 0, 10, at(20))
    assert outcome.accepted == 0 and outcome.watched_seconds == 10


def test_a_long_idle_gap_does_not_bank_time(watching):
    user, enrollment, progress = watching
    outcome = report(user, progress, 1, 0, 100, at(3600))
    assert outcome.accepted == services.MAX_REPORT_SECONDS


def test_a_second_window_takes_over_and_the_first_is_refused(watching):
    user, enrollment, progress = watching
    old_session = progress.session
    services.start_lesson(enrollment, progress.lesson, now=at(5))
    outcome = report(user, progress, 1, 0, 10, at(10), session=old_session)
    assert outcome.status == "stale_session" and outcome.accepted == 0


def test_bad_numbers_are_refused_with_a_field_name(watching):
    from django.core.exceptions import ValidationError

    user, enrollment, progress = watching
    for start, end in [("abc", 10), (-1, 10), (10, 5), (float("nan"), 3)]:
        with pytest.raises(ValidationError):
            report(user, progress, 1, start, end, at(10))
    assert LessonProgress.objects.get(pk=progress.pk).watched_seconds == 0


def test_another_persons_progress_cannot_be_reported(watching):
    from django.core.exceptions import PermissionDenied

    user, enrollment, progress = watching
    with pytest.raises(PermissionDenied):
        report(trainee("someone_else"), progress, 1, 0, 10, at(10))


def test_document_needs_its_reading_time(watching):
    from django.core.exceptions import ValidationError

    user, enrollment, progress = watching
    _, document = lessons(enrollment.course)
    services.start_lesson(enrollment, document, now=T0)
    with pytest.raises(ValidationError, match="至少阅读 30 秒"):
        services.mark_lesson_read(enrollment, document, now=at(10))
    assert services.mark_lesson_read(enrollment, document, now=at(31)).completed_at is not None

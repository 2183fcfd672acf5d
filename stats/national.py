"""Daily totals reported to the national site through the federation channel (docs/statistics.md).

Sending (every province and city, from the roll-up task): the days rolled up since they were last
reported — at most MAX_DAYS per request — go to the uplink as a signed `POST /federation/statistics/`
(the same signing, loopback/HTTP transport and key registry as federation's pushes). Counts only:
`{"days": [{"day": "2026-11-30", "totals": {"page_views": [1234, "0"], ...}}]}`.

Receiving (the national site): the sending site is the one the signing key belongs to; each day
replaces that site's rows of that day, so a day sent twice (a retry, a re-roll) changes nothing.
Everything received is checked (dates, metric names, numbers) and a bad day refuses the request
with a message naming the field.

Failures back off exponentially (1 min … 6 h); a site with nothing new sends nothing; the current
day is re-sent at most every REPORT_EVERY seconds.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from .models import DailyCount, ReportingSite, ReportState, RolledDay, SiteDailyTotal
from .services import METRICS

logger = logging.getLogger(__name__)

PATH = "/federation/statistics/"
MAX_DAYS = 400
REPORT_EVERY = 600
BACKOFF_BASE = 60
BACKOFF_CAP = 6 * 3600
MAX_NUMBER = 10**12


def _state() -> ReportState:
    return ReportState.objects.order_by("pk").first() or ReportState.objects.create()


def pending_days(now=None) -> list[date]:
    """Days rolled up since they were last reported; today only if not reported for REPORT_EVERY s."""
    now = now or timezone.now()
    current = timezone.localtime(now).date()
    days = []
    for day, rolled_at, reported_at in RolledDay.objects.order_by("day").values_list("day", "rolled_at", "reported_at"):
        if reported_at is not None and reported_at >= rolled_at:
            continue
        if day == current and reported_at is not None and (now - reported_at).total_seconds() < REPORT_EVERY:
            continue
        days.append(day)
    return days[-MAX_DAYS:]


def build_report(days: list[date]) -> dict:
    by_day: dict[date, dict] = {day: {} for day in days}
    for day, metric, count, amount in DailyCount.objects.filter(day__in=days, subject="").values_list(
        "day", "metric", "count", "amount"
    ):
        by_day[day][metric] = [count, str(amount)]
    return {"days": [{"day": day.isoformat(), "totals": totals} for day, totals in by_day.items()]}


def report_if_due(now=None) -> dict:
    """Send what is pending to the uplink (no uplink, nothing pending, or backing off: nothing sent)."""
    from federation.services import uplink
    from federation.transport import TransportError, for_peer

    now = now or timezone.now()
    peer = uplink()
    if peer is None:
        return {"sent": 0, "reason": "no uplink"}
    state = _state()
    if state.next_attempt_at and state.next_attempt_at > now:
        return {"sent": 0, "reason": "backing off"}
    days = pending_days(now)
    if not days:
        return {"sent": 0, "reason": "nothing new"}
    state.last_attempt_at = now
    try:
        for_peer(peer).request("POST", PATH, build_report(days))
    except TransportError as exc:
        state.failures += 1
        wait = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (state.failures - 1)) if exc.retryable else BACKOFF_CAP
        state.next_attempt_at = now + timedelta(seconds=wait)
        state.last_error = str(exc)[:1000]
        state.save()
        logger.warning("statistics report to %s failed: %s", peer.name, exc)
        return {"sent": 0, "reason": str(exc)}
    with transaction.atomic():
        RolledDay.objects.filter(day__in=days).update(reported_at=now)
        state.failures, state.next_attempt_at, state.last_error, state.last_success_at = 0, None, "", now
        state.save()
    return {"sent": len(days)}


# --- Receiving (national) -----------------------------------------------------------------------


class ReportRejected(ValueError):
    pass


def _number(value, field: str, *, integer: bool):
    if integer:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_NUMBER:
            raise ReportRejected(f"{field}: a whole number from 0 is required")
        return value
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ReportRejected(f"{field}: a number is required") from None
    if not number.is_finite() or not 0 <= number < MAX_NUMBER:
        raise ReportRejected(f"{field}: a number from 0 is required")
    return number.quantize(Decimal("0.1"))


def parse_report(data) -> dict[date, dict[str, tuple[int, Decimal]]]:
    """The days of a received report, checked; raises ReportRejected naming the bad field."""
    days = data.get("days") if isinstance(data, dict) else None
    if not isinstance(days, list):
        raise ReportRejected("days: a list is required")
    if len(days) > MAX_DAYS:
        raise ReportRejected(f"days: at most {MAX_DAYS} per report")
    latest = timezone.localdate() + timedelta(days=1)
    parsed: dict[date, dict[str, tuple[int, Decimal]]] = {}
    for n, item in enumerate(days):
        where = f"days[{n}]"
        if not isinstance(item, dict):
            raise ReportRejected(f"{where}: an object is required")
        try:
            day = date.fromisoformat(str(item.get("day")))
        except ValueError:
            raise ReportRejected(f"{where}.day: a date (YYYY-MM-DD) is required") from None
        if not date(2000, 1, 1) <= day <= latest:
            raise ReportRejected(f"{where}.day: out of range")
        totals = item.get("totals")
        if not isinstance(totals, dict):
            raise ReportRejected(f"{where}.totals: an object is required")
        parsed[day] = {}
        for metric, pair in totals.items():
            if metric not in METRICS:
                raise ReportRejected(f"{where}.totals.{str(metric)[:30]}: unknown metric")
            if not isinstance(pair, list) or len(pair) != 2:
                raise ReportRejected(f"{where}.totals.{metric}: [count, amount] is required")
            parsed[day][metric] = (
                _number(pair[0], f"{where}.totals.{metric}[0]", integer=True),
                _number(pair[1], f"{where}.totals.{metric}[1]", integer=False),
            )
    return parsed


def receive_report(key, data) -> tuple[int, dict]:
    """Store a report sent with `key` (federation.InboundKey); runs in the national schema."""
    from core.regions import province_of

    try:
        parsed = parse_report(data)
    except ReportRejected as exc:
        return 400, {"error": str(exc), "code": "bad_report"}
    now = timezone.now()
    with transaction.atomic():
        site, _ = ReportingSite.objects.select_for_update().get_or_create(
            origin_slug=key.origin_slug,
            defaults={
                "origin_code": key.origin_code,
                "origin_name": key.origin_name,
                "province_code": province_of(key.origin_code),
            },
        )
        site.origin_code, site.origin_name = key.origin_code, key.origin_name
        site.province_code = province_of(key.origin_code)
        SiteDailyTotal.objects.filter(site=site, day__in=list(parsed)).delete()
        SiteDailyTotal.objects.bulk_create(
            [
                SiteDailyTotal(site=site, day=day, metric=metric, count=count, amount=amount)
                for day, totals in parsed.items()
                for metric, (count, amount) in totals.items()
            ]
        )
        site.last_reported_at = now
        if parsed:
            site.last_day = max(max(parsed), site.last_day or date.min)
        site.save()
    return 200, {"accepted": len(parsed)}

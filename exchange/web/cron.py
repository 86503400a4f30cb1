"""A clearing schedule (crontab, Beijing time) in words: ``*/5 * * * *`` ->
"every 5 minutes, Beijing time" / "每 5 分钟（北京时间）".

Handles the shapes markets use (every N minutes, from minute M; hourly; every N hours;
daily, on weekdays, weekly, monthly at a time); anything else is shown as the raw
expression.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

NUMBER = r"(\d{1,2})"
WEEKDAYS = {
    "0": "Sunday", "1": "Monday", "2": "Tuesday", "3": "Wednesday", "4": "Thursday",
    "5": "Friday", "6": "Saturday", "7": "Sunday",
}  # fmt: skip


def _weekday(code: str) -> str:
    words = {
        "Sunday": _("Sunday"),
        "Monday": _("Monday"),
        "Tuesday": _("Tuesday"),
        "Wednesday": _("Wednesday"),
        "Thursday": _("Thursday"),
        "Friday": _("Friday"),
        "Saturday": _("Saturday"),
    }
    return words[WEEKDAYS[code]]


def _minutes(field: str) -> str | None:
    """The minute field of a schedule that fires within every hour, in words."""
    if field == "*":
        return _("every minute")
    match = re.fullmatch(r"(?:\*|0-59)/" + NUMBER, field)
    if match:
        return _("every %(n)s minutes", n=int(match.group(1)))
    match = re.fullmatch(NUMBER + r"-59/" + NUMBER, field)
    if match:
        return _(
            "every %(n)s minutes from minute %(m)s", n=int(match.group(2)), m=int(match.group(1))
        )
    return None


def cron_words(expression: str | None) -> str:
    """The schedule in the page's language, Beijing time; the raw expression if unusual."""
    if not expression:
        return "—"
    fields = expression.split()
    if len(fields) != 5:
        return expression
    minute, hour, day, month, weekday = fields
    words = _describe(minute, hour, day, month, weekday)
    if words is None:
        return _("%(cron)s (cron, Beijing time)", cron=expression)
    return _("%(schedule)s, Beijing time", schedule=words)


def _describe(minute: str, hour: str, day: str, month: str, weekday: str) -> str | None:
    if month != "*":
        return None
    if hour == "*" and day == "*" and weekday == "*":
        every = _minutes(minute)
        if every is not None:
            return every
        if re.fullmatch(NUMBER, minute):
            return _("every hour at minute %(m)s", m=int(minute))
        return None
    if not re.fullmatch(NUMBER, minute):
        return None
    match = re.fullmatch(r"\*/" + NUMBER, hour)
    if match and day == "*" and weekday == "*":
        return _("every %(n)s hours at minute %(m)s", n=int(match.group(1)), m=int(minute))
    if not re.fullmatch(NUMBER, hour):
        return None
    time = f"{int(hour):02d}:{int(minute):02d}"
    if day == "*" and weekday == "*":
        return _("daily at %(time)s", time=time)
    if day == "*" and weekday == "1-5":
        return _("Monday to Friday at %(time)s", time=time)
    if day == "*" and weekday in WEEKDAYS:
        return _("every %(weekday)s at %(time)s", weekday=_weekday(weekday), time=time)
    if weekday == "*" and re.fullmatch(NUMBER, day):
        return _("monthly on day %(day)s at %(time)s", day=int(day), time=time)
    return None

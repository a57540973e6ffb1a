"""Who should take a ticket: volunteers ranked for a job, each with a one-line reason. Pure: no Flask, no SQL."""
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dispatch.teams.skills import SKILLS

# How much each factor weighs; the order of the weights is the order of importance in the issue.
W_SKILLS, W_NOW, W_SOON, W_ROOM, W_COMMUNITY, W_NEAR, W_RELIABLE = 100, 40, 20, 30, 15, 10, 10
NEAR_KM = 3.0  # beyond this, distance adds nothing
LOOKAHEAD_DAYS = 7  # "available soonest" looks this far ahead


@dataclass(slots=True)  # not frozen: 500 of them are built per ranking, and a frozen __init__ costs 3×
class Candidate:
    """A volunteer as routing sees them."""

    user_id: int
    username: str
    name: str
    community_id: int
    skills: frozenset
    hours: tuple  # seven tuples of (start minute, end minute), Monday first; local time
    leave: tuple  # (first day, last day) pairs, inclusive
    open_tasks: int
    max_tasks: int
    latitude: float | None = None
    longitude: float | None = None
    accept_rate: float | None = None  # signed for / offered, recent tasks; None: no history
    on_time_rate: float | None = None  # resolved in time / resolved, recent tasks


@dataclass(frozen=True)
class Job:
    """The ticket as routing sees it."""

    community_id: int
    category_name: str
    required_skills: frozenset
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Suggestion:
    """One ranked volunteer: the score, whether they may be auto-assigned, and why, in one line."""

    candidate: Candidate
    score: float
    assignable: bool
    reason: str


def parse_hours(text):
    """'08:00-12:00,14:00-17:30' → ((480, 720), (840, 1050)); blank → (); bad parts raise ValueError."""
    spans = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        start, _, end = part.partition("-")
        first, last = _minute(start), _minute(end)
        if last <= first:
            raise ValueError(f"时段「{part}」的结束时间应晚于开始时间")
        spans.append((first, last))
    return tuple(sorted(spans))


def _minute(hhmm):
    hours, _, minutes = hhmm.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) <= 24 and int(minutes) < 60):
        raise ValueError(f"时间「{hhmm.strip()}」应写成 08:30 这样")
    return int(hours) * 60 + int(minutes)


def on_leave(candidate, day):
    """Whether a local date falls in one of the candidate's leave periods."""
    return any(first <= day <= last for first, last in candidate.leave)


def next_on_duty(candidate, at):
    """The local datetime from which the candidate is on duty (at itself when on duty now); None within a week."""
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = (at + timedelta(days=offset)).date()
        if on_leave(candidate, day):
            continue
        for start, end in candidate.hours[day.weekday()] if len(candidate.hours) == 7 else ():
            minute_now = at.hour * 60 + at.minute if offset == 0 else -1
            if offset == 0 and start <= minute_now < end:
                return at
            if start > minute_now:
                return datetime.combine(day, datetime.min.time(), at.tzinfo) + timedelta(minutes=start)
    return None


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle distance between two points, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _skill_part(job, candidate):
    """(share of required skills covered, the reason's words)."""
    if not job.required_skills:
        return 1.0, "不限技能"
    covered = job.required_skills & candidate.skills
    if covered == job.required_skills:
        return 1.0, f"{job.category_name} ✓"
    missing = "、".join(SKILLS.get(s, s) for s in sorted(job.required_skills - covered))
    return len(covered) / len(job.required_skills), f"缺{missing}"


def _duty_part(candidate, at):
    """(score, words, on duty now) for when the candidate can go."""
    start = next_on_duty(candidate, at)
    if start is None:
        return 0.0, "一周内不在岗" if not on_leave(candidate, at.date()) else "休假中", False
    if start == at:
        return W_NOW, "今天在岗", True
    hours_away = (start - at).total_seconds() / 3600
    when = f"今天{start:%H:%M}" if start.date() == at.date() else f"{(start.date() - at.date()).days}天后"
    return W_SOON * max(0.0, 1 - hours_away / (24 * LOOKAHEAD_DAYS)), f"{when}在岗", False


def _near_part(job, candidate):
    """(score, words) for distance, when both sides have coordinates."""
    if None in (job.latitude, job.longitude, candidate.latitude, candidate.longitude):
        return 0.0, None
    km = distance_km(job.latitude, job.longitude, candidate.latitude, candidate.longitude)
    return W_NEAR * max(0.0, 1 - km / NEAR_KM), (f"{km * 1000:.0f} 米" if km < 1 else f"{km:.1f} 公里")


def _reliable_part(candidate):
    """(score, words) from recent acceptance and on-time rates; no history counts as middling."""
    rates = [r for r in (candidate.accept_rate, candidate.on_time_rate) if r is not None]
    if not rates:
        return W_RELIABLE * 0.5, None
    words = []
    if candidate.accept_rate is not None:
        words.append(f"接单率{candidate.accept_rate:.0%}")
    if candidate.on_time_rate is not None:
        words.append(f"按时{candidate.on_time_rate:.0%}")
    return W_RELIABLE * sum(rates) / len(rates), " ".join(words)


def suggest(job, candidate, at):
    """Score one candidate for a job at a local time; the reason lists each factor in order."""
    skill_share, skill_words = _skill_part(job, candidate)
    duty_score, duty_words, on_duty = _duty_part(candidate, at)
    has_room = candidate.open_tasks < candidate.max_tasks
    near_score, near_words = _near_part(job, candidate)
    reliable_score, reliable_words = _reliable_part(candidate)
    same = candidate.community_id == job.community_id
    score = (W_SKILLS * skill_share + duty_score + (W_ROOM * (1 - candidate.open_tasks / candidate.max_tasks)
             if has_room else 0) + (W_COMMUNITY if same else 0) + near_score + reliable_score)
    load = f"{candidate.open_tasks}/{candidate.max_tasks} 任务" + ("" if has_room else " 已满")
    words = [skill_words, duty_words, load, "本社区" if same else "街道服务队", near_words, reliable_words]
    return Suggestion(candidate, round(score, 2), skill_share == 1.0 and on_duty and has_room,
                      " · ".join(w for w in words if w))


def rank(job, candidates, at, limit=None):
    """The candidates who cover at least one required skill (or all, when none is required), best first."""
    ranked = [suggest(job, c, at) for c in candidates if not job.required_skills or job.required_skills & c.skills]
    ranked.sort(key=lambda s: (-s.score, s.candidate.open_tasks, s.candidate.user_id))
    return ranked[:limit] if limit else ranked


def auto_pick(ranked):
    """The suggestion auto-assignment may take: the top one, only if it fits fully now; else None."""
    return ranked[0] if ranked and ranked[0].assignable else None


def local_day(value):
    """A date from 'YYYY-MM-DD' (for leave periods stored as text)."""
    return date.fromisoformat(value)


def auto_pick_on_call(job, ranked, on_call_ids):
    """Outside office hours: the best suggestion on shift now, or on the duty roster with every skill and room
    for one more task; else None (the ticket then goes to the duty chain, never to someone off duty)."""
    for suggestion in ranked:
        c = suggestion.candidate
        if suggestion.assignable or (c.user_id in on_call_ids and job.required_skills <= c.skills
                                     and c.open_tasks < c.max_tasks):
            return suggestion
    return None

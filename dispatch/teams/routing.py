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
    standing: "Standing" = None  # what the lists show as badges (duty, skill, open tasks)
    beside: str = ""  # the rest of the reason: community, distance, track record


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


DUTY_LABELS = {"on": "在岗", "leave": "请假", "off": "不在班"}


@dataclass(slots=True)  # not frozen: one is built per candidate of a ranking (see Candidate)
class Standing:
    """Where a volunteer stands for a job at a moment: what every list of volunteers shows and what the dispatch
    guard checks, so the rules live here once."""

    duty: str  # "on" (on shift now), "leave" (on leave today), "off" (not on shift now)
    next_duty: datetime | None  # when they are next on shift (now when on shift); None: not within a week
    needed: frozenset  # the skills the job needs (empty: anyone may take it, or no job)
    missing: frozenset  # of those, the ones they lack
    open_tasks: int
    max_tasks: int
    day: date  # the local day the standing is for
    leave_until: date | None = None  # the last day of the leave they are on

    @property
    def label(self):
        """在岗 / 请假 / 不在班."""
        return DUTY_LABELS[self.duty]

    @property
    def when(self):
        """When someone not on shift is next on it, in words ("今天14:00上班", "3天后上班"); '' when on shift."""
        if self.duty == "on":
            return ""
        if self.next_duty is None:
            return "一周内没有排班"
        days = (self.next_duty.date() - self.day).days
        return f"今天{self.next_duty:%H:%M}上班" if days == 0 else f"{days}天后上班"

    @property
    def has_skill(self):
        """Whether they cover every skill the job needs (True when it needs none)."""
        return not self.missing

    @property
    def skill_text(self):
        """有「电工维修」 / 缺「电工维修」 / '' when the job needs none."""
        if not self.needed:
            return ""
        return f"有{_skill_names(self.needed)}" if self.has_skill else f"缺{_skill_names(self.missing)}"

    @property
    def full(self):
        return self.open_tasks >= self.max_tasks

    @property
    def load_text(self):
        return f"在办 {self.open_tasks}/{self.max_tasks}" + ("（已满）" if self.full else "")

    @property
    def warnings(self):
        """Why sending them this job needs a confirmation: leave, off shift, a missing skill; empty when it fits."""
        words = []
        if self.duty == "leave":
            words.append(f"今天请假（到{self.leave_until.month}月{self.leave_until.day}日）")
        elif self.duty == "off":
            words.append(f"现在不在班（{self.when}）")
        if self.missing:
            words.append(f"没有{_skill_names(self.missing)}技能")
        return tuple(words)


def _skill_names(codes):
    return "".join(f"「{SKILLS.get(code, code)}」" for code in sorted(codes))


def standing(candidate, job, at, on_roster=False):
    """A volunteer's standing for a job (None: no job, skills not judged) at a local time; someone on the duty
    roster (值班表) now is on duty whatever their weekly hours say. Pure."""
    day = at.date()
    leave_until = next((last for first, last in candidate.leave if first <= day <= last), None)
    start = at if on_roster and not leave_until else next_on_duty(candidate, at)
    duty = "leave" if leave_until else ("on" if start == at else "off")
    needed = job.required_skills if job else frozenset()
    return Standing(duty, start, needed, needed - candidate.skills, candidate.open_tasks, candidate.max_tasks,
                    day, leave_until)


def confirmation_text(name, warnings):
    """The question a dispatch to a volunteer with warnings asks: "王芳 今天请假；没有「电工维修」技能。仍要派给王芳吗？"."""
    return f"{name} {'；'.join(warnings)}。仍要派给{name}吗？"


def _skill_part(job, candidate, standing_now):
    """(share of required skills covered, the reason's words)."""
    if not job.required_skills:
        return 1.0, "不限技能"
    if standing_now.has_skill:
        return 1.0, f"{job.category_name} ✓"
    missing = "、".join(SKILLS.get(s, s) for s in sorted(standing_now.missing))
    return 1 - len(standing_now.missing) / len(job.required_skills), f"缺{missing}"


def _duty_part(standing_now, at):
    """(score, words, on duty now) for when the candidate can go."""
    start = standing_now.next_duty
    if start is None:
        return 0.0, "一周内不在岗" if standing_now.duty != "leave" else "休假中", False
    if standing_now.duty == "on":
        return W_NOW, "今天在岗", True
    hours_away = (start - at).total_seconds() / 3600
    when = f"今天{start:%H:%M}" if start.date() == at.date() else f"{(start.date() - at.date()).days}天后"
    return W_SOON * max(0.0, 1 - hours_away / (24 * LOOKAHEAD_DAYS)), f"{when}在岗", False


def _near_part(job, candidate):
    """(score, words) for distance, when both sides have coordinates."""
    km = _km(job, candidate)
    if km == math.inf:
        return 0.0, None
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
    standing_now = standing(candidate, job, at)
    skill_share, skill_words = _skill_part(job, candidate, standing_now)
    duty_score, duty_words, on_duty = _duty_part(standing_now, at)
    has_room = candidate.open_tasks < candidate.max_tasks
    near_score, near_words = _near_part(job, candidate)
    reliable_score, reliable_words = _reliable_part(candidate)
    same = candidate.community_id == job.community_id
    score = (W_SKILLS * skill_share + duty_score + (W_ROOM * (1 - candidate.open_tasks / candidate.max_tasks)
             if has_room else 0) + (W_COMMUNITY if same else 0) + near_score + reliable_score)
    load = f"{candidate.open_tasks}/{candidate.max_tasks} 任务" + ("" if has_room else " 已满")
    beside = [w for w in ("本社区" if same else "街道服务队", near_words, reliable_words) if w]
    return Suggestion(candidate, round(score, 2), skill_share == 1.0 and on_duty and has_room,
                      " · ".join(w for w in [skill_words, duty_words, load, *beside] if w), standing_now,
                      " · ".join(beside))


def rank(job, candidates, at, limit=None):
    """The candidates who cover at least one required skill (or all, when none is required), best first."""
    ranked = [suggest(job, c, at) for c in candidates if not job.required_skills or job.required_skills & c.skills]
    ranked.sort(key=lambda s: (-s.score, s.candidate.open_tasks, s.candidate.user_id))
    return ranked[:limit] if limit else ranked


AVAILABILITY = {"on": 0, "off": 1, "leave": 2}  # on shift now, later, on leave


def closest(job, candidates, at, limit=5):
    """When nobody has a skill the job needs: who comes closest, for the director to choose with a warning —
    the ticket's community first, then on shift now, fewest open tasks, nearest."""
    offered = [suggest(job, c, at) for c in candidates]
    offered.sort(key=lambda s: (s.candidate.community_id != job.community_id, AVAILABILITY[s.standing.duty],
                                s.candidate.open_tasks, _km(job, s.candidate), s.candidate.user_id))
    return offered[:limit]


def _km(job, candidate):
    """The distance between the job and the candidate; unknown counts as farthest."""
    if None in (job.latitude, job.longitude, candidate.latitude, candidate.longitude):
        return math.inf
    return distance_km(job.latitude, job.longitude, candidate.latitude, candidate.longitude)


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

"""What the account answers a resident, in plain Chinese; every mention of calling is a tel: link."""

from dispatch.intake import small_talk
from dispatch.tickets.category_seed import URGENT_PHRASES
from dispatch.timeutil import local
from dispatch.tickets.models import Priority
from dispatch.urls import base_url
from dispatch.wechat.accounts import hotline

RECEIVED = "已收到您的消息，工作人员会尽快处理。"
EMPTY_TEXT = "请写下您要反映的问题和地址，例如：古田路16号3号楼2单元3楼楼道灯坏了。"
BAD_LOCATION = "没能读出您发送的位置，请重新发送一次。"
BAD_MEDIA = "没能收到这条消息的内容，请重新发送一次。"


def call_link(account):
    """'拨打 <a href="tel:…">…</a>' for the account's hotline, or an empty string when it has none."""
    number = hotline(account)
    return f'<a href="tel:{number}">{number}</a>' if number else ""


def _h5_url(account, page):
    """An address of the account's resident pages, as residents reach it (PUBLIC_BASE_URL)."""
    return f"{base_url()}/h5/{account.code}/{page}"


def ticket_url(account, ticket):
    """The ticket's page inside WeChat (H5)."""
    return _h5_url(account, f"tickets/{ticket.number}")


def my_tickets_url(account):
    """The resident's list of tickets (H5)."""
    return _h5_url(account, "tickets")


def report_url(account):
    """The report form (H5)."""
    return _h5_url(account, "report")


def response_promise(ticket, now):
    """When someone will get back to the resident: the SLA's response time when known, else the usual one."""
    if ticket.response_due_at is not None:
        due = local(ticket.response_due_at)
        return f"我们会在 {due.month}月{due.day}日 {due:%H:%M} 前联系您。"
    if ticket.priority is Priority.URGENT:
        return "这是紧急情况，我们会在 2 小时内联系您。"
    return "我们会在 1 个工作日内联系您。"


# What the classifier's urgent phrases mean (category_seed.URGENT_PHRASES) → the number to call first, and how.
EMERGENCY_NUMBERS = (
    ({"人员受伤", "人员昏厥", "人员生命危险", "人员倒地", "需要送医", "触电"},
     "有人受伤、昏迷或起不来，请先拨打 120 叫救护车"),
    ({"疑似燃气泄漏", "燃气泄漏", "火情", "火情或电气故障", "电气火灾隐患", "电梯困人"},
     "有火情、燃气泄漏或有人被困，请先拨打 119，人先离开危险的地方，不要开关电器"),
    ({"人员走失", "老人走失"}, "有人走失，请先拨打 110 报警"),
)


def emergency_advice(ticket):
    """For danger to life, the emergency number to call first, in plain words ("" for anything else)."""
    if ticket.priority is not Priority.URGENT:
        return ""
    text = ticket.description or ""
    meanings = {meaning for phrase, meaning in URGENT_PHRASES.items() if phrase in text}
    lines = [f"{words}！" for kinds, words in EMERGENCY_NUMBERS if meanings & kinds]
    return "".join(f"{line}\n" for line in lines)


_duty_lines = []  # functions (ticket, now) → lines: who will call at night (teams/duty.py registers one)


def duty_line(function):
    """Register what a new ticket's reply adds about the person on call (a decorator)."""
    _duty_lines.append(function)
    return function


def _on_duty(ticket, now):
    lines = [line for function in _duty_lines for line in function(ticket, now)]
    return "".join(f"\n{line}" for line in lines)


def _urgent_hint(account):
    link = call_link(account)
    return f"\n急事请直接拨打 {link}" if link else ""


def ticket_opened(account, ticket, now):
    """A new ticket from a note or recognised voice."""
    category = f"（{ticket.category.name}）" if ticket.category else ""  # staff sort it out, the resident need not
    lines = [f"{emergency_advice(ticket)}您反映的问题已登记，工单号 {ticket.number}{category}。",
             response_promise(ticket, now)]
    if ticket.address:
        lines.append(f"地址：{ticket.address}")
    lines.append(f'<a href="{ticket_url(account, ticket)}">查看办理进度</a>')
    return "\n".join(lines) + _on_duty(ticket, now) + _urgent_hint(account)


def ticket_updated(account, ticket, now):
    """The words a photo ticket was waiting for."""
    return (f"{emergency_advice(ticket)}已补充到工单 {ticket.number}。" + response_promise(ticket, now)
            + f'\n<a href="{ticket_url(account, ticket)}">查看办理进度</a>' + _on_duty(ticket, now)
            + _urgent_hint(account))


def photo_opened(account, ticket):
    """A photo alone."""
    return (f"照片已收到，工单号 {ticket.number}。\n请再发一段文字，说说是什么问题、在哪里"
            f"（例如：古田路16号3号楼2单元楼道灯坏了），我们会一并处理。" + _urgent_hint(account))


NOTHING_TO_SPLIT = "好的。请直接发文字、照片或语音，说说新问题和地点，我们会另外登记。"
NEW_PROBLEM_LINK = ('<a href="weixin://bizmsgmenu?msgmenucontent=这是新问题&msgmenuid=NEW_PROBLEM">这是新问题</a>')


def _not_this_one():
    """How to say that an attachment is about another problem (a tap where WeChat allows, or the words)."""
    return f"\n如果说的是另一个问题，请点 {NEW_PROBLEM_LINK} 或回复“这是新问题”。"


def _about(ticket):
    """The problem a ticket is about, in a few words, once the resident has said it."""
    return "" if ticket.description_pending else f"（{_short(ticket.description)}）"


def photo_joined(account, ticket):
    """A photo for the ticket the resident reported last."""
    return f"照片已补充到工单 {ticket.number}{_about(ticket)}。" + _not_this_one()


def voice_joined(account, ticket):
    """A voice WeChat could not turn into text, for the ticket the resident reported last."""
    return (f"语音已补充到工单 {ticket.number}{_about(ticket)}，工作人员会收听。"
            + _not_this_one())


def answer_added(account, ticket, what=""):
    """The resident's answer to staff's question: the ticket goes on."""
    return (f"{what}已补充到工单 {ticket.number}，我们继续为您办理。"
            f'\n<a href="{ticket_url(account, ticket)}">查看办理进度</a>' + _urgent_hint(account))


def attachment_split(account, ticket, what):
    """The last photo or voice made a ticket of its own."""
    return (f"好的，这张{what}已单独登记为新工单 {ticket.number}。\n请再发一段文字，说说是什么问题、在哪里，"
            "我们会一并处理。" + _urgent_hint(account))


def location_split(ticket):
    """The last location belongs to the next problem, not to the ticket it joined."""
    return f"好的，这个位置不算在工单 {ticket.number} 里了。请接着发文字或照片，说明新的问题。"


def voice_received(account, ticket):
    """A voice that WeChat could not turn into text."""
    return (f"语音已收到，工单号 {ticket.number}。工作人员会收听后尽快处理。"
            f'\n<a href="{ticket_url(account, ticket)}">查看办理进度</a>' + _urgent_hint(account))


def location_joined(account, ticket, label):
    """A location for the ticket the resident reported last."""
    return f"已记录位置{('：' + label) if label else ''}，补充到工单 {ticket.number}。" + _not_this_one()


def location_kept(label):
    """A location before any ticket."""
    return f"已记录您的位置{('：' + label) if label else ''}。请接着发文字或照片，说明遇到的问题。"


def choose_community(account):
    """The district account cannot tell which community a resident lives in."""
    return (f"已收到您的消息。请先告诉我们您所在的社区：<a href=\"{report_url(account)}\">点此填写报事单</a>"
            + _urgent_hint(account))


def ask_community(account, candidates):
    """The district account could not tell the community: the words are kept; a short list to pick by number,
    the road and number to reply with, or the report form (prefilled) with a search by road or 小区 name."""
    find = f'<a href="{report_url(account)}">点此按路名或小区名查找</a>'
    if candidates:
        lines = ["已收到您反映的情况，您写的内容已经记下，不用重写。", "请问您说的地方属于哪个社区？回复序号就行："]
        lines += [f"{i} {community.name}" for i, community in enumerate(candidates, 1)]
        lines.append(f"都不是？请回复路名和门牌号（例如：湛山路5号），或{find}。")
    else:
        lines = ["已收到您反映的情况，您写的内容已经记下，不用重写。",
                 "请问是在哪条路、几号？直接回复路名和门牌号就行（例如：湛山路5号）。",
                 f"说不清楚也没关系，{find}您的社区。"]
    return "\n".join(lines) + _urgent_hint(account)


def welcome(account):
    """After following the account."""
    link = call_link(account)
    lines = [f"欢迎关注{account.name}！", "遇到楼道灯坏、漏水、垃圾没清、需要上门帮忙等事情，",
             "直接在这里发文字、照片或语音给我们，我们会登记工单，并把办理进度发给您。",
             f'也可以<a href="{report_url(account)}">填写报事单</a>。']
    if link:
        lines.append(f"打电话更方便的话，请拨打 {link}")
    return "\n".join(lines)


def hotline_text(account):
    """The menu's HOTLINE key."""
    link = call_link(account)
    return f"{account.name}服务电话：{link}" if link else "本号暂未设置服务电话，请直接留言，我们会尽快回复。"


def my_tickets(account, tickets, now):
    """The menu's MY_TICKETS key: open tickets with their states, newest first."""
    if not tickets:
        return f"您目前没有正在办理的工单。\n有事请直接留言，或<a href=\"{report_url(account)}\">填写报事单</a>。"
    lines = ["您正在办理的工单："]
    lines += [f'{local(t.created_at):%m-%d} <a href="{ticket_url(account, t)}">{t.number}</a> {t.status.resident_label}'
              f"：{_short(t.description)}" for t in tickets]
    lines.append(f'<a href="{my_tickets_url(account)}">查看全部</a>')
    return "\n".join(lines)


def _short(text, limit=14):
    return text if len(text) <= limit else text[:limit] + "…"


def unsupported(account):
    """A message type we do not handle (video, link, file…)."""
    return "暂时只能处理文字、照片、语音和位置。请用文字或语音说明您的问题。" + _urgent_hint(account)


_SMALL_TALK = {small_talk.THANKS: "不客气，这是我们应该做的。", small_talk.ACK: "好的。",
               small_talk.GREETING: "您好，我们在！", small_talk.EMOJI: "收到啦 😊"}
_TELL_US = "有需要请直接发文字、语音或照片告诉我们，说说是什么问题、在哪里（例如：古田路16号3号楼楼道灯坏了）。"


def small_talk_reply(account, kind, to_rate=None, awaiting_words=None, in_progress=False):
    """Thanks, an acknowledgement, a greeting or a face: a short friendly answer, and no ticket opened.

    to_rate: the resident's resolved ticket nobody has rated yet; awaiting_words: their photo ticket that still
    needs words; in_progress: whether they have a ticket being handled."""
    lines = [_SMALL_TALK[kind]]
    if awaiting_words is not None:
        lines.append(f"您的照片已登记为工单 {awaiting_words.number}，请再发一段文字，说说是什么问题、在哪里，"
                     "我们一并处理。")
    elif to_rate is not None:
        lines.append(f"工单 {to_rate.number} 已经办好了，"
                     f'<a href="{ticket_url(account, to_rate)}">请给这次服务评个分</a>，您的意见帮我们做得更好。')
    elif in_progress:
        lines.append(f'您的工单正在办理中，<a href="{my_tickets_url(account)}">点此查看进度</a>。')
    if kind in (small_talk.THANKS, small_talk.ACK):
        return "\n".join(lines + ["以后有事，随时在这里留言。"])
    return "\n".join(lines + [_TELL_US]) + _urgent_hint(account)

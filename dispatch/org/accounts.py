"""The rules of a staff account's username and password: one place for every door that makes one."""
import re

from dispatch.errors import Invalid

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{2,63}")
USERNAME_RULE = "用户名为 3–64 位小写字母、数字、点、下划线或短横线，以字母或数字开头"
MIN_PASSWORD = 8


def account_problems(username, password):
    """{field: [message]} for a username or password that breaks the rules; empty when both pass."""
    problems = {}
    if not USERNAME.fullmatch(username or ""):
        problems["username"] = [USERNAME_RULE]
    if len(password or "") < MIN_PASSWORD:
        problems["password"] = [f"初始密码至少 {MIN_PASSWORD} 位"]
    return problems


def check_account(username, password):
    """Refuse (422) a username or password that breaks the rules, with the console's messages."""
    problems = account_problems(username, password)
    if problems:
        raise Invalid("；".join(text for texts in problems.values() for text in texts), fields=problems)

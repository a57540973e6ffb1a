"""The lifecycle state machine as pure functions, without the app."""
import pytest

from dispatch.org.roles import Role
from dispatch.tickets.consequences import TABLE, missing_steps
from dispatch.tickets.lifecycle import (ACTIONS, ActionNotPermitted, IllegalTransition, Status, allowed_actions,
                                        check_role, next_status)

pytestmark = pytest.mark.pure


def test_happy_path():
    status = Status.NEW
    for action in ("accept", "dispatch", "sign", "start", "resolve", "close"):
        status = next_status(status, action)
    assert status is Status.CLOSED


def test_every_state_is_reachable_from_new():
    seen, frontier = {Status.NEW}, [Status.NEW]
    while frontier:
        status = frontier.pop()
        for action in allowed_actions(status):
            target = next_status(status, action.name, previous=Status.SIGNED)
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(Status)


def test_terminal_states_allow_nothing_but_reopening_a_closed_ticket():
    assert allowed_actions(Status.INVALID) == allowed_actions(Status.MERGED) == []
    assert [a.name for a in allowed_actions(Status.CLOSED)] == ["reopen"]


@pytest.mark.parametrize("status, action", [(Status.NEW, "resolve"), (Status.CLOSED, "accept"),
                                            (Status.MERGED, "reopen"), (Status.DISPATCHED, "start")])
def test_illegal_transitions_name_state_and_allowed_actions(status, action):
    with pytest.raises(IllegalTransition) as err:
        next_status(status, action)
    assert status.label in str(err.value)
    for allowed in allowed_actions(status):
        assert allowed.label in str(err.value) and f"({allowed.name})" not in str(err.value)


def test_paused_states_go_back_where_they_came_from():
    assert next_status(Status.WAITING_RESIDENT, "resume", previous=Status.IN_PROGRESS) is Status.IN_PROGRESS
    assert next_status(Status.EXTENSION_REQUESTED, "approve_extension", previous=Status.SIGNED) is Status.SIGNED


def test_roles():
    check_role("sign", Role.VOLUNTEER)
    with pytest.raises(ActionNotPermitted):
        check_role("dispatch", Role.VOLUNTEER)
    with pytest.raises(ActionNotPermitted):
        check_role("approve_extension", Role.COMMUNITY_DIRECTOR)
    assert {a.name for a in allowed_actions(Status.DISPATCHED, Role.DEPARTMENT_USER)} == {"sign", "return"}


def test_every_action_has_a_chinese_label_and_sources():
    for action in ACTIONS.values():
        assert action.label and action.sources and action.roles


def test_every_action_has_its_row_of_consequences():
    assert set(TABLE) == set(ACTIONS) | {"created"}
    for row in TABLE.values():
        for item in row:
            name = item if isinstance(item, str) else item[0]
            assert isinstance(name, str) and name


def test_every_step_the_table_names_is_registered(app):
    assert missing_steps() == []

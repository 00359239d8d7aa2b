"""``/history`` renders each select's options once per selected value
(``once_per_value``) and its labels once a page: every action still gets its own
selection, and the form re-rendered with an error keeps what was typed in its own form."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.portal.conftest import Member

pytestmark = pytest.mark.integration

Project = Callable[[], None]


def selected(form: str, name: str) -> list[str]:
    select = re.search(rf'<select id="{name}-[^"]+" name="{name}"[^>]*>(.*?)</select>', form, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]+)" selected>', select.group(1))


def test_each_action_keeps_its_own_selection(
    member: Callable[..., Member], project: Project
) -> None:
    m = member()
    m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "private"})
    m.post("/actions", {"tactic": "small_exposure", "minutes": "20", "audience": "team"})
    m.post("/actions", {"tactic": "learning_bit", "minutes": "5", "audience": "team"})
    project()
    html = m.page("/history")
    forms = re.findall(r'<form method="post" action="/history/([0-9a-f-]+)/correct"(.*?)</form>',
                       html, re.S)  # fmt: skip
    assert [(selected(f, "tactic"), selected(f, "audience")) for _, f in forms] == [
        (["learning_bit"], ["team"]),
        (["small_exposure"], ["team"]),
        (["learning_bit"], ["private"]),
    ]
    assert all(f.count("<option ") == 10 for _, f in forms)  # 7 tactics, 3 audiences
    assert html.count("Save the correction") == 3 and html.count("Remove this action") == 3
    token = re.findall(r'name="csrf_token" value="([^"]+)"', html)
    assert len(token) == 7 and len(set(token)) == 1  # six forms and the log-out

    first = forms[2][0]
    bad = m.post(f"/history/{first}/correct",
                 {"tactic": "network_nudge", "minutes": "0", "audience": "team"})  # fmt: skip
    assert bad.status_code == 422
    again = re.findall(r'<form method="post" action="/history/([0-9a-f-]+)/correct"(.*?)</form>',
                       bad.get_data(as_text=True), re.S)  # fmt: skip
    assert [(selected(f, "tactic"), selected(f, "audience")) for _, f in again] == [
        (["learning_bit"], ["team"]),
        (["small_exposure"], ["team"]),
        (["network_nudge"], ["team"]),  # what was typed, in its own form only
    ]

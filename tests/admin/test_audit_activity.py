"""The audit shows sign-ins and exports (issue 22): each is an event in the log (``SignedIn``,
``DataExported``) with who, when and how, nothing personal; filterable and in the CSV."""

from __future__ import annotations

import csv
import io

from flask import Flask

from shared.projections import runtime
from tests.admin.conftest import Console, log_in


def test_a_password_sign_in_is_an_event_with_who_and_how_only(console: Console, app: Flask):
    org = console.org
    employee = app.test_client()
    log_in(employee, org.emails["platform-1"], org.password)
    signed = console.events("SignedIn")
    assert [(e.data["person_id"], e.data["method"]) for e in signed[-2:]] == [
        (str(org.admin), "password"),
        (str(org.people["platform-1"]), "password"),
    ]
    last = signed[-1]
    assert set(last.data) == {"person_id", "method"}  # no address, IP or user agent
    assert last.metadata["actor"] == str(org.people["platform-1"])
    assert last.metadata["source"] == "portal"
    page = console.page("/admin/audit?kind=sign-ins")
    assert "SignedIn" in page and "method: password" in page
    assert org.emails["platform-1"] in page
    assert "PersonRoleChanged" not in page
    # A wrong password signs nobody in: nothing recorded.
    bad = app.test_client()
    before = len(console.events("SignedIn"))
    bad.get("/login")
    response = bad.post("/login", data={"email": org.emails["platform-2"], "password": "nope"})
    assert response.status_code in (400, 401, 422)
    assert len(console.events("SignedIn")) == before


def test_exports_are_events_and_show_in_the_audit_and_its_csv(console: Console, app: Flask):
    org = console.org
    employee = app.test_client()
    log_in(employee, org.emails["platform-1"], org.password)
    assert employee.get("/data/export.json").status_code == 200
    runtime(console.store).ensure()  # the dashboards' read models exist (empty)
    assert console.client.get("/dashboards/org/export.csv").status_code == 200
    assert console.client.get("/admin/audit.csv").status_code == 200
    exported = [(e.data["export"], e.data["format"]) for e in console.events("DataExported")]
    assert exported == [
        ("personal_data", "json"),
        ("organisation_levers", "csv"),
        ("audit", "csv"),
    ]
    page = console.page("/admin/audit?kind=exports")
    assert "export: personal data" in page and "format: json" in page
    assert "export: organisation levers" in page and "SignedIn" not in page
    response = console.client.get("/admin/audit.csv?kind=exports")
    assert response.data.startswith(b"\xef\xbb\xbfposition,")  # a BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {r[4] for r in rows[1:]} == {"DataExported"}
    assert any(r[5] == org.emails["platform-1"] and "personal_data" in r[6] for r in rows[1:])

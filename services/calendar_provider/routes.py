"""The provider's HTTP surface: OAuth endpoints and consent page, both calendar APIs, admin API.

* ``GET/POST /oauth/authorize`` (consent), ``POST /oauth/token``, ``POST /oauth/revoke``;
* ``GET /calendar/v3/calendars/primary/events`` (Google Calendar v3 ``events.list``);
* ``GET /v1.0/me/calendarView/delta`` (Microsoft Graph delta query);
* ``/admin/...`` with ``Authorization: Bearer <admin token>``: profiles, meetings, sync-token
  expiry, grant revocation (what tests and ``make run`` use to shape calendars).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, render_template, request

from services.calendar_provider.book import BadToken, CalendarBook, SyncTokenExpired
from services.calendar_provider.generator import Attendee, Meeting
from services.calendar_provider.oauth import User
from services.calendar_provider.shapes import google_event, graph_event
from services.calendar_provider.storage import ProviderStorage
from shared.calendar.settings import ProviderServerSettings

bp = Blueprint("provider", __name__)
GOOGLE_SCOPES = ["calendar.readonly", "https://www.googleapis.com/auth/calendar.readonly"]
GRAPH_SCOPES = ["Calendars.ReadBasic", "Calendars.Read"]
MAX_RESULTS = 2500


@dataclass
class Provider:
    settings: ProviderServerSettings
    storage: ProviderStorage
    server: AuthorizationServer
    protector: ResourceProtector
    book: CalendarBook


def provider() -> Provider:
    found = current_app.extensions["calendar_provider"]
    assert isinstance(found, Provider)
    return found


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


@bp.get("/healthz")
def healthz() -> Response:
    return _json({"status": "ok"})


# -- OAuth ---------------------------------------------------------------------------------------


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    """The consent page: sign in to the provider and allow (or deny) read access."""
    p = provider()
    try:
        grant = p.server.get_consent_grant()
    except OAuth2Error as err:
        return render_template("consent.html", error=err.get_error_description() or err.error), 400
    if request.method == "GET":
        return render_template("consent.html", grant=grant, error=None, email="")
    if request.form.get("decision") != "allow":
        return p.server.create_authorization_response(grant_user=None, grant=grant)
    email = (request.form.get("email") or "").strip().lower()
    password = request.form.get("password") or ""
    if "@" not in email or not hmac.compare_digest(password.encode(), p.settings.password.encode()):
        return render_template(
            "consent.html", grant=grant, email=email, error="Wrong e-mail address or password."
        ), 401
    return p.server.create_authorization_response(grant_user=User(email), grant=grant)


@bp.post("/oauth/token")
def issue_token() -> Response:
    return provider().server.create_token_response()


@bp.post("/oauth/revoke")
def revoke_token() -> Response:
    return provider().server.create_endpoint_response("revocation")


# -- the calendar APIs -----------------------------------------------------------------------------


def _caller(scopes: list[str]) -> str | Response:
    p = provider()
    try:
        token = p.protector.acquire_token(scopes)
    except OAuth2Error as err:
        status = err.status_code or 401
        body = {"error": {"code": status, "message": err.get_error_description() or err.error}}
        response = _json(body, status)
        response.headers["WWW-Authenticate"] = f'Bearer error="{err.error}"'
        return response
    return str(token.stored.email)


def _moment(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.get("/calendar/v3/calendars/<calendar_id>/events")
def google_events(calendar_id: str) -> Response:
    """``events.list`` as Google serves it for ``singleEvents=true``."""
    me = _caller(GOOGLE_SCOPES)
    if isinstance(me, Response):
        return me
    if calendar_id not in ("primary", me):
        return _json({"error": {"code": 404, "message": "Not Found"}}, 404)
    try:
        size = min(int(request.args.get("maxResults", 250)), MAX_RESULTS)
    except ValueError:
        return _json({"error": {"code": 400, "message": "Invalid maxResults"}}, 400)
    try:
        page = provider().book.page(
            me,
            sync_token=request.args.get("syncToken"),
            page_token=request.args.get("pageToken"),
            size=max(size, 1),
            window=(_moment(request.args.get("timeMin")), _moment(request.args.get("timeMax"))),
        )
    except SyncTokenExpired:
        return _json(
            {
                "error": {
                    "errors": [
                        {
                            "domain": "global",
                            "reason": "fullSyncRequired",
                            "message": "Sync token is no longer valid, a full sync is required.",
                        }
                    ],
                    "code": 410,
                    "message": "Sync token is no longer valid, a full sync is required.",
                }
            },
            410,
        )
    except BadToken:
        return _json({"error": {"code": 400, "message": "Invalid sync or page token"}}, 400)
    body: dict[str, Any] = {
        "kind": "calendar#events",
        "summary": me,
        "timeZone": "UTC",
        "accessRole": "owner",
        "items": [google_event(m, me) for m in page.items],
    }
    if page.next_page:
        body["nextPageToken"] = page.next_page
    else:
        body["nextSyncToken"] = page.next_sync
    return _json(body)


@bp.get("/v1.0/me/calendarView/delta")
def graph_delta() -> Response:
    """``calendarView/delta`` as Microsoft Graph serves it."""
    me = _caller(GRAPH_SCOPES)
    if isinstance(me, Response):
        return me
    size = 100
    prefer = request.headers.get("Prefer", "")
    if "odata.maxpagesize=" in prefer:
        try:
            size = min(int(prefer.split("odata.maxpagesize=")[1].split(",")[0]), MAX_RESULTS)
        except ValueError:
            size = 100
    delta, skip = request.args.get("$deltatoken"), request.args.get("$skiptoken")
    if (
        not delta
        and not skip
        and not (request.args.get("startDateTime") and request.args.get("endDateTime"))
    ):
        return _json(
            {
                "error": {
                    "code": "ErrorInvalidParameter",
                    "message": "startDateTime and endDateTime are required",
                }
            },
            400,
        )
    try:
        page = provider().book.page(
            me,
            sync_token=delta,
            page_token=skip,
            size=max(size, 1),
            window=(
                _moment(request.args.get("startDateTime")),
                _moment(request.args.get("endDateTime")),
            ),
        )
    except SyncTokenExpired:
        return _json(
            {"error": {"code": "SyncStateNotFound", "message": "The sync state is gone."}}, 410
        )
    except BadToken:
        return _json({"error": {"code": "ErrorInvalidParameter", "message": "bad token"}}, 400)
    base = request.base_url
    body: dict[str, Any] = {
        "@odata.context": f"{request.host_url}v1.0/$metadata#Collection(event)",
        "value": [graph_event(m, me) for m in page.items],
    }
    if page.next_page:
        body["@odata.nextLink"] = f"{base}?{urlencode({'$skiptoken': page.next_page})}"
    else:
        body["@odata.deltaLink"] = f"{base}?{urlencode({'$deltatoken': page.next_sync})}"
    return _json(body)


# -- admin ---------------------------------------------------------------------------------------


def _admin_denied() -> Response | None:
    expected = provider().settings.admin_token
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return _json({"error": "admin token required"}, 401)
    return None


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _times(body: dict[str, Any]) -> tuple[datetime, datetime] | Response:
    start, end = _moment(body.get("start")), _moment(body.get("end"))
    if start is None or end is None or end <= start:
        return _json({"error": "start and end must be ISO times, end after start"}, 422)
    return start, end


@bp.put("/admin/accounts/<email>")
def admin_profile(email: str) -> Response:
    """Set who an account meets: ``{"manager": "...", "colleagues": ["..."]}``."""
    if denied := _admin_denied():
        return denied
    body = _body()
    colleagues = [str(c) for c in body.get("colleagues") or []]
    provider().storage.set_profile(email.lower(), body.get("manager"), colleagues)
    return _json({"email": email.lower(), "manager": body.get("manager"), "colleagues": colleagues})


@bp.get("/admin/accounts/<email>/events")
def admin_events(email: str) -> Response:
    if denied := _admin_denied():
        return denied
    meetings = sorted(provider().book.meetings(email.lower()).values(), key=lambda m: m.start)
    return _json({"items": [m.as_dict() for m in meetings]})


@bp.post("/admin/accounts/<email>/events")
def admin_create(email: str) -> Response:
    if denied := _admin_denied():
        return denied
    body = _body()
    times = _times(body)
    if isinstance(times, Response):
        return times
    me = email.lower()
    others = tuple(Attendee(str(a)) for a in body.get("attendees") or [] if str(a) != me)
    meeting = Meeting(
        id=f"adm{uuid.uuid4().hex}",
        start=times[0],
        end=times[1],
        summary=str(body.get("summary") or "New meeting"),
        description=str(body.get("description") or ""),
        organizer=me,
        attendees=(Attendee(me, "accepted", True), *others),
    )
    provider().storage.record_change(me, meeting)
    return _json(meeting.as_dict(), 201)


@bp.patch("/admin/accounts/<email>/events/<meeting_id>")
def admin_move(email: str, meeting_id: str) -> Response:
    if denied := _admin_denied():
        return denied
    p, me = provider(), email.lower()
    meeting = p.book.meeting(me, meeting_id)
    if meeting is None:
        return _json({"error": "no such meeting"}, 404)
    times = _times(_body())
    if isinstance(times, Response):
        return times
    moved = meeting.moved(*times)
    p.storage.record_change(me, moved)
    return _json(moved.as_dict())


@bp.delete("/admin/accounts/<email>/events/<meeting_id>")
def admin_cancel(email: str, meeting_id: str) -> Response:
    if denied := _admin_denied():
        return denied
    p, me = provider(), email.lower()
    meeting = p.book.meeting(me, meeting_id)
    if meeting is None:
        return _json({"error": "no such meeting"}, 404)
    cancelled = meeting.cancelled()
    p.storage.record_change(me, cancelled)
    return _json(cancelled.as_dict())


@bp.post("/admin/accounts/<email>/sync-tokens/expire")
def admin_expire(email: str) -> Response:
    """Invalidate every sync and delta token of the account: the next sync gets 410."""
    if denied := _admin_denied():
        return denied
    return _json({"epoch": provider().storage.expire_sync_tokens(email.lower())})


@bp.post("/admin/accounts/<email>/grants/revoke")
def admin_revoke(email: str) -> Response:
    """The user removed the app's access: every token of the account stops working."""
    if denied := _admin_denied():
        return denied
    return _json({"revoked": provider().storage.revoke_all(email.lower())})

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
from services.calendar_provider.oauth import GOOGLE_READ_SCOPES, User
from services.calendar_provider.partial import (
    BadSelection,
    Selection,
    apply_select,
    compile_fields,
    parse_fields,
)
from services.calendar_provider.shapes import google_event, graph_event
from services.calendar_provider.storage import ProviderStorage
from shared.calendar.settings import ProviderServerSettings
from shared.gc_pause import collector_paused

bp = Blueprint("provider", __name__)
GOOGLE_SCOPES = [f"https://www.googleapis.com/auth/{s}" for s in GOOGLE_READ_SCOPES]
GRAPH_SCOPES = ["Calendars.ReadBasic", "Calendars.Read"]
MAX_RESULTS = 2500
# Google refuses these beside a syncToken (events.list, "syncToken")
NOT_WITH_SYNC_TOKEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                       "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")  # fmt: skip
_GRAPH_EVENT = """allowNewTimeProposals attendees body bodyPreview categories changeKey
createdDateTime end hasAttachments hideAttendees iCalUId id importance isAllDay isCancelled
isDraft isOnlineMeeting isOrganizer isReminderOn lastModifiedDateTime location locations
onlineMeeting onlineMeetingProvider onlineMeetingUrl organizer originalEndTimeZone
originalStart originalStartTimeZone recurrence reminderMinutesBeforeStart responseRequested
responseStatus sensitivity seriesMasterId showAs start subject transactionId type webLink"""
GRAPH_PROPERTIES = frozenset(_GRAPH_EVENT.lower().split())  # the event resource's properties


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


def _caller(scopes: list[str]) -> tuple[str, str] | Response:
    """The token's account and scope, or the 401 / 403 answer."""
    p = provider()
    try:
        token = p.protector.acquire_token(scopes)
    except OAuth2Error as err:
        status = err.status_code or 401
        body = {"error": {"code": status, "message": err.get_error_description() or err.error}}
        response = _json(body, status)
        response.headers["WWW-Authenticate"] = f'Bearer error="{err.error}"'
        return response
    return str(token.stored.email), str(token.stored.scope)


class BadTime(ValueError):
    """A time parameter that is not an RFC 3339 / ISO 8601 time."""


def _moment(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadTime(raw) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _google_error(status: int, reason: str, message: str) -> Response:
    error = {"domain": "global", "reason": reason, "message": message}
    return _json({"error": {"errors": [error], "code": status, "message": message}}, status)


def _google_request() -> tuple[dict[str, Any], Selection | None] | Response:
    """``events.list``'s parameters checked as Google checks them."""
    args = request.args
    if args.get("syncToken") and any(args.get(n) for n in NOT_WITH_SYNC_TOKEN):
        names = ", ".join(n for n in NOT_WITH_SYNC_TOKEN if args.get(n))
        return _google_error(400, "invalid", f"Sync token cannot be used with {names}.")
    try:
        size = min(int(args.get("maxResults", 250)), MAX_RESULTS)
        window = (_moment(args.get("timeMin")), _moment(args.get("timeMax")))
        fields = parse_fields(args["fields"]) if args.get("fields") else None
    except BadSelection:
        return _google_error(400, "invalidParameter", "Invalid field selection")
    except (ValueError, BadTime):
        return _google_error(400, "invalid", "Bad Request")
    page = {"size": max(size, 1), "window": window}
    return page, fields


@bp.get("/calendar/v3/calendars/<calendar_id>/events")
def google_events(calendar_id: str) -> Response:
    """``events.list`` as Google serves it for ``singleEvents=true``."""
    caller = _caller(GOOGLE_SCOPES)
    if isinstance(caller, Response):
        return caller
    me = caller[0]
    if calendar_id not in ("primary", me):
        return _google_error(404, "notFound", "Not Found")
    checked = _google_request()
    if isinstance(checked, Response):
        return checked
    options, fields = checked
    try:
        page = provider().book.page(
            me,
            sync_token=request.args.get("syncToken"),
            page_token=request.args.get("pageToken"),
            **options,
        )
    except SyncTokenExpired:
        return _google_error(
            410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
        )
    except BadToken:
        return _google_error(400, "invalid", "Invalid page token value.")
    with collector_paused():  # thousands of short-lived dicts, no cycles (shared/gc_pause.py)
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": me,
            "updated": datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "timeZone": "UTC",
            "accessRole": "owner",
            "items": [google_event(m, me) for m in page.items],
        }
        if page.next_page:
            body["nextPageToken"] = page.next_page
        else:
            body["nextSyncToken"] = page.next_sync
        return _json(compile_fields(fields)(body))


def _graph_error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def _graph_select(raw: str | None) -> list[str] | Response:
    names = [n.strip() for n in (raw or "").split(",") if n.strip()]
    unknown = [n for n in names if n.lower() not in GRAPH_PROPERTIES]
    if unknown:
        return _graph_error(
            400,
            "RequestBroker--ParseUri",
            f"Could not find a property named '{unknown[0]}' on type 'microsoft.graph.event'.",
        )
    return sorted({n.lower() for n in names})


@bp.get("/v1.0/me/calendarView/delta")
@bp.get("/v1.0/me/calendarView/delta()")  # the function-call form Microsoft's SDKs send
def graph_delta() -> Response:
    """``calendarView/delta`` as Microsoft Graph serves it (query names case-insensitive)."""
    caller = _caller(GRAPH_SCOPES)
    if isinstance(caller, Response):
        return caller
    me, scope = caller
    args = {k.lower(): v for k, v in request.args.items()}
    size = 100
    prefer = request.headers.get("Prefer", "")
    if "odata.maxpagesize=" in prefer:
        try:
            size = min(int(prefer.split("odata.maxpagesize=")[1].split(",")[0]), MAX_RESULTS)
        except ValueError:
            size = 100
    delta, skip = args.get("$deltatoken"), args.get("$skiptoken")
    if not delta and not skip and not (args.get("startdatetime") and args.get("enddatetime")):
        return _graph_error(
            400, "ErrorInvalidParameter", "startDateTime and endDateTime are required"
        )
    select = _graph_select(args.get("$select"))
    if isinstance(select, Response):
        return select
    try:
        window = (_moment(args.get("startdatetime")), _moment(args.get("enddatetime")))
        page = provider().book.page(
            me, sync_token=delta, page_token=skip, size=max(size, 1), window=window,
            extra={"select": select} if select else None,
        )  # fmt: skip
    except BadTime:
        return _graph_error(400, "ErrorInvalidParameter", "startDateTime or endDateTime is invalid")
    except SyncTokenExpired:
        return _graph_error(410, "SyncStateNotFound", "The sync state is gone: resync.")
    except BadToken:
        return _graph_error(400, "ErrorInvalidUrlQuery", "The skip token is invalid.")
    chosen = frozenset(page.extra.get("select") or ()) or None
    bodies = "Calendars.Read" in scope.split()
    events = (graph_event(m, me, bodies=bodies) for m in page.items)
    base = request.base_url
    body: dict[str, Any] = {
        "@odata.context": f"{request.host_url}v1.0/$metadata#Collection(event)",
        "value": [apply_select(e, chosen) for e in events if e is not None],
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
    kind = str(body.get("kind") or "default")  # Google's eventType
    if kind not in ("default", "outOfOffice", "focusTime", "workingLocation"):
        return _json({"error": "kind: default, outOfOffice, focusTime or workingLocation"}, 400)
    others = tuple(Attendee(str(a)) for a in body.get("attendees") or [] if str(a) != me)
    meeting = Meeting(
        id=f"adm{uuid.uuid4().hex}",
        start=times[0],
        end=times[1],
        summary=str(body.get("summary") or "New meeting"),
        description=str(body.get("description") or ""),
        organizer=me,
        attendees=(Attendee(me, "accepted", True), *others),
        kind=kind,
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

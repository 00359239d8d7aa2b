"""When a page's session has ended: the login page with a message, never a blank page or
raw JSON inside a page.

A session ends (logout in another tab, a revocation, an expiry) while a page stays open.
Its next request then finds no user, and its form's CSRF token no longer matches (the token
lives in the session). Without this module the Today page swapped the login page, or a
``{"detail": "CSRF check failed ..."}``, into its own fragment: the page went blank and the
typed note was lost.

So, outside the API (which keeps problem+json):

- an htmx request answers 401 with ``HX-Redirect``: htmx then navigates the whole tab to the
  login page, ``next`` being the page the tab showed;
- a plain request is redirected to the login page (``ended=1`` says why, on the page);
- a CSRF failure while still logged in answers a page saying the form was not sent, with
  a link back to it.

The typed text survives in the browser: ``static/drafts.js`` keeps unsent form fields in
``sessionStorage`` and puts them back once the person is on the page again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from services.gateway.problems import problem
from services.gateway.redirects import local_target
from shared.i18n import N_, gettext

ENDED_MESSAGE = N_("Your session ended: log in again.")
CSRF_REASONS = (
    N_("The CSRF token is missing."),
    N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."),
    N_("The CSRF token is invalid."),
    N_("The CSRF tokens do not match."),
    N_("The referrer header is missing."),
    N_("The referrer does not match the host."),
)
"""Flask-WTF's reasons for refusing a form, in the catalogue so that they are translated."""
# The blueprints whose pages need a login: a refused form there means the session ended.
# Elsewhere (login, a colleague's feedback link) nobody was logged in to begin with.
LOGGED_IN_PAGES = frozenset({"portal", "dashboards", "calendar", "confirm"})


def is_api_request() -> bool:
    """Whether the request is one of the API's, or a script's asking for JSON (they answer
    problem+json, whatever happens)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    return request.accept_mimetypes.best == "application/json"


def is_htmx_request() -> bool:
    return request.headers.get("HX-Request") == "true"


def _local_path(url: str | None) -> str | None:
    """The path and query of ``url`` when it names this gateway (a full URL from a header),
    else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page_of_request() -> str:
    """The page the person was on: the tab's URL for htmx, the form's page for a post (its
    ``Referer``), the URL itself for a plain page load; always a local path."""
    home = url_for("portal.index")
    if is_htmx_request():
        candidate = _local_path(request.headers.get("HX-Current-URL"))
    elif request.method in ("GET", "HEAD"):
        candidate = request.full_path.rstrip("?")
    else:
        candidate = _local_path(request.referrer)
    return local_target(candidate, home)


def login_url(next_page: str) -> str:
    """The login page, saying the session ended, coming back to ``next_page`` afterwards."""
    return url_for("auth.login") + "?" + urlencode({"next": next_page, "ended": "1"})


def ended_session() -> Any:
    """The answer to a request whose session has ended (or never began).

    Returns:
        401 problem+json for the API; 401 with ``HX-Redirect`` to the login page for htmx;
        a redirect to the login page (with ``next``) for a plain page request.
    """
    if is_api_request():
        detail = gettext("Log in, or send `Authorization: Bearer <token>`.")
        return problem(401, "Unauthorized", detail)
    if is_htmx_request():
        response = Response(gettext(ENDED_MESSAGE), status=401, mimetype="text/plain")
        response.headers["HX-Redirect"] = login_url(page_of_request())
        return response
    if request.method in ("GET", "HEAD"):
        # A first visit, not only an ended session: the login page without the message.
        query = urlencode({"next": page_of_request()})
        return redirect(url_for("auth.login") + "?" + query)
    return redirect(login_url(page_of_request()))


def csrf_refused(err: CSRFError) -> Any:
    """A failed CSRF check: problem+json for the API; for a page that needs a login, the
    login page when the session has ended; else a page saying the form was not sent (400,
    with a link back)."""
    if is_api_request():
        detail = gettext("CSRF check failed: %(reason)s", reason=gettext(err.description))
        return problem(400, "Bad Request", detail, kind="csrf")
    if not current_user.is_authenticated and request.blueprint in LOGGED_IN_PAGES:
        return ended_session()
    back = page_of_request()
    if is_htmx_request():
        message = gettext("The form was not sent: reload the page.")
        response = Response(message, 400, mimetype="text/plain")
        response.headers["HX-Redirect"] = back
        return response
    page = render_template("form_expired.html", back=back, reason=gettext(err.description))
    return page, 400


def init_app(app: Flask) -> None:
    """Answer ended sessions and CSRF failures as above (after ``auth.init_app``)."""
    from services.gateway.auth import login_manager

    login_manager.unauthorized_handler(ended_session)
    app.register_error_handler(CSRFError, csrf_refused)

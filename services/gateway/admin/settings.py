"""Settings: k (never below 3), the pulse cadence, whether a second factor is required and
the organisation's default language, each changed alone (its own form posts only it: the
API's ``PATCH /org/settings`` semantics) through
:func:`shared.commands.settings.patch_settings`, each explained in one sentence. Sign-in
(SSO) and provisioning (SCIM) add their own sections here."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from services.gateway.admin.blueprint import bp
from services.gateway.portal.forms import FormState, me
from services.gateway.resources import resources
from shared.commands.settings import CADENCES, MAX_K, organisation_settings, patch_settings
from shared.domain.errors import InvalidInput
from shared.domain.privacy import K_FLOOR
from shared.i18n import N_, gettext

EXPLAINED = {
    "k": N_(
        "The smallest group any manager view shows: a team with fewer people in a week "
        "shows no levers that week, so no one can be singled out."
    ),
    "pulse_cadence_weeks": N_(
        "How often everyone is asked the short anonymous pulse: "
        "weekly, every two weeks or every four weeks."
    ),
    "require_totp": N_(
        "Everyone logs in with a code from an authenticator app as well as "
        "their password; people without one set it up at their next login."
    ),
    "default_locale": N_(
        "The language of pages, mails and chat messages for people who chose none on "
        "their account page and whose browser asks for none Compound speaks."
    ),
}


def render_settings(state: FormState | None = None, status: int = 200) -> Any:
    with resources().engine.connect() as conn:
        current = organisation_settings(conn, me().tenant_id, resources().settings)
    return (
        render_template(
            "admin/settings.html",
            current=current,
            explained=EXPLAINED,
            cadences=CADENCES,
            k_floor=K_FLOOR,
            max_k=MAX_K,
            state=state or FormState(),
            saved=request.args.get("saved"),
        ),
        status,
    )


@bp.get("/settings")
def settings() -> Any:
    """The organisation's settings, each with what it does."""
    return render_settings()


def _changes(form: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The settings a form posted (only those), and messages for unreadable ones."""
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in ("k", "pulse_cadence_weeks"):
        if name in form:
            try:
                changes[name] = int(form[name].strip())
            except ValueError:
                errors[name] = [gettext("Give a whole number.")]
    if "require_totp_form" in form:
        changes["require_totp"] = form.get("require_totp") == "on"
    if "default_locale" in form:
        changes["default_locale"] = form["default_locale"].strip()
    return changes, errors


@bp.post("/settings")
def save_settings() -> Any:
    """Change the settings a form posted; the others keep their values."""
    changes, errors = _changes(request.form)
    state = FormState(values=dict(request.form), errors=errors)
    if not errors and not changes:
        state.message = gettext("Nothing to change.")
    if state.errors or state.message:
        return render_settings(state, 422)
    try:
        patch_settings(resources().store, me().actor("admin"), resources().settings, changes)
    except InvalidInput as err:
        state.errors.update(err.errors)
        return render_settings(state, 422)
    return redirect(url_for("console.settings", saved=",".join(sorted(changes))))

"""A dashboard table's rows as HTML (the ``data_table`` macro's body), built in Python.

An organisation's heat map has a thousand rows of six cells: a Jinja loop over them, with
its attribute look-ups and branches per cell, took about as long as building the table.
Every text is escaped as Jinja's autoescape would.
"""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from services.gateway.dashboards.blueprint import bp
from services.gateway.dashboards.views import Cell, Table

ZERO = "00000000-0000-0000-0000-000000000000"
"""The team id in a heat map's row link that each row's team id replaces (one ``url_for``
for a thousand rows)."""


@bp.app_template_global()
def table_rows(table: Table, link_rows: bool = False) -> Markup:
    """The table's ``<tr>`` rows.

    Parameters:
        table: a page's table.
        link_rows: a header cell with a ``ref`` links to that team's overview (a heat map).

    Returns:
        The rows, one line each.
    """
    url = url_for("dashboards.team_overview", team_id=ZERO) if link_rows else ""
    link = str(escape(url))
    return Markup(
        "\n".join(
            "<tr>" + "".join(_cell(cell, link) for cell in row) + "</tr>" for row in table.rows
        )
    )


def _cell(cell: Cell, link: str) -> str:
    text = escape(cell.text)
    if cell.header:
        week = ' class="week"' if cell.data else ""
        if link and cell.ref:
            text = Markup(f'<a href="{link.replace(ZERO, escape(cell.ref))}">{text}</a>')
        return f'<th scope="row"{week}>{text}</th>'
    if cell.suppressed:
        return f'<td class="suppressed">{text}</td>'
    if cell.band:
        band = escape(cell.band)
        if " · " in cell.text:
            value, word = cell.text.split(" · ")[:2]
            return (
                f'<td class="band band-{band}"><span class="v">{escape(value)}</span>'
                f'<span class="band-word"> · {escape(word)}</span></td>'
            )
        return f'<td class="band band-{band}">{text}</td>'
    return f"<td>{text}</td>"

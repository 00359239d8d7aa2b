"""A SCIM ``filter`` (RFC 7644 section 3.4.2.2) as an SQL condition over the directory.

scim2-models parses the filter; this module walks its tree. Each resource type names the
attributes it can filter on (:class:`Attribute`): a column, whether it compares
case-insensitively, and whether it is a boolean. An attribute not listed is refused with
``invalidFilter`` rather than evaluated to false, so an identity provider never reads "no
such user" from a filter this server does not understand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scim2_models import InvalidFilterException, ScimFilter
from scim2_models.path.expressions import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from sqlalchemy import ColumnElement, and_, func, not_, or_

MAX_FILTER = 2000
"""The longest filter read (characters)."""


@dataclass(frozen=True)
class Attribute:
    """A filterable attribute of a resource type.

    Parameters:
        column: the SQL expression holding the attribute's value.
        case_exact: whether values compare case-sensitively.
        boolean: whether the attribute is a boolean (``eq``, ``ne`` and ``pr`` only).
        condition: for a multi-valued attribute, a function of the operator and value
            that builds the condition itself (used instead of ``column``).
    """

    column: Any
    case_exact: bool = False
    boolean: bool = False
    condition: Callable[[CompareOperator, Any], ColumnElement[bool]] | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compare(attr: Attribute, op: CompareOperator, value: Any) -> ColumnElement[bool]:
    """The condition ``attr op value``.

    Parameters:
        attr: the attribute.
        op: the SCIM operator.
        value: the filter's value (a string, number, boolean or null).

    Returns:
        An SQL condition.

    Raises:
        InvalidFilterException: the operator does not apply to the attribute or value.
    """
    if attr.condition is not None:
        return attr.condition(op, value)
    column = attr.column
    if attr.boolean:
        if not isinstance(value, bool) or op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilterException(detail="a boolean compares with eq or ne and true/false")
        return column == value if op == CompareOperator.eq else column != value
    if value is None:
        if op == CompareOperator.eq:
            return column.is_(None)
        if op == CompareOperator.ne:
            return column.is_not(None)
        raise InvalidFilterException(detail=f"null cannot be compared with {op.value}")
    if not isinstance(value, str):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if not attr.case_exact:
        column, value = func.lower(column), value.lower()
    if op == CompareOperator.eq:
        return column == value
    if op == CompareOperator.ne:
        return or_(column != value, column.is_(None))
    patterns = {
        CompareOperator.co: f"%{_escape_like(value)}%",
        CompareOperator.sw: f"{_escape_like(value)}%",
        CompareOperator.ew: f"%{_escape_like(value)}",
    }
    if op in patterns:
        return column.like(patterns[op], escape="\\")
    ordering = {
        CompareOperator.gt: column > value,
        CompareOperator.ge: column >= value,
        CompareOperator.lt: column < value,
        CompareOperator.le: column <= value,
    }
    return ordering[op]


class FilterCompiler:
    """Compiles filters over one resource type's attributes.

    Parameters:
        attributes: the filterable attributes, by lower-cased path (``username``,
            ``emails.value``, ``meta.created``); a complex attribute's name alone (``emails``)
            stands for its ``value``.
        schema: the resource type's core schema URN (a fully qualified path may use it).
    """

    def __init__(self, attributes: Mapping[str, Attribute], schema: str):
        self.attributes = {k.lower(): v for k, v in attributes.items()}
        self.schema = schema.lower()

    def compile(self, text: str) -> ColumnElement[bool]:
        """The SQL condition of the filter ``text``.

        Raises:
            InvalidFilterException: the filter is malformed, too long, or names an
                attribute or operator this resource type cannot filter on.
        """
        if len(text) > MAX_FILTER:
            raise InvalidFilterException(detail=f"a filter has at most {MAX_FILTER} characters")
        try:
            tree = ScimFilter(text).ast
        except InvalidFilterException:
            raise
        except Exception as err:  # the parser's own errors: a filter it cannot read
            raise InvalidFilterException(detail=f"the filter cannot be read: {err}") from err
        return self._node(tree, prefix="")

    def _attribute(self, path: AttrPath, prefix: str) -> Attribute:
        if path.uri and path.uri.lower() != self.schema:
            raise InvalidFilterException(detail=f"no filter on {path}")
        name = path.attr if not path.sub_attr else f"{path.attr}.{path.sub_attr}"
        key = f"{prefix}.{name}".lower() if prefix else name.lower()
        found = self.attributes.get(key)
        if found is None:
            raise InvalidFilterException(detail=f"no filter on {path}")
        return found

    def _node(self, node: FilterNode, prefix: str) -> ColumnElement[bool]:
        if isinstance(node, Comparison):
            return compare(self._attribute(node.attr_path, prefix), node.op, node.value)
        if isinstance(node, Present):
            attr = self._attribute(node.attr_path, prefix)
            if attr.condition is not None:
                return attr.condition(CompareOperator.ne, None)
            return attr.column.is_not(None)
        if isinstance(node, Not):
            return not_(self._node(node.expr, prefix))
        if isinstance(node, LogicalExpr):
            terms = [self._node(term, prefix) for term in node.terms]
            return and_(*terms) if node.op == LogicalOperator.and_ else or_(*terms)
        if isinstance(node, ValuePath) and not prefix:
            return self._node(node.val_filter, prefix=str(node.attr_path))
        raise InvalidFilterException(detail=f"this filter is not supported: {node}")

"""Expressions and templates, parsed once the whole file is read: they may name any field, input or ``set`` key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engagement.expressions import CONTEXT_NAMES, ExpressionError, parse_expression, parse_template, referenced
from engagement.i18n import N_

if TYPE_CHECKING:
    from engagement.workflow.checker.base import Checker

NOT_PARSED = {"expression": N_("expression does not parse: %(error)s"),
              "template": N_("template does not parse: %(error)s")}
UNKNOWN_FIELD = {"expression": N_("expression reads unknown field %(name)r"),
                 "template": N_("template reads unknown field %(name)r")}


def check_deferred(c: Checker) -> None:
    for path, source, kind in c.deferred:
        try:
            ast = parse_expression(source) if kind == "expression" else parse_template(source)
        except ExpressionError as exc:
            c.error(path, NOT_PARSED[kind], error=exc.phrase)
            continue
        names, data_keys, problems = referenced(ast)
        for problem in problems:
            c.error(path, problem)
        for unknown in sorted(names - CONTEXT_NAMES):
            c.error(path, N_("unknown name %(name)r (use data, user, now or instance)"), name=unknown)
        for unknown in sorted(data_keys - c.data_keys):
            c.error(path, UNKNOWN_FIELD[kind], name=unknown)

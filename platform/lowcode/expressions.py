"""The one safe expression language for business admins (visibility, required-if, rules,
indicator formulas). Python-like syntax evaluated by simpleeval — never by Python's own evaluator.

Names are field codes or field labels (Chinese identifiers work: ``涉及人数 >= 10``).
A missing value is None; a comparison with None is simply false rather than an error."""
from __future__ import annotations

import ast
import functools
import operator
from typing import Any, Iterable, Mapping

from simpleeval import EvalWithCompoundTypes, InvalidExpression

FUNCTIONS = {
    "len": lambda v: len(v) if v is not None else 0,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "包含": lambda haystack, needle: needle in (haystack or ""),
    "为空": lambda v: v in (None, "", [], {}),
}
CONSTANTS = {"True": True, "False": False, "None": None, "是": True, "否": False, "空": None}


class ExpressionError(ValueError):
    """A message in Chinese, ready to show next to the field the admin typed into."""


def _none_safe(op):
    def wrapped(a, b):
        if a is None or b is None:
            return False
        try:
            return op(a, b)
        except TypeError:
            return False
    return wrapped


OPERATORS = dict(EvalWithCompoundTypes().operators)
for node, op in ((ast.Gt, operator.gt), (ast.GtE, operator.ge), (ast.Lt, operator.lt), (ast.LtE, operator.le)):
    OPERATORS[node] = _none_safe(op)


@functools.lru_cache(maxsize=2048)
def _parse(source: str) -> ast.Expression:
    try:
        return ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"表达式语法错误：{source}（第 {exc.offset or 0} 个字符附近）") from exc


def names_used(source: str) -> set[str]:
    tree = _parse(source)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - called


def validate(source: str, known_names: Iterable[str]) -> None:
    """Raise ExpressionError (Chinese) for bad syntax, unknown names, unknown functions or
    forbidden constructs (attribute access, lambdas, comprehensions…)."""
    if not source or not source.strip():
        return
    tree = _parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp, ast.Starred, ast.NamedExpr, ast.Subscript)):
            raise ExpressionError(f"表达式不支持该写法：{ast.unparse(node)}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(f"未知函数：{ast.unparse(node.func)}（可用：{'、'.join(FUNCTIONS)}）")
    known = set(known_names) | set(CONSTANTS)
    unknown = sorted(names_used(source) - known)
    if unknown:
        raise ExpressionError(f"表达式中有未知字段：{'、'.join(unknown)}")


def evaluate(source: str, values: Mapping[str, Any]) -> Any:
    if not source or not source.strip():
        return None
    names = dict(CONSTANTS)
    names.update(values)
    evaluator = EvalWithCompoundTypes(operators=OPERATORS, functions=FUNCTIONS, names=names)
    try:
        return evaluator.eval(source.strip())
    except (InvalidExpression, TypeError, ValueError, ZeroDivisionError, KeyError) as exc:
        raise ExpressionError(f"表达式计算出错：{source}（{exc}）") from exc


def holds(source: str, values: Mapping[str, Any]) -> bool:
    """Truth of a condition; an empty condition holds, an erroring one does not."""
    if not source or not source.strip():
        return True
    try:
        return bool(evaluate(source, values))
    except ExpressionError:
        return False

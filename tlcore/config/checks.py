"""The field rules every record read from disk is checked by (configs, run status, task files, settings, audit lines).

Each rule takes a value from parsed JSON and returns None when it fits, else the reason in words ("must be a whole
number from 1 to 1,000 (got 'two')"). Callers collect the reasons of all fields, so one message lists every problem,
and a file with any is shown as "damaged: <field> <reason>" instead of stopping a page or the queue.
"""

from __future__ import annotations

import math
from typing import Any, Callable

__all__ = ["ConfigError", "Rule", "shown_value", "whole_number", "real_number", "text", "optional", "one_of", "flag",
           "object_of", "problems_of"]

Rule = Callable[[Any], "str | None"]
_SHOWN = 40  # characters of a bad value quoted in a reason


def shown_value(value: Any) -> str:
    """A bad value as a reason quotes it: repr, cut short (a 5,000-character name is not echoed whole)."""
    text_ = repr(value)
    return text_ if len(text_) <= _SHOWN else f"{text_[:_SHOWN]}… ({len(text_):,} characters)"


def whole_number(low: int | None = None, high: int | None = None) -> Rule:
    """An int (not a bool, not 2.0, not "2") within [low, high]."""
    def rule(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low) or \
                (high is not None and value > high):
            return f"must be {_range('a whole number', low, high)} (got {shown_value(value)})"
        return None
    return rule


def real_number(low: float | None = None, high: float | None = None, *, above_low: bool = False,
                below_high: bool = False) -> Rule:
    """A finite int or float (not a bool, not NaN or infinity) within the bounds (open where asked)."""
    def rule(value: Any) -> str | None:
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        if ok and low is not None:
            ok = value > low if above_low else value >= low
        if ok and high is not None:
            ok = value < high if below_high else value <= high
        if ok:
            return None
        left, right = ("(" if above_low else "["), (")" if below_high else "]")
        where = f" in {left}{low:g}, {high:g}{right}" if low is not None and high is not None else (
            f" of at least {low:g}" if low is not None else "")
        return f"must be a finite number{where} (got {shown_value(value)})"
    return rule


def text(max_length: int = 4096, empty: bool = True) -> Rule:
    def rule(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"must be text (got {shown_value(value)})"
        if not empty and not value.strip():
            return "must not be empty"
        if len(value) > max_length:
            return f"is {len(value):,} characters long (at most {max_length:,})"
        if "\x00" in value:
            return "holds a NUL character"
        return None
    return rule


def flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false (got {shown_value(value)})"


def one_of(*allowed: Any) -> Rule:
    def rule(value: Any) -> str | None:
        if isinstance(value, (str, int, float, bool)) and not isinstance(value, bool) and value in allowed:
            return None
        return f"must be one of {', '.join(map(str, allowed))} (got {shown_value(value)})"
    return rule


def optional(rule: Rule) -> Rule:
    """`rule`, or null."""
    return lambda value: None if value is None else rule(value)


def object_of(rules: dict[str, Rule]) -> Rule:
    """A JSON object whose fields follow `rules` (a nested record: a status's resources, a task's step); its first
    problem is the reason."""
    def rule(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"must be an object (got {shown_value(value)})"
        problems = problems_of(value, rules)
        return f"holds {problems[0]}" if problems else None
    return rule


def problems_of(data: dict, rules: dict[str, Rule], prefix: str = "") -> list[str]:
    """'field reason' for every field of `data` that a rule refuses (fields without a rule are not checked)."""
    found = []
    for name, rule in rules.items():
        if name in data:
            reason = rule(data[name])
            if reason:
                found.append(f"{prefix}{name} {reason}")
    return found


def _range(what: str, low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{what} from {low:,} to {high:,}"
    if low is not None:
        return f"{what} of at least {low:,}"
    return what


class ConfigError(ValueError):
    """A config (or another record) that cannot be used; `problems` lists every field refused, each 'field reason'."""

    def __init__(self, problems: list[str], what: str = "config"):
        self.problems = list(problems)
        self.what = what
        if len(self.problems) == 1:
            message = f"The {what}'s {self.problems[0]}."
        else:
            message = f"The {what} has {len(self.problems)} problems: " + "; ".join(self.problems) + "."
        super().__init__(message)

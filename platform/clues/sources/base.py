"""The generic adapter: the CleaningRule does the mapping; subclasses refine the result."""
from __future__ import annotations

from clues.clean import CleanResult, CompiledRule, RecordError


class Adapter:
    def clean(self, raw: dict, rule: CompiledRule) -> CleanResult:
        if not isinstance(raw, dict):
            return CleanResult(None, [], "记录不是 JSON 对象")
        result = rule.apply(raw)
        if result.standard is not None:
            try:
                self.refine(result.standard, raw, result.warnings)
            except RecordError as exc:
                return CleanResult(None, result.warnings, str(exc))
        return result

    def refine(self, std: dict, raw: dict, warnings: list[str]) -> None:
        """Channel-specific touches on the standard dict (in place)."""

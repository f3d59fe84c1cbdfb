"""The warning metadata compiled for one evaluation run: levels, enabled rules by target and
priority, keyword dictionary (added to jieba's vocabulary so a word is one token, on first use), thresholds by
their Chinese name. Built from the database each run (four small queries), or from unsaved
records for the preview.

Not cached across calls on purpose: these tables carry no version stamp that every change moves
(``updated_at`` misses queryset updates and SQL edits), and the four queries cost about 2 ms —
a hook call loads the configuration once and passes it down instead."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Level:
    key: str
    label: str
    color: str
    order: int
    responsible: str = ""
    lead_level: int | None = None
    leader: str = ""
    notify: bool = True


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    target: str
    condition: str
    level: str
    priority: int
    message: str
    window_days: int


@dataclass
class Config:
    levels: dict[str, Level]
    rules: list[Rule]
    keywords: dict[str, str]                       # word → category
    settings: dict[str, object]                    # Chinese name → value
    by_key: dict[str, object] = field(default_factory=dict)  # setting key → value

    def rules_for(self, target: str) -> list[Rule]:
        return [r for r in self.rules if r.target == target]

    def windows(self, target: str) -> set[int]:
        return {r.window_days for r in self.rules_for(target)} or {30}

    @property
    def default_level(self) -> str:
        key = str(self.by_key.get("default_level") or "")
        if key in self.levels:
            return key
        return max(self.levels.values(), key=lambda lv: lv.order).key if self.levels else "green"

    def level(self, key: str) -> Level:
        return self.levels.get(key) or Level(key, key, "#999999", 999)

    def setting(self, key: str, default=None):
        value = self.by_key.get(key)
        return default if value is None else value

    def more_severe(self, a: str, b: str) -> bool:
        return self.level(a).order < self.level(b).order


_jieba_words: set[str] = set()


def teach_jieba(words) -> None:
    """Make every keyword one jieba token. Called right before tokenising, not when the
    configuration is built: ``jieba.add_word`` loads jieba's dictionary (about 0.5 s per process),
    which a hook call whose texts hold no keyword at all never needs."""
    missing = [w for w in words if w not in _jieba_words]
    if not missing:
        return
    import jieba

    for w in missing:
        jieba.add_word(w, freq=2000)
        _jieba_words.add(w)


def build(levels, rules, keywords, settings) -> Config:
    """Config from model instances (saved or not)."""
    kw = {k.word: k.category for k in keywords if k.enabled}
    return Config(
        levels={lv.key: Level(lv.key, lv.label, lv.color, lv.order, lv.responsible, lv.lead_level,
                              lv.leader, lv.notify) for lv in levels},
        rules=sorted((Rule(r.code, r.name, r.target, r.condition, r.level, r.priority, r.message or "",
                           r.window_days or 30) for r in rules if r.enabled),
                     key=lambda r: (r.priority, r.code)),
        keywords=kw,
        settings={s.name: s.value for s in settings},
        by_key={s.key: s.value for s in settings},
    )


def load(replace=None) -> Config:
    """The saved configuration; ``replace`` = an unsaved record that stands in for its saved
    version (or is added), for the preview before saving."""
    from extensions.escalation.apps import KINDS
    from extensions.escalation.models import WarningKeyword, WarningLevel, WarningRule, WarningSetting
    from lowcode.serialization import load_metadata

    levels = list(WarningLevel.objects.all())
    if not levels:  # a database migrated without post_migrate, or a test that flushed it
        load_metadata(KINDS)
        levels = list(WarningLevel.objects.all())
    groups = {WarningLevel: levels, WarningRule: list(WarningRule.objects.all()),
              WarningKeyword: list(WarningKeyword.objects.all()), WarningSetting: list(WarningSetting.objects.all())}
    if replace is not None:
        rows = groups[type(replace)]
        rows[:] = [r for r in rows if not (replace.pk and r.pk == replace.pk)] + [replace]
    return build(groups[WarningLevel], groups[WarningRule], groups[WarningKeyword], groups[WarningSetting])

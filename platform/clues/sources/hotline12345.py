"""12345 热线工单: 诉求类型 is "大类-小类"; the caller is the only person."""
from clues.sources.base import Adapter


class Hotline(Adapter):
    def refine(self, std, raw, warnings):
        std["extra"].setdefault("type_major", std["type_label"].split("-", 1)[0])


ADAPTER = Hotline()

"""110 警情: no title — the cleaned title is the start of 简要警情; 警情类别 is "大类-小类"."""
from clues.sources.base import Adapter


class Police(Adapter):
    def refine(self, std, raw, warnings):
        std["extra"].setdefault("type_major", std["type_label"].split("-", 1)[0])


ADAPTER = Police()

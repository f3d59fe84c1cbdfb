"""省矛调平台: 当事人 is a list of {姓名, 证件号码, 联系电话, 当事人类型}; no title."""
from clues.sources.base import Adapter


class Province(Adapter):
    def refine(self, std, raw, warnings):
        if std["type_label"] and std["title"] == std["description"][:30]:
            std["title"] = f"{std['type_label']}：{std['description'][:24]}"


ADAPTER = Province()

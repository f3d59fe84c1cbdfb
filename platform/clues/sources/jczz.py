"""基层智治: 上报时间 in epoch ms (UTC+8 wall clock), 当事人 as "姓名(电话);姓名(电话)"; the
上报人 is the grid worker, not a party."""
from clues.sources.base import Adapter


class Jczz(Adapter):
    def refine(self, std, raw, warnings):
        if std["type_label"] and std["title"] == std["description"][:30]:
            std["title"] = f"{std['type_label']}：{std['description'][:24]}"


ADAPTER = Jczz()

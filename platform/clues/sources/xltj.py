"""X里调解: flat 申请人/被申请人 columns, 受理日期 as "YYYY年M月D日"; "对方" is no name."""
from clues.sources.base import Adapter


class Xltj(Adapter):
    def refine(self, std, raw, warnings):
        if std["type_label"] and std["title"] == std["description"][:30]:
            std["title"] = f"{std['type_label']}：{std['description'][:24]}"


ADAPTER = Xltj()

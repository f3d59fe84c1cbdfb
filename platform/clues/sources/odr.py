"""在线矛盾纠纷多元化解平台: camelCase JSON, applicants/respondents lists with nulls; claim is
the title (often just the dispute type), facts the description."""
from clues.sources.base import Adapter


class Odr(Adapter):
    def refine(self, std, raw, warnings):
        if std["title"] and std["title"] == std["type_label"] and std["description"]:
            std["title"] = f"{std['type_label']}：{std['description'][:24]}"


ADAPTER = Odr()

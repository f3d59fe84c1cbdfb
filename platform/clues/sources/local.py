"""The project's own exchange format (English field names). Only kind "case" is accepted."""
from clues.clean import RecordError
from clues.sources.base import Adapter


class Local(Adapter):
    def refine(self, std, raw, warnings):
        kind = raw.get("kind", "case")
        if kind != "case":
            raise RecordError(f"本地交换格式只接受 kind 为 case 的记录（实际：{str(kind)[:20]}）")
        source = raw.get("source", "local")
        if source not in ("local", None, ""):
            raise RecordError(f"记录的 source 是“{str(source)[:20]}”，不是 local，请选择对应的来源导入")


ADAPTER = Local()

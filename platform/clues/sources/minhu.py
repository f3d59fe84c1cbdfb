"""民呼我为: ISO 8601 times, one petitioner."""
from clues.sources.base import Adapter

ADAPTER = Adapter()

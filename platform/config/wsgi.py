import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
for p in (BASE_DIR / "platform", BASE_DIR):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

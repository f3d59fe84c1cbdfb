#!/usr/bin/env python
"""Django's command-line utility. Source root is platform/ (never imported as a package:
`platform` is a standard-library module)."""
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BASE_DIR / "platform"))
sys.path.insert(0, str(BASE_DIR))  # for extensions/

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)

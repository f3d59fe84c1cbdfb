"""Where the outside formats' sample files are: the shared folder beside the project
(`../shared/formats/samples`, authoritative, not copied into the repository). The checkout may
sit elsewhere than beside it (CI clones to a temporary folder), so the known places are tried in
order; MDTJ_SAMPLES overrides."""
from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent.parent
_CANDIDATES = [
    Path(os.environ["MDTJ_SAMPLES"]) if os.environ.get("MDTJ_SAMPLES") else None,
    _HERE.parent / "shared" / "formats" / "samples",
    Path("/work/shared/formats/samples"),
]
SAMPLES = next((p for p in _CANDIDATES if p is not None and p.is_dir()), _CANDIDATES[1])

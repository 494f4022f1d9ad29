"""Times pyhf on the shared workspaces; run by bench_foundation.py inside a pyhf environment.

Prints one JSON object: {name: {"build_s": [...], "logpdf_s": [...]}}.  Imports only pyhf.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    import numpy as np
    import pyhf

    ws_dir, repeats = Path(sys.argv[1]), int(sys.argv[2])
    names = sys.argv[3:]
    pyhf.set_backend("numpy")
    out = {}
    for name in names:
        spec = json.loads((ws_dir / f"{name}.json").read_text())
        patch = json.loads((ws_dir / f"{name}.signal.json").read_text())
        builds = []
        for _ in range(repeats):
            start = time.perf_counter()
            ws = pyhf.Workspace(spec)
            model = ws.model(patches=[patch])
            builds.append(time.perf_counter() - start)
        data = np.asarray(ws.data(model))
        pars = np.asarray(model.config.suggested_init())
        calls = []
        for _ in range(repeats):
            n = 50
            start = time.perf_counter()
            for _ in range(n):
                model.logpdf(pars, data)
            calls.append((time.perf_counter() - start) / n)
        out[name] = {"build_s": builds, "logpdf_s": calls, "pyhf": pyhf.__version__}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""The quote page benchmark on its own: `.venv/bin/python bench/quote_page_bench.py [run.py options]`
runs `bench/suites/quote_page.py` (a 200-line quote's page beside the bare read of its lines)
through the benchmark runner. `make bench` runs it with the others."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(["--only", "commerce.quote_page", *sys.argv[1:]]))

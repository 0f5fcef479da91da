"""Copy the front-end packages installed by `npm ci` into static/vendor (git-ignored).

Run by `make assets`. Nothing is fetched from a CDN: the app works offline.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
OUT = ROOT / "static" / "vendor"

# (source inside node_modules, destination inside static/vendor)
FILES: list[tuple[str, str]] = [
    ("@tabler/core/dist/css/tabler.min.css", "tabler/tabler.min.css"),
    ("@tabler/core/dist/js/tabler.min.js", "tabler/tabler.min.js"),
    ("@tabler/core/dist/js/tabler-theme.min.js", "tabler/tabler-theme.min.js"),
    ("@tabler/icons-webfont/dist/tabler-icons.min.css", "tabler-icons/tabler-icons.min.css"),
    ("@tabler/icons-webfont/dist/fonts", "tabler-icons/fonts"),
    ("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js"),
    ("alpinejs/dist/cdn.min.js", "alpinejs/alpine.min.js"),
    ("echarts/dist/echarts.min.js", "echarts/echarts.min.js"),
    ("sortablejs/Sortable.min.js", "sortablejs/Sortable.min.js"),
    ("tom-select/dist/js/tom-select.complete.min.js", "tom-select/tom-select.complete.min.js"),
    ("tom-select/dist/css/tom-select.bootstrap5.min.css", "tom-select/tom-select.bootstrap5.min.css"),
]

# The quote PDFs' font (Noto Sans SC, SIL OFL 1.1, licence copied along): not served as static
# files but read by the PDF renderer from KEHU_PDF_FONT_DIR (default var/fonts/noto-sans-sc).
FONT_DIR = Path(os.environ.get("KEHU_PDF_FONT_DIR") or ROOT / "var" / "fonts" / "noto-sans-sc")
FONTS: list[tuple[str, str]] = [
    ("@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf", "NotoSansSC-Regular.ttf"),
    ("@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf", "NotoSansSC-Bold.ttf"),
    ("@expo-google-fonts/noto-sans-sc/LICENSE_FONT", "OFL.txt"),
]


def main() -> int:
    missing = [src for src, _ in FILES + FONTS if not (NODE / src).exists()]
    if missing:
        print("missing front-end files (run `npm ci`):", *missing, sep="\n  ", file=sys.stderr)
        return 1
    for src, dst in FILES:
        target = OUT / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        if (NODE / src).is_dir():
            shutil.copytree(NODE / src, target, dirs_exist_ok=True)
        else:
            shutil.copy2(NODE / src, target)
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    for src, dst in FONTS:
        target = FONT_DIR / dst
        if not target.exists() or target.stat().st_size != (NODE / src).stat().st_size:
            shutil.copy2(NODE / src, target)
    print(f"copied {len(FILES)} front-end assets into {OUT.relative_to(ROOT)}, the PDF fonts into {FONT_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

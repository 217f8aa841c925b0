"""Compile the translation catalogs, locale/<language>/LC_MESSAGES/*.po, into the .mo files
Django reads, with polib: no GNU gettext needed on the machine (the Docker image, a fresh
checkout, the tests).

A .mo newer than its .po is left as it is. Prints what it compiled; exits 1 naming a catalog
that does not parse.

    python scripts/compile_messages.py [locale directory]
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def compile_catalogs(locale_dir: Path) -> list[Path]:
    """Write each .po's .mo where it is missing or older; return the .mo files written."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalog = polib.pofile(str(po_path))
        # Written beside and renamed, so a process reading it never sees half a file.
        partial = mo_path.with_suffix(".mo.partial")
        catalog.save_as_mofile(str(partial))
        partial.replace(mo_path)
        written.append(mo_path)
    return written


def main() -> int:
    locale_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "locale"
    try:
        written = compile_catalogs(locale_dir)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for mo_path in written:
        print(f"==> compiled {mo_path.relative_to(locale_dir.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The console's files: everything a page loads is in the package, covered by package_data, and
every message key the scripts use exists in both languages."""

from __future__ import annotations

import configparser
import fnmatch
import re
from pathlib import Path

from elasticjob_cloud.rest.webconsole import CONSOLE_DIR

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"""(?:import|from)\s*(?:[\w{}\s,*]+from\s*)?['"](\.{1,2}/[^'"]+)['"]""")
KEY = re.compile(r"""\bt\(\s*['"]([\w.]+)['"]""")


def loaded_files() -> set[Path]:
    """index.html's scripts and styles, and every module they import, transitively."""
    html = (CONSOLE_DIR / "index.html").read_text()
    todo = [
        CONSOLE_DIR / src.removeprefix("/console/")
        for src in re.findall(r'(?:src|href)="(/console/[^"]+)"', html)
    ]
    seen: set[Path] = {(CONSOLE_DIR / "index.html").resolve()}
    while todo:
        path = todo.pop().resolve()
        if path in seen:
            continue
        seen.add(path)
        assert path.is_file(), f"{path} is referenced but missing"
        if path.suffix == ".js" and "vendor" not in path.parts:
            todo += [path.parent / found for found in IMPORT.findall(path.read_text())]
    return seen


def test_every_loaded_file_exists_and_is_package_data():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    patterns = [p.strip() for p in parser["options.package_data"]["elasticjob_cloud.rest"].split(",")]
    files = loaded_files()
    assert any(p.name == "chart.umd.js" for p in files)  # from npm, copied by scripts/install.sh
    package = CONSOLE_DIR.parent
    for path in files:
        relative = str(path.relative_to(package))
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
    shipped = {p.resolve() for p in CONSOLE_DIR.rglob("*") if p.is_file() and "vendor" not in p.parts}
    assert shipped <= files, f"files nothing loads: {shipped - files}"


def test_every_message_key_is_translated_in_both_languages():
    i18n = (CONSOLE_DIR / "js" / "i18n.js").read_text()
    english, chinese = i18n.split("\n  zh: {", 1)
    keys_of = lambda text: set(re.findall(r"""['"]?([\w.]+)['"]?\s*:\s*['"]""", text))  # noqa: E731
    en, zh = keys_of(english.split("en: {", 1)[1]), keys_of(chinese.split("\n};", 1)[0])
    assert en == zh, f"only in en: {en - zh}; only in zh: {zh - en}"
    used = set()
    for script in (CONSOLE_DIR / "js").rglob("*.js"):
        used |= set(KEY.findall(script.read_text()))
    static = set(re.findall(r'data-i18n="([\w.]+)"', (CONSOLE_DIR / "index.html").read_text()))
    assert (used | static) - en == set()


def test_no_third_party_code_is_committed():
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files", "elasticjob_cloud/rest/console", "node_modules"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked and not [name for name in tracked if "vendor/" in name or name.startswith("node_modules")]

"""The shape the refund core was made plain to keep, checked on the source itself: no module
imports another module's underscore names (tests included), and no source module outside
migrations grows past a size a newcomer can read."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "kameng"
MAX_LINES = 500


def python_files(*folders: Path):
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def private_imports(path: Path) -> list[str]:
    """`from x import _name` where x is another module of ours (kameng, tests, or relative)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        ours = node.level > 0 or (node.module or "").split(".")[0] in {"kameng", "tests"}
        for alias in node.names:
            if ours and alias.name.startswith("_") and alias.name != "__all__":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
    return found


def test_no_module_imports_another_modules_underscore_names():
    found = [
        hit for path in python_files(SOURCE, ROOT / "tests", ROOT / "bench") for hit in private_imports(path)
    ]
    assert found == []


def test_no_source_module_is_longer_than_a_newcomer_reads():
    long = {
        str(path.relative_to(ROOT)): n
        for path in python_files(SOURCE)
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}

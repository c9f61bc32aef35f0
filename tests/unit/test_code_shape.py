"""The code stays readable: no function in the package is longer than a screen (60 lines)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "skuflow"
LIMIT = 60


def test_no_function_is_longer_than_a_screen():
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > LIMIT:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "\n".join(long)

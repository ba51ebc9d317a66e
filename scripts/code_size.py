"""The largest modules and functions of credsim, in lines (a function: def to last line).

python scripts/code_size.py            # the 5 largest of each
python scripts/code_size.py --under credsim/engine
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Print the largest modules and functions."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--under", default="credsim", help="folder to measure (default: credsim)")
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args()
    modules, functions = [], []
    for path in sorted((ROOT / args.under).rglob("*.py")):
        text = path.read_text("utf-8")
        name = str(path.relative_to(ROOT))
        modules.append((len(text.splitlines()), name))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                functions.append((size, f"{name}:{node.lineno} {node.name}"))
    for title, rows in (("modules", modules), ("functions", functions)):
        print(f"largest {title} (lines):")
        for size, name in sorted(rows, reverse=True)[: args.top]:
            print(f"  {size:5d}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Writes torch_act's public functions and modules into torch_act/functional.py
and torch_act/modules.py (between their "generated" markers) from the
declarations: torch_act/declarations.py and the op schemas of the built
library. Run it after adding an activation or changing a declaration
(`make api`); tests/test_api_source.py fails while a file is stale.

    python tools/generate_api.py           # rewrite what is stale
    python tools/generate_api.py --check   # list stale files, exit 1 if any

It loads the op library and the declarations without importing the package
itself, whose registry reads the very files being written.
"""
import argparse
import sys
import types
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "torch_act"
FILES = ("functional.py", "modules.py")


def load_codegen():
    stub = types.ModuleType("torch_act")
    stub.__path__ = [str(PACKAGE)]
    sys.modules["torch_act"] = stub
    from torch_act import _codegen, _library  # noqa: F401  (_library registers torch.ops.torch_act)
    return _codegen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list stale files (exit status 1 if any)")
    args = parser.parse_args()
    codegen = load_codegen()
    stale = []
    for name in FILES:
        path = PACKAGE / name
        text = path.read_text()
        new = codegen.with_generated_code(text, name)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new)
    verb = "stale" if args.check else "rewritten"
    print("\n".join(f"{verb}: {p}" for p in stale) or "up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

"""The public API is source a user's tools read: functional.py and modules.py
hold the code generated from the declarations (tools/generate_api.py; stale
files fail here), the package ships py.typed, and mypy on a user's script that
calls every function and module reports no error and no Any."""
import importlib.resources
from pathlib import Path

import pytest

import torch_act
from torch_act import ACTIVATIONS, GATED, _codegen

PACKAGE = Path(torch_act.__file__).parent


@pytest.mark.parametrize("file", ["functional.py", "modules.py"])
def test_generated_code_matches_the_declarations(file):
    text = (PACKAGE / file).read_text()
    assert text == _codegen.with_generated_code(text, file), (
        f"torch_act/{file} is stale: run `make api` (python tools/generate_api.py)")


def test_the_generated_code_is_what_runs():
    """The functions and modules are the files' own, not made at import time."""
    for entry in ACTIVATIONS.values():
        assert entry.function.__code__.co_filename == str(PACKAGE / "functional.py")
        assert entry.module.__module__ == "torch_act.modules"


def test_py_typed_is_shipped():
    assert importlib.resources.files("torch_act").joinpath("py.typed").is_file()
    setup = (PACKAGE.parent / "setup.py").read_text()
    assert '"py.typed"' in setup, "setup.py's package_data must ship py.typed"


def user_script():
    """Calls every public function and module as a user would, with reveal_type on each."""
    lines = ["import torch", "import torch_act", "", "x = torch.randn(4, 8)", "w = torch.rand(8)"]
    for name, entry in ACTIVATIONS.items():
        kwargs = ", ".join(f"{k}={v!r}" for k, v in entry.required_kwargs.items())
        args = "x, w" if entry.parameter else "x" + (f", {kwargs}" if kwargs else "")
        cls = entry.module.__name__
        lines += [f"reveal_type(torch_act.{name})", f"y_{name}: torch.Tensor = torch_act.{name}({args})",
                  f"reveal_type(torch_act.{cls})",
                  f"m_{name} = torch_act.{cls}({'8' if entry.parameter else kwargs})",
                  f"reveal_type(m_{name}.forward(x))"]
    for name, entry in GATED.items():
        lines += [f"reveal_type(torch_act.{name})", f"g_{name}: torch.Tensor = torch_act.{name}(x, x)"]
    for name in ("convert", "everywhere", "enable", "disable"):
        lines.append(f"reveal_type(torch_act.{name})")
    return "\n".join(lines) + "\n"


def test_mypy_sees_real_signatures(tmp_path, monkeypatch):
    from mypy import api  # requirements-dev.txt

    script = tmp_path / "user.py"
    script.write_text(user_script())
    # The package's folder on mypy's path: an editable install's import hook is not one mypy follows.
    monkeypatch.setenv("MYPYPATH", str(PACKAGE.parent))
    out, err, _ = api.run([str(script), "--cache-dir", str(tmp_path / "cache"), "--no-error-summary"])
    revealed = [line for line in out.splitlines() if "Revealed type" in line]
    problems = [line for line in out.splitlines() if "Revealed type" not in line]
    assert not problems and not err, "\n".join(problems) + err
    assert len(revealed) == user_script().count("reveal_type(")
    untyped = [line for line in revealed if 'Revealed type is "Any"' in line]
    assert not untyped, "\n".join(untyped)

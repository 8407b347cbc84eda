"""Writes each activation's Python function and nn.Module from its
declarations: Python's (declarations.py) and the C++ one, as the library
reports it (its family, in-place form and module name: _library.declared();
its hyper-parameters and defaults: its op schema), as source text that tools/generate_api.py puts into functional.py and
modules.py; and the helpers that code calls (the seed of a random
activation, torch.nn's repr).
"""
from typing import List, Tuple

import torch

from ._library import declared

# Schema type -> Python annotation.
_PY_TYPES = {"float": "float", "str": "str", "bool": "bool", "int": "int"}


# The default of an argument that has none (Threshold's threshold and value).
REQUIRED = object()


def op_arguments(name: str) -> List[Tuple[str, str, object]]:
    """(name, Python type, default or REQUIRED) of each argument of op `name` after the input."""
    schema = getattr(torch.ops.torch_act, name).default._schema
    return [(a.name, _PY_TYPES[str(a.type)], a.default_value if a.has_default_value() else REQUIRED)
            for a in schema.arguments[1:]]


# A random activation's op (RReLU's) takes `seed`, which its function draws
# from torch's default generator (as torch_act::detail::draw_seed in C++) and
# does not take, and `training`, which its module passes as its own mode
# rather than store.
SEED, TRAINING = "seed", "training"


def draw_seed() -> int:
    return int(torch.empty((), dtype=torch.int64).random_().item())


@torch.compiler.disable
def call_with_drawn_seed(op, input: torch.Tensor, *args):
    """op(input, *args, seed) with a fresh seed, outside torch.compile's graphs:
    inside one, every new seed (a Python int) would compile the graph again."""
    return op(input, *args, draw_seed())


def _random_body(op: str, args: str, inplace: bool) -> str:
    """The start of a random activation's function: in training the seed is
    drawn, in eager mode and TorchScript alike (where torch.compile is not)."""
    call = f"call_with_drawn_seed({op}{{}}, {args.replace(f', {SEED}', '')})"
    lines = ["    seed = 0", "    if training:", "        if not torch.jit.is_scripting():"]
    if inplace:
        lines += ["            if inplace:", f"                {call.format('_')}", "                return input"]
    lines += [f"            return {call.format('')}", "        seed = draw_seed()"]
    return "\n".join(lines) + "\n"


def function_parameters(name: str) -> List[Tuple[str, str, object]]:
    """The function's parameters after the input (and before ``inplace``): the op's, less a seed."""
    return [p for p in op_arguments(name) if p[0] != SEED]


def hyper_parameters(name: str) -> List[Tuple[str, str, object]]:
    """The settings a module stores: the function's parameters, less ``training``."""
    return [p for p in function_parameters(name) if p[0] != TRAINING]


def _parameter_list(params) -> List[str]:
    """"name: type = default" for each, without "= default" where it is REQUIRED."""
    return [f"{n}: {t}" + ("" if d is REQUIRED else f" = {d!r}") for n, t, d in params]


def _parameters(params) -> str:
    """", name: type = default" for each (after a first parameter)."""
    return "".join(", " + p for p in _parameter_list(params))


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


def function_source(decl) -> str:
    """The source of function ``decl.name``: a call of its op, with torch.nn.functional's signature."""
    op = f"torch.ops.torch_act.{decl.name}"
    declaration = declared()[decl.name]
    if declaration.family == "input and weight":  # (input, weight)
        parameters, args, body = ["input: Tensor", "weight: Tensor"], "input, weight", ""
    else:
        parameters = ["input: Tensor"] + _parameter_list(function_parameters(decl.name))
        args = "input" + "".join(f", {n}" for n, _, _ in op_arguments(decl.name))
        body = _random_body(op, args, declaration.inplace) if declaration.random else ""
        if declaration.inplace:
            body += (f"    if inplace:\n        {op}_({args})\n        return input\n")
            parameters.append("inplace: bool = False")
    signature = ", ".join(parameters)
    if len(f"def {decl.name}({signature}) -> Tensor:") > 110:  # one parameter per line
        signature = "\n" + "".join(f"        {p},\n" for p in parameters)
    doc = f"{decl.doc}\n\nSame arguments and results as ``{_qualified(decl.torch_function)}``."
    return (f"def {decl.name}({signature}) -> Tensor:\n"
            f'    """{_indent(doc, 4).lstrip()}\n    """\n'
            f"{body}    return {op}({args})\n")


def module_source(decl) -> str:
    """The source of the activation's module class, calling ``F.<name>`` (the functional module)."""
    params = hyper_parameters(decl.name)
    module = declared()[decl.name].module
    inplace = declared()[decl.name].inplace
    settings = params + ([("inplace", "bool", False)] if inplace else [])
    names = [n for n, _, _ in settings]
    init_args = _parameters(settings)
    call_args = "input" + "".join(f", self.{n}" for n, _, _ in function_parameters(decl.name)) + (
        ", self.inplace" if inplace else "")
    summary = _indent(decl.doc.split("\n\n")[0], 4)
    lines = [f"class {module}(nn.Module):",
             f'    """Drop-in for ``torch.nn.{module}``.',
             "",
             summary,
             '    """',
             "",
             f"    __constants__ = {names!r}"]
    lines += [f"    {n}: {t}" for n, t, _ in settings]
    lines += ["", f"    def __init__(self{init_args}) -> None:", "        super().__init__()"]
    lines += [f"        self.{n} = {n}" for n in names]
    lines += ["", "    def forward(self, input: Tensor) -> Tensor:", f"        return F.{decl.name}({call_args})",
              "", "    def extra_repr(self) -> str:",
              f"        return _extra_repr(self, {tuple(n for n, _, _ in params)!r}, {inplace!r}, {decl.repr_style!r})"]
    return "\n".join(lines) + "\n"


# --- The public API as source files (functional.py, modules.py) ---------------
# The functions and modules are written into the package's files between these
# lines by tools/generate_api.py (`make api`), so that editors and type
# checkers read them as they read torch.nn; tests/test_api_source.py fails
# when a file no longer matches its declarations.
BEGIN = "# --- generated by tools/generate_api.py (make api) from the declarations: do not edit by hand ---\n"
END = "# --- end of generated code ---\n"


def _names_list(names: List[str]) -> str:
    lines, line = ["__all__ = ["], "   "
    for n in names:
        item = f" {n!r},"
        if len(line) + len(item) > 110:
            lines.append(line)
            line = "   "
        line += item
    lines += [line, "]"]
    return "\n".join(lines) + "\n"


def generated_code(file: str) -> str:
    """What `file` ("functional.py" or "modules.py") holds between BEGIN and END."""
    from .declarations import DECLARATIONS

    if file == "functional.py":
        parts = [function_source(d) for d in DECLARATIONS]
        names = [d.name for d in DECLARATIONS]
    elif file == "modules.py":  # the weighted family's module (PReLU) is written by hand above
        parts = [module_source(d) for d in DECLARATIONS if declared()[d.name].family != "input and weight"]
        names = [declared()[d.name].module for d in DECLARATIONS]
    else:
        raise ValueError(f"generated_code: no generated code in {file!r}")
    return "\n\n".join(parts) + "\n\n" + _names_list(names)


def with_generated_code(text: str, file: str) -> str:
    """`text` (the file's contents) with its generated part replaced by today's."""
    begin, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:begin] + generated_code(file) + text[end:]


def extra_repr(module, params: Tuple[str, ...], has_inplace: bool, style: str = "named") -> str:
    """torch.nn's repr: hyper-parameters as name=value, then inplace=True when
    set; bare values (style "bare", the shrinks'), or nothing ("none")."""
    if style == "none":
        return ""
    parts = [(f"{n}=" if style == "named" else "") + repr(getattr(module, n)) for n in params]
    if has_inplace and module.inplace:
        parts.append("inplace=True")
    return ", ".join(parts)


def _qualified(fn) -> str:
    module = getattr(fn, "__module__", None) or "torch"
    if module.startswith("torch.nn.functional") or module == "torch._C._nn":
        module = "torch.nn.functional"
    return f"{module}.{fn.__name__}"

"""torch.library.opcheck on every op in the torch_act namespace (schema,
autograd registration, fake/meta kernels, AOT dispatch), with samples derived
from the registries (ACTIVATIONS, GATED): every op of every activation's
family, every argument set."""
import pytest
import torch

from helpers import gated_opcheck_samples, opcheck_samples

ops = torch.ops.torch_act
SAMPLES = list(opcheck_samples()) + list(gated_opcheck_samples())


# Ops without tensor arguments or results (the library's queries): nothing for
# opcheck to check; tests/test_declarations.py tests them.
NO_TENSOR_OPS = {"cpu_capability", "declarations", "dim_order", "mask_bit_order"}


def test_every_op_is_covered():
    registered = {n.split("::")[1] for n in torch._C._dispatch_get_all_op_names()
                  if n.startswith("torch_act::")}
    assert registered - NO_TENSOR_OPS == {name for name, _ in SAMPLES}


@pytest.mark.parametrize("name,args", SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_opcheck(name, args):
    torch.library.opcheck(getattr(ops, name).default, args)

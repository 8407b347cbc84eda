"""DTensor support: how every torch_act op shards (tensor and sequence
parallelism on torch.distributed), registered as soon as both torch_act and
torch.distributed.tensor are imported.

* Elementwise ops keep any Shard or Replicate placement. Partial inputs are
  reduced first (the activations are not linear); the backward ops are linear
  in ``grad_output``, so a Partial gradient stays Partial.
* Gated ops (swiglu, ...): gate, up and the gradients share one placement;
  a Partial ``grad_output`` gives Partial gradients.
* PReLU: a per-channel weight follows a sharded channel dim (input Shard(1),
  weight Shard(0)); sharded elsewhere, the weight is replicated and its
  gradient is Partial (each rank sums its part).
* The bit mask of the mask family describes one rank's shard in that shard's
  own memory order; no placement of the mask's own shape says that. The mask
  ops are therefore run per shard by handlers here: the mask is a DTensor
  carrying the placements of the input it was made from (and its shape), and
  the backward brings ``grad_output`` to those placements before it runs.
  Nothing else may redistribute a mask.
* RReLU's slopes follow each element's index in its shard, so in training
  each shard draws from its own seed (the call's, moved by the shard's place
  on the mesh) and replicas from the same one; its ops run through handlers
  here that pass that seed.
"""
import importlib.abc
import importlib.util
import math
import sys
from typing import List

import torch

from ._codegen import SEED
from ._library import declared

__all__ = ["register_sharding_strategies", "register_when_dtensor_is_imported"]


def _elementwise_strategies(ndim: int, n_tensors: int, n_params: int, partial_first: bool = False):
    """Every tensor argument Shard(d) or Replicate alike; with partial_first,
    also (Partial, Replicate...) -> Partial (linear in the first)."""
    from torch.distributed.tensor import Partial, Replicate, Shard

    none = [None] * n_params
    out = [([Replicate()], [Replicate()] * n_tensors + none)]
    out += [([Shard(d)], [Shard(d)] * n_tensors + none) for d in range(ndim)]
    if partial_first:
        out.append(([Partial()], [Partial()] + [Replicate()] * (n_tensors - 1) + none))
    return out


def _gated_strategies(ndim: int, n_params: int, backward: bool):
    """(outputs, inputs) for a gated op (gate, up) -> output, or its backward
    (grad_output, gate, up) -> (grad_gate, grad_up): every tensor Shard(d) or
    Replicate alike; the backward is linear in grad_output, so a Partial one
    gives Partial gradients."""
    from torch.distributed.tensor import Partial, Replicate, Shard

    n_out, n_in, none = (2, 3, [None] * n_params) if backward else (1, 2, [None] * n_params)
    out = [([p] * n_out, [p] * n_in + none) for p in [Replicate()] + [Shard(d) for d in range(ndim)]]
    if backward:
        out.append(([Partial()] * 2, [Partial(), Replicate(), Replicate()] + none))
    return out


def _prelu_strategies(x, weight, backward: bool):
    """(outputs, inputs) for prelu (input, weight) or prelu_backward
    (grad_output, input, weight) -> (grad_input, grad_weight)."""
    from torch.distributed.tensor import Partial, Replicate, Shard

    per_channel = math.prod(weight.shape) > 1
    lead = 2 if backward else 1  # grad_output and input, or input
    out = [([Replicate()] * (2 if backward else 1), [Replicate()] * (lead + 1))]
    for d in range(x.ndim):
        if d == 1 and per_channel:
            weight_p, grad_weight_p = Shard(0), Shard(0)
        else:
            weight_p, grad_weight_p = Replicate(), Partial()
        outputs = [Shard(d), grad_weight_p] if backward else [Shard(d)]
        out.append((outputs, [Shard(d)] * lead + [weight_p]))
    if backward:  # linear in grad_output
        out.append(([Partial(), Partial()], [Partial(), Replicate(), Replicate()]))
    return out


def _on_meta(t):
    """t's sizes and strides without data (a DTensor's global ones), for the layout queries."""
    return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")


def _dim_order(t) -> List[int]:
    """csrc/layout.h's dim_order_of, asked of the library."""
    return torch.ops.torch_act.dim_order(_on_meta(t))


def _mask_bit_order(t) -> List[int]:
    """csrc/layout.h's mask_bit_order: the order of the bits a mask op writes, asked of the library."""
    return torch.ops.torch_act.mask_bit_order(_on_meta(t))


def _shard_seed(like, seed: int) -> int:
    """A random op's seed on this rank for a tensor placed like `like`: the
    shards (numbered over the mesh dims that shard it) draw different slopes,
    replicas the same; shard 0 keeps the call's own seed."""
    coordinate = like.device_mesh.get_coordinate()
    shard = 0
    for dim, placement in enumerate(like.placements):
        if placement.is_shard():
            shard = shard * like.device_mesh.size(dim) + coordinate[dim]
    moved = seed + shard * 0x9E3779B97F4A7C15  # the golden ratio in 64 bits: far-apart seeds
    return (moved + 2**63) % 2**64 - 2**63  # back into int64


def _mask_handlers(name: str):
    """DTensor handlers of name_forward, name_forward_ and name_backward (and,
    for a random activation, of name and name_)."""
    from torch.distributed.tensor import DTensor

    ops = torch.ops.torch_act
    random, inplace = declared()[name].random, declared()[name].inplace

    def local_call(op, like, args, kwargs):
        """op(*args, **kwargs), a random op with its seed for this shard (the
        seed comes by position, by keyword, or not at all: its default 0)."""
        if random:
            args, kwargs = list(args), dict(kwargs)
            i = [a.name for a in op._schema.arguments].index(SEED)
            if i < len(args):
                args[i] = _shard_seed(like, args[i])
            else:
                kwargs[SEED] = _shard_seed(like, kwargs.get(SEED, 0))
        return op(*args, **kwargs)

    def partial(p):
        from torch.distributed.tensor.placement_types import Partial

        return isinstance(p, Partial)

    def reduced(x):
        # Partial -> Replicate: the activation is not linear.
        from torch.distributed.tensor import Replicate

        if any(partial(p) for p in x.placements):
            x = x.redistribute(x.device_mesh, [Replicate() if partial(p) else p for p in x.placements])
        return x

    def wrap(local, like):
        return DTensor.from_local(local, like.device_mesh, like.placements, run_check=False,
                                  shape=like.shape, stride=like.stride())

    def forward(op, args, kwargs):
        x = reduced(args[0])
        local = x.to_local()
        order = _dim_order(x)  # what autograd records for backward: the global output's
        if _mask_bit_order(local) != order:
            inverse = sorted(range(len(order)), key=order.__getitem__)
            local = local.permute(order).contiguous().permute(inverse)
        output, mask = local_call(op, x, [local, *args[1:]], kwargs)
        return wrap(output, x), wrap(mask, x)

    def forward_(op, args, kwargs):
        x = args[0]
        local = x.to_local()
        if any(partial(p) for p in x.placements) or _mask_bit_order(local) != _mask_bit_order(x):
            raise RuntimeError(f"torch_act.{name}_forward_: expected a DTensor whose shards are laid out "
                               "like the whole tensor and not Partial; redistribute it or call out of place")
        return wrap(local_call(op, x, [local, *args[1:]], kwargs), x)

    def backward(op, args, kwargs):
        grad, mask, order, *params = args
        if grad.placements != mask.placements:
            grad = grad.redistribute(grad.device_mesh, mask.placements)
        return wrap(local_call(op, mask, [grad.to_local(), mask.to_local(), order, *params], kwargs), grad)

    # A random activation's plain forms (no grad) draw the same slopes as forward.
    def plain(op, args, kwargs):
        x = reduced(args[0])
        return wrap(local_call(op, x, [x.to_local(), *args[1:]], kwargs), x)

    def plain_(op, args, kwargs):
        x = args[0]
        if any(partial(p) for p in x.placements):
            raise RuntimeError(f"torch_act.{name}_: expected a DTensor that is not Partial; "
                               "redistribute it or call out of place")
        local_call(op, x, [x.to_local(), *args[1:]], kwargs)

    handlers = {getattr(ops, name + "_forward").default: forward,
                getattr(ops, name + "_backward").default: backward}
    if inplace:
        handlers[getattr(ops, name + "_forward_").default] = forward_
    if random:
        handlers[getattr(ops, name).default] = plain
        if inplace:
            handlers[getattr(ops, name + "_").default] = plain_
    return handlers


def register_sharding_strategies() -> None:
    """Registers DTensor sharding for every torch_act op (done at import)."""
    from torch.distributed.tensor import DTensor
    from torch.distributed.tensor.experimental import register_sharding

    ops = torch.ops.torch_act
    handlers = DTensor._op_dispatcher._custom_op_handlers
    for name, d in declared().items():
        if d.family == "input and weight":
            register_sharding(getattr(ops, name).default)(
                lambda x, weight: _prelu_strategies(x, weight, backward=False))
            register_sharding(getattr(ops, name + "_backward").default)(
                lambda grad, x, weight: _prelu_strategies(x, weight, backward=True))
            continue
        if d.family == "gate and up":
            register_sharding(getattr(ops, name).default)(
                lambda gate, up, *params: _gated_strategies(gate.ndim, len(params), backward=False))
            register_sharding(getattr(ops, name + "_backward").default)(
                lambda grad, gate, up, *params: _gated_strategies(grad.ndim, len(params), backward=True))
            continue
        register_sharding(getattr(ops, name).default)(
            lambda x, *params: _elementwise_strategies(x.ndim, 1, len(params)))
        if d.inplace:  # returns nothing: no output placements
            register_sharding(getattr(ops, name + "_").default)(
                lambda x, *params: [([], inputs) for _, inputs in _elementwise_strategies(x.ndim, 1, len(params))])
        if d.family == "mask":
            handlers.update(_mask_handlers(name))
        else:
            register_sharding(getattr(ops, name + "_backward").default)(
                lambda grad, saved, *params: _elementwise_strategies(grad.ndim, 2, len(params), partial_first=True))


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Registers the strategies right after torch.distributed.tensor is first
    imported: importing it with torch_act would cost every user ~1 s."""

    def find_spec(self, name, path, target=None):
        if name != _DTENSOR:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            register_sharding_strategies()

        spec.loader.exec_module = exec_module
        return spec


_DTENSOR = "torch.distributed.tensor"


def register_when_dtensor_is_imported() -> None:
    """Registers now if DTensor is already imported, else as soon as it is."""
    if not torch.distributed.is_available():
        return
    if _DTENSOR in sys.modules:
        register_sharding_strategies()
    else:
        sys.meta_path.insert(0, _RegisterAfterImport())

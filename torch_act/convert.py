"""Swap torch.nn activations in a model for their torch_act twins."""
import copy

from torch import nn

from .registry import ACTIVATIONS


def _twin(module: nn.Module):
    """torch_act's twin of a torch.nn activation with the same settings, or None."""
    for entry in ACTIVATIONS.values():
        if type(module) is entry.torch_module:
            return entry.from_torch(module)
    return None


def convert(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Return ``model`` with every torch.nn activation torch_act has (``ACTIVATIONS``:
    ReLU, LeakyReLU, PReLU, ELU, Sigmoid, Tanh, GELU, SiLU) replaced by its
    torch_act twin, with the same settings and weights
    (PReLU's ``weight`` becomes ``alpha``). Nested modules are converted too.

    With ``inplace=False`` (the default) the model is deep-copied first and the
    original is left as it was; with ``inplace=True`` it is changed and returned.
    Subclasses of the torch.nn activations are left alone: their forward may differ.

    >>> model = torch_act.convert(torchvision_model)   # doctest: +SKIP
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"convert: expected 'model' to be an nn.Module, got {type(model).__name__}")
    if not inplace:
        model = copy.deepcopy(model)
    twin = _twin(model)
    if twin is not None:
        return twin
    for name, child in model.named_children():
        converted = convert(child, inplace=True)
        if converted is not child:
            setattr(model, name, converted)
    return model

"""gradcheck: analytical gradients against central finite differences, like torch's."""
from __future__ import annotations


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Compare the gradients backward gives for ``func(*inputs)`` with finite differences; inputs
    that require grad should be float64: ``gradcheck(lambda x: (x * x).sum(), (x,))``."""
    import numpy as np

    import tkern
    from tkern.tensor import Tensor
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    wanted = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outputs = func(*inputs)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    for k, out in enumerate(outputs):
        flat_out = out.reshape(-1)
        n_out = flat_out.numel()
        for x in wanted:
            analytical = np.zeros((x.numel(), n_out))
            numerical = np.zeros((x.numel(), n_out))
            for j in range(n_out if out.requires_grad else 0):
                grads = tkern.autograd.grad(flat_out[j], wanted, retain_graph=True, allow_unused=True)
                g = grads[[w is x for w in wanted].index(True)]
                if g is not None:
                    analytical[:, j] = g.detach().cpu().double().numpy().reshape(-1)
            values = x.detach()  # shares x's memory, whatever its layout
            for i in range(x.numel()):
                index = tuple(int(v) for v in np.unravel_index(i, tuple(x.shape)))
                original = values[index].item()
                with tkern.no_grad():
                    values[index] = original + eps
                    plus = _output(func, inputs, k)
                    values[index] = original - eps
                    minus = _output(func, inputs, k)
                    values[index] = original
                numerical[i, :] = (plus - minus) / (2 * eps)
            if not np.allclose(analytical, numerical, atol=atol, rtol=rtol):
                if raise_exception:
                    position = [i is x for i in inputs].index(True)
                    raise RuntimeError(f"Jacobian mismatch for output {k} with respect to input {position},\n"
                                       f"numerical:{numerical}\nanalytical:{analytical}\n")
                return False
    return True


def _output(func, inputs: tuple, k: int):
    from tkern.tensor import Tensor
    outputs = func(*inputs)
    outputs = (outputs,) if isinstance(outputs, Tensor) else outputs
    return outputs[k].reshape(-1).cpu().double().numpy().copy()

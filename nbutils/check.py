"""Compare NumPy layers with their PyTorch twins, and check gradients numerically.

Every check prints a one-line verdict (two lines when the name is long) and raises CheckError when it fails.
"""

import copy

import numpy as np

WIDTH = 100  # characters: the book's column holds about 100 (a verdict wider than this is printed on two lines)


class CheckError(AssertionError):
    """A layer disagreed with its reference by more than the tolerance."""


def compare(name, ours, theirs, rtol=1e-7, atol=1e-10, verbose=True):
    """Compare two arrays; print "✓ name: max abs err …" and raise CheckError past atol + rtol·|theirs|."""
    ours, theirs = np.asarray(ours), np.asarray(_numpy(theirs))
    if ours.shape != theirs.shape:
        raise CheckError(f"✗ {name}: shape {ours.shape} but the reference has shape {theirs.shape}")
    theirs = theirs.astype(np.float64)
    err = np.abs(ours.astype(np.float64) - theirs)
    abs_err = float(err.max(initial=0.0))
    big = np.abs(theirs) >= atol / rtol if rtol > 0 else np.zeros(theirs.shape, bool)  # elsewhere atol governs
    with np.errstate(invalid="ignore", divide="ignore"):  # inf references give nan here, not a warning
        rel_err = float(np.nan_to_num(err[big] / np.abs(theirs[big])).max(initial=0.0))
    ok = bool(np.all(err <= atol + rtol * np.abs(theirs))) and not np.isnan(ours).any()
    tol = f"(atol {atol:g}, rtol {rtol:g})"
    line = f"{'✓' if ok else '✗'} {name}: max abs err {abs_err:.1e}, max rel err {rel_err:.1e} {tol}"
    if len(line) > WIDTH:  # a long name: the numbers go on a second line, so the verdict fits the book's column
        line = line.replace(": max abs err", ":\n  max abs err", 1)
    if not ok:
        raise CheckError(line)
    if verbose:
        print(line)
    return abs_err


def _numpy(t):
    """A torch tensor (or anything array-like) as a NumPy array."""
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _torch(a, grad=False):
    import torch

    return torch.tensor(np.asarray(a), requires_grad=grad)


def check_function(fn, torch_fn, *inputs, rtol=1e-7, atol=1e-10, name=None, **kwargs):
    """Run fn(*inputs, **kwargs) and torch_fn on the same inputs (arrays as float64); compare the outputs."""
    inputs = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in inputs]
    ours = fn(*inputs, **kwargs)
    theirs = torch_fn(*[_torch(a) if isinstance(a, np.ndarray) else a for a in inputs], **kwargs)
    return compare(name or f"{fn.__name__} forward", ours, theirs, rtol, atol)


def load_torch_params(ours, theirs):
    """Copy our module's parameters and float buffers into the torch module `theirs` (float64), by torch name."""
    import torch

    theirs.double()
    names = list(ours.params) + [n for n, _ in theirs.named_buffers() if "." not in n]
    with torch.no_grad():
        for key in names:
            value = getattr(ours, key, None)
            if isinstance(value, np.ndarray) and getattr(theirs, key).is_floating_point():
                getattr(theirs, key).copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
    return theirs


def check_module(ours, theirs, x, rtol=1e-7, atol=1e-10, seed=0):
    """Forward and backward of our module against a torch module, in float64, from our parameters."""
    ours = copy.deepcopy(ours)
    for key, value in vars(ours).items():  # parameters and float buffers (e.g. running statistics)
        if isinstance(value, np.ndarray) and value.dtype == np.float32:
            setattr(ours, key, value.astype(np.float64))
    theirs = load_torch_params(ours, copy.deepcopy(theirs))
    name = type(ours).__name__
    xt = _torch(np.asarray(x, dtype=np.float64), grad=True)
    out_t = theirs(xt)
    errors = {"forward": compare(f"{name} forward", ours(np.asarray(x, dtype=np.float64)), out_t, rtol, atol)}
    grad_out = np.random.default_rng(seed).standard_normal(out_t.shape)
    out_t.backward(_torch(grad_out))
    errors["grad input"] = compare(f"{name} grad input", ours.backward(grad_out), xt.grad, rtol, atol)
    for key in ours.params:
        errors[f"grad {key}"] = compare(f"{name} grad {key}", ours.grads[key], getattr(theirs, key).grad, rtol, atol)
    return errors


def numerical_grad(f, x, grad_out, eps=1e-6):
    """Central differences of sum(f(x) * grad_out) with respect to every entry of x (float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = np.sum(f(x) * grad_out)
        x[i] = old - eps
        minus = np.sum(f(x) * grad_out)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(f, grad_f, inputs, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0, names=None):
    """Check analytic gradients against central differences.

    f(*inputs) -> out; grad_f(grad_out, *inputs) -> one gradient per input. float64 throughout.
    """
    inputs = [np.asarray(a, dtype=np.float64) for a in inputs]
    grad_out = np.random.default_rng(seed).standard_normal(np.shape(f(*inputs)))
    analytic = grad_f(grad_out, *inputs)
    names = names or [f"input {i}" for i in range(len(inputs))]
    errors = {}
    for k, (name, a) in enumerate(zip(names, inputs)):
        def f_k(v, k=k):
            return f(*inputs[:k], v, *inputs[k + 1 :])

        numeric = numerical_grad(f_k, a, grad_out, eps)
        errors[name] = compare(f"numerical grad {name}", analytic[k], numeric, rtol, atol)
    return errors

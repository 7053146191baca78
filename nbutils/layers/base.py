"""The Module base class: parameters, gradients, train/eval mode, __call__, and what forward saves for backward.

Layers write plain code: forward stores what backward needs on `self` (`self.mask = x > 0`), backward reads it and
assigns `self.grads = {...}`. The base class makes that code behave like torch.nn under real use:

- **One context per call.** Whatever a forward sets on `self` is recorded as that call's context, and backward
  restores the latest unused one first. A module used twice in a Sequential (as torchvision's ResNet reuses its
  ReLU) back-propagates each use with its own saved arrays, because Sequential runs the backwards in reverse.
- **Gradients accumulate** over backwards until `zero_grad()`, as in torch.
- **A container (a Sequential) called from outside any other forward starts a new graph:** the contexts nobody
  went back through are dropped, so evaluation forwards do not pile up. A layer called on its own keeps its last
  MAX_CONTEXTS unused forwards, so `act(conv(act(x)))` chained by hand goes back through both uses of `act`.
- **backward without a forward to match** raises a RuntimeError that says what to do, and so does a saved input or
  output that was changed in place between forward and backward (torch raises for both).
"""

import functools
import zlib

import numpy as np

BUFFER_NAMES = ("running_mean", "running_var", "num_batches_tracked")  # updated by forward, never restored
MAX_CONTEXTS = 16  # unused forwards a layer keeps; older ones are dropped, so forwards without backward stay bounded
_forwards_running = 0  # forwards in progress, across all modules: 0 means the next forward is a top-level call


class _Context:
    """What one forward set on its module, with a checksum of each saved array the caller can reach."""

    def __init__(self, saved, reachable):
        self.saved = saved
        self.sums = {k: _checksum(v) for k, v in saved.items()
                     if isinstance(v, np.ndarray) and any(np.may_share_memory(v, a) for a in reachable)}

    def changed(self):
        """Names of saved arrays whose contents differ from when forward saved them."""
        return [k for k, s in self.sums.items() if _checksum(self.saved[k]) != s]


def _checksum(a):
    return zlib.crc32(np.ascontiguousarray(a).view(np.uint8)), a.shape


def _arrays(values):
    return [v for v in values if isinstance(v, np.ndarray)]


def _recording(forward):
    """Wrap a subclass's forward so that each call records its own context."""

    @functools.wraps(forward)
    def wrapper(self, *args, **kwargs):
        global _forwards_running
        if self.__dict__.get("_recording") is not None:  # super().forward() inside a subclass's forward
            return forward(self, *args, **kwargs)
        if _forwards_running == 0 and self.children():
            self._forget()  # a container called from outside starts a new graph
        self.__dict__["_recording"] = {}
        _forwards_running += 1
        try:
            out = forward(self, *args, **kwargs)
            saved = self.__dict__["_recording"]
        finally:
            _forwards_running -= 1
            self.__dict__["_recording"] = None
        outputs = out if isinstance(out, tuple) else (out,)
        self._contexts.append(_Context(saved, _arrays(args) + _arrays(kwargs.values()) + _arrays(outputs)))
        del self._contexts[:-MAX_CONTEXTS]
        return out

    return wrapper


def _replaying(backward):
    """Wrap a subclass's backward: restore the latest unused context, check it, and accumulate gradients."""

    @functools.wraps(backward)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_replaying"):  # super().backward() inside a subclass's backward
            return backward(self, *args, **kwargs)
        name = type(self).__name__
        if not self._contexts:
            raise RuntimeError(f"{name}.backward has no forward to go back through: call forward first. Each forward "
                               "allows one backward (torch: 'Trying to backward through the graph a second time').")
        context = self._contexts.pop()
        if changed := context.changed():
            raise RuntimeError(f"{name}.backward: {', '.join(changed)}, saved by forward, was changed in place before "
                               "backward (by an in-place layer, or a reused input buffer), so the gradient would be "
                               "wrong. Copy the array before changing it, or run forward again (torch: 'a variable "
                               "needed for gradient computation has been modified by an inplace operation').")
        self.__dict__.update(context.saved)
        before = self.grads if self._param_names else None  # a container's grads are its children's
        if before is not None:
            self.grads = {}
        self.__dict__["_replaying"] = True
        try:
            grad_input = backward(self, *args, **kwargs)
        except BaseException:
            if before is not None:
                self.grads = before
            self._contexts.append(context)  # nothing was consumed: the same backward can be retried
            raise
        finally:
            self.__dict__["_replaying"] = False
        if before is not None:
            self.grads = {**before, **{k: before[k] + g if k in before else g for k, g in self.grads.items()}}
        return grad_input

    return wrapper


class Module:
    """Base of every layer: subclasses define forward, backward and list their parameter names."""

    _param_names = ()

    def __init__(self):
        self.training = True
        self.grads = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in vars(cls):
            cls.forward = _recording(vars(cls)["forward"])
        if "backward" in vars(cls):
            cls.backward = _replaying(vars(cls)["backward"])

    def __setattr__(self, name, value):
        recording = self.__dict__.get("_recording")
        if recording is not None and name not in self._param_names and name not in BUFFER_NAMES:
            recording[name] = value  # set during forward: part of this call's context
        object.__setattr__(self, name, value)

    @property
    def _contexts(self):
        return self.__dict__.setdefault("_saved_contexts", [])

    def children(self):
        """The modules inside this one (none for a layer)."""
        return []

    def _forget(self):
        """Drop the contexts of forwards that were never gone back through, here and in every child."""
        self._contexts.clear()
        for child in self.children():
            child._forget()

    @property
    def params(self):
        """Parameters by torch name, e.g. {"weight": ..., "bias": ...}; the arrays themselves, not copies."""
        return {n: getattr(self, n) for n in self._param_names if getattr(self, n) is not None}

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def train(self, mode=True):
        """Switch to training mode (or to eval mode with mode=False); return self, as torch does."""
        if not isinstance(mode, bool | np.bool_):
            raise ValueError(f"train(mode): mode must be True or False, got {mode!r} (torch: 'training mode is "
                             "expected to be boolean')")
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode; return self."""
        return self.train(False)

    def zero_grad(self):
        """Forget the accumulated gradients: the next backward starts from zero (torch sets them to None)."""
        self.grads = {}

    def extra_repr(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

"""The Module base class: parameters, gradients, train/eval mode and __call__."""


class Module:
    """Base of every layer: subclasses define forward, backward and list their parameter names."""

    _param_names = ()

    def __init__(self):
        self.training = True
        self.grads = {}

    @property
    def params(self):
        """Parameters by torch name, e.g. {"weight": ..., "bias": ...}; the arrays themselves, not copies."""
        return {n: getattr(self, n) for n in self._param_names if getattr(self, n) is not None}

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def train(self, mode=True):
        """Switch to training mode (or to eval mode with mode=False); return self, as torch does."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode; return self."""
        return self.train(False)

    def zero_grad(self):
        """Forget the gradients of the last backward."""
        self.grads = {}

    def extra_repr(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"

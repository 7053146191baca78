"""nbutils.check must catch disagreements, not only report agreement."""

import numpy as np
import pytest
import torch

from nbutils import check
from nbutils.layers import Conv2d, conv2d, conv2d_backward


def test_compare_raises_past_tolerance_and_on_shape_mismatch():
    with pytest.raises(check.CheckError, match="max abs err"):
        check.compare("x", np.ones(3), np.ones(3) + 1e-3, verbose=False)
    with pytest.raises(check.CheckError, match="shape"):
        check.compare("x", np.ones(3), np.ones(4), verbose=False)
    with pytest.raises(check.CheckError):
        check.compare("x", np.full(3, np.nan), np.ones(3), verbose=False)


def test_compare_prints_a_one_line_verdict(capsys):
    check.compare("same", np.ones(3), torch.ones(3, dtype=torch.float64))
    out = capsys.readouterr().out
    assert out.startswith("✓ same: max abs err") and out.count("\n") == 1


def test_gradcheck_catches_a_wrong_backward():
    x, w = np.random.default_rng(0).standard_normal((1, 1, 4, 4)), np.ones((1, 1, 2, 2))

    def wrong_backward(g, x, w):
        gx, gw, _ = conv2d_backward(g, x, w)
        return gx * 1.01, gw

    with pytest.raises(check.CheckError):
        check.gradcheck(lambda x, w: conv2d(x, w), wrong_backward, [x, w])


def test_check_module_catches_a_wrong_parameter_gradient():
    class BrokenConv2d(Conv2d):
        def backward(self, grad_out):
            gx = super().backward(grad_out)
            self.grads["bias"] = self.grads["bias"] * 2
            return gx

    ours = BrokenConv2d(2, 3, 3, rng=0)
    x = np.random.default_rng(1).standard_normal((2, 2, 5, 5))
    with pytest.raises(check.CheckError, match="grad bias"):
        check.check_module(ours, torch.nn.Conv2d(2, 3, 3), x)

"""Building blocks of pstmo.models.layers against the torch modules / formulas they stand for.

Token-major ``TokenConv1d`` / ``TokenBatchNorm1d`` are compared with ``nn.Conv1d`` /
``nn.BatchNorm1d`` on the channels-first layout (outputs, gradients, running statistics); the
LayerNorm's hand-written backward with autograd through the official formula (in float64);
the dropout mask with the Bernoulli distribution it must have.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from pstmo.models.layers import (
    Dropout,
    OfficialLayerNorm,
    TokenBatchNorm1d,
    TokenConv1d,
    dropout_positions,
)


@pytest.mark.parametrize("k,s,p", [(1, 1, 0), (3, 3, 1), (3, 1, 1), (3, 9, 1), (3, 13, 1), (5, 2, 2)])
@pytest.mark.parametrize("T", [27, 28, 3])
def test_token_conv1d_equals_conv1d_on_channels_first(k, s, p, T):
    torch.manual_seed(0)
    conv = nn.Conv1d(6, 5, k, stride=s, padding=p)
    tok = TokenConv1d(6, 5, k, stride=s, padding=p)
    tok.load_state_dict(conv.state_dict())  # same parameter names and shapes
    x = torch.randn(2, T, 6, requires_grad=True)
    expected = conv(x.transpose(1, 2)).transpose(1, 2)
    out = tok(x)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(expected)
    grads = torch.autograd.grad(out, (x, tok.weight, tok.bias), g)
    ref = torch.autograd.grad(expected, (x, conv.weight, conv.bias), g)
    for a, b in zip(grads, ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_token_batchnorm_equals_batchnorm_on_channels_first():
    torch.manual_seed(0)
    bn, tok = nn.BatchNorm1d(4), TokenBatchNorm1d(4)
    x = 3 * torch.randn(5, 9, 4) + 1
    for _ in range(2):  # train mode: batch statistics and the running-statistics update
        torch.testing.assert_close(tok(x), bn(x.transpose(1, 2)).transpose(1, 2))
    torch.testing.assert_close(tok.running_mean, bn.running_mean)
    torch.testing.assert_close(tok.running_var, bn.running_var)
    bn.eval(), tok.eval()
    torch.testing.assert_close(tok(x), bn(x.transpose(1, 2)).transpose(1, 2))


def test_official_layer_norm_values_and_gradients():
    norm = OfficialLayerNorm(16).double()
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = (3 * torch.randn(4, 7, 16) + 1).double().requires_grad_()
    expected = norm.weight * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-6) + norm.bias
    out = norm(x)
    torch.testing.assert_close(out, expected)
    g = torch.randn_like(out)
    params = (x, norm.weight, norm.bias)
    for a, b in zip(torch.autograd.grad(out, params, g), torch.autograd.grad(expected, params, g)):
        torch.testing.assert_close(a, b)


def test_dropout_positions_have_the_bernoulli_distribution():
    torch.manual_seed(0)
    n, p = 200_000, 0.1
    pos = dropout_positions(n, p)
    assert pos.dtype == torch.int64 and pos.min() >= 0 and pos.max() < n
    assert torch.all(pos[1:] > pos[:-1])  # sorted, no repeats
    dropped = torch.zeros(n, dtype=torch.bool)
    dropped[pos] = True
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(dropped.sum().item() - n * p) < 5 * sigma
    # independence: the rate of dropped pairs at lag 1 and lag 7 is p^2
    for lag in (1, 7):
        both = (dropped[lag:] & dropped[:-lag]).sum().item()
        assert abs(both - (n - lag) * p * p) < 5 * math.sqrt(n * p * p)
    # short tensors and high rates too (the gap draw may need several rounds)
    counts = [dropout_positions(10, 0.9).numel() for _ in range(2000)]
    assert abs(sum(counts) / 2000 - 9.0) < 0.1


def test_dropout_module_train_and_eval():
    torch.manual_seed(0)
    drop = Dropout(0.25)
    x = torch.rand(64, 50, requires_grad=True) + 0.5
    y = drop(x)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.75)
    assert abs(kept.float().mean().item() - 0.75) < 0.02
    (grad,) = torch.autograd.grad(y, x, torch.ones_like(y))
    torch.testing.assert_close(grad, kept.float() / 0.75)  # the same mask for the gradient
    t = torch.randn(3, 4).t()  # non-contiguous input keeps its shape
    assert drop(t).shape == (4, 3)
    drop.eval()
    assert drop(x) is x
    assert isinstance(drop, nn.Dropout)  # optimize_for_inference removes it like nn.Dropout

"""cnn.py: convolution output sizes, parameter counts and receptive fields.

Worked examples from the lecture (AlexNet's first layer, VGG's 3x3 stacks), and
torch.nn.Conv2d as an independent truth when torch is installed.
"""
import pytest

from cs231n_lec7.cnn import conv_output_size, conv_param_count, conv_stack_shapes, receptive_field

try:
    import torch
except ImportError:  # optional
    torch = None


def test_alexnet_first_layer():
    """227x227x3, 96 filters 11x11, stride 4, no padding -> 55x55x96 and 34,944 parameters."""
    assert conv_output_size(227, 11, 0, 4) == 55
    assert conv_param_count(11, 3, 96) == 34_944
    assert conv_param_count(11, 3, 96, bias=False) == 34_848
    assert conv_stack_shapes((227, 227, 3), [dict(K=11, S=4, P=0, C_out=96)]) == [(55, 55, 96, 34_944)]


def test_the_famous_224_typo_is_not_an_integer():
    """The AlexNet paper's 224x224 input does not tile with 11x11 stride 4: (224 - 11) / 4 + 1 = 54.25."""
    with pytest.raises(ValueError, match="not an integer"):
        conv_output_size(224, 11, 0, 4)


def test_vgg_three_3x3_convs_see_7x7_with_fewer_weights():
    for C in (64, 256):
        assert receptive_field([(3, 1)] * 3) == receptive_field([(7, 1)]) == 7
        three = 3 * conv_param_count(3, C, C, bias=False)
        one = conv_param_count(7, C, C, bias=False)
        assert (three, one) == (27 * C * C, 49 * C * C)
    assert receptive_field([(3, 1)] * 2) == 5
    # same padding keeps the size through the stack
    shapes = conv_stack_shapes((224, 224, 64), [dict(K=3, S=1, P=1, C_out=64)] * 3)
    assert [s[:3] for s in shapes] == [(224, 224, 64)] * 3


def test_receptive_field_grows_with_strides():
    # conv 3x3 s1, pool 2x2 s2, conv 3x3 s1: 1 + 2 + 1*1 + 2*2 = 8
    assert receptive_field([(3, 1), (2, 2), (3, 1)]) == 8


def test_clear_errors():
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_output_size(5, 7, 0, 1)
    with pytest.raises(ValueError, match="integer"):
        conv_output_size(32, 3.5, 1, 1)
    with pytest.raises(ValueError, match="S must be"):
        conv_output_size(32, 3, 1, 0)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("W,K,P,S,C_in,C_out", [(227, 11, 0, 4, 3, 96), (32, 3, 1, 1, 3, 16), (32, 5, 2, 1, 16, 20),
                                                 (13, 3, 1, 2, 4, 8), (8, 3, 0, 1, 1, 6)])
def test_agrees_with_torch_conv2d(W, K, P, S, C_in, C_out):
    conv = torch.nn.Conv2d(C_in, C_out, K, stride=S, padding=P)
    with torch.no_grad():
        out = conv(torch.zeros(1, C_in, W, W))
    assert out.shape[-1] == conv_output_size(W, K, P, S)
    assert sum(p.numel() for p in conv.parameters()) == conv_param_count(K, C_in, C_out)

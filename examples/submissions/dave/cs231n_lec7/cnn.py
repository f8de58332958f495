"""Convolution arithmetic: output sizes, parameter counts, receptive fields (lecture 7, transfer learning).

Pure functions on integers, no arrays:

- ``conv_output_size(W, K, P, S)``: the spatial size (W - K + 2P) / S + 1 of a
  convolution (or pooling) output; raises ``ValueError`` when the filter does
  not tile the padded input (the division is not exact).
- ``conv_param_count(K, C_in, C_out, bias=True)``: K*K*C_in*C_out weights plus
  C_out biases.
- ``receptive_field(layers)``: the receptive field of a stack of layers
  ``[(K, S), ...]`` on the input: r <- r + (K - 1) * j, j <- j * S.
- ``conv_stack_shapes(input_shape, layers)``: the (H, W, C) after every layer.

Worked examples (checked in tests/test_cnn.py): AlexNet's first layer, 96
filters 11x11 with stride 4 on a 227x227x3 image, gives 55x55x96 and has
11*11*3*96 + 96 = 34,944 parameters; three stacked 3x3 convolutions (stride 1)
see a 7x7 region, like one 7x7 convolution, with 27 C^2 weights instead of 49 C^2.
"""


def _positive_int(name, value, minimum=1):
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def conv_output_size(W, K, P=0, S=1):
    """Output width of a convolution: (W - K + 2P) / S + 1.

    Inputs:
    - W: Input width (or height), an integer >= 1.
    - K: Filter size (receptive field), an integer >= 1.
    - P: Zero padding on each side, an integer >= 0.
    - S: Stride, an integer >= 1.

    Returns:
    - The output width, an int.

    Raises ``ValueError`` when (W - K + 2P) is not a multiple of S (the
    filters would not tile the input "neatly and symmetrically") or when the
    filter is larger than the padded input.
    """
    W, K = _positive_int("W", W), _positive_int("K", K)
    P, S = _positive_int("P", P, minimum=0), _positive_int("S", S)
    span = W - K + 2 * P
    if span < 0:
        raise ValueError(f"filter K={K} is larger than the padded input W + 2P = {W + 2 * P}")
    if span % S:
        raise ValueError(f"(W - K + 2P) / S + 1 = ({W} - {K} + 2*{P}) / {S} + 1 = {span / S + 1:g} is not an "
                         f"integer: this stride does not fit; change the padding or the stride")
    return span // S + 1


def conv_param_count(K, C_in, C_out, bias=True):
    """Learnable parameters of a K x K convolution from C_in to C_out channels.

        K * K * C_in * C_out weights (+ C_out biases)

    Independent of the input's width and height (weights are shared across positions).
    """
    K, C_in, C_out = _positive_int("K", K), _positive_int("C_in", C_in), _positive_int("C_out", C_out)
    return K * K * C_in * C_out + (C_out if bias else 0)


def receptive_field(layers):
    """Receptive field, on the input, of one unit after a stack of layers.

    Inputs:
    - layers: Sequence of (K, S) pairs (filter size, stride), first layer first.

    Returns:
    - r: The side of the input region one output unit sees:
      r_0 = 1, j_0 = 1;  r <- r + (K - 1) j;  j <- j S  (j = the "jump" on the input).
    """
    r, jump = 1, 1
    for K, S in layers:
        r += (_positive_int("K", K) - 1) * jump
        jump *= _positive_int("S", S)
    return r


def conv_stack_shapes(input_shape, layers):
    """Shapes (H, W, C) after each layer of a stack of convolutions.

    Inputs:
    - input_shape: (H, W, C) of the input.
    - layers: Sequence of dicts with keys K, S, P (default 0) and C_out.

    Returns:
    - List of (H, W, C, num_params) per layer (num_params with biases).
    """
    H, W, C = input_shape
    out = []
    for layer in layers:
        K, S, P = layer["K"], layer.get("S", 1), layer.get("P", 0)
        H, W = conv_output_size(H, K, P, S), conv_output_size(W, K, P, S)
        params = conv_param_count(K, C, layer["C_out"])
        C = layer["C_out"]
        out.append((H, W, C, params))
    return out

"""4.1.2 Pooling2D: torch pooling, ties by hand, central differences (avg)."""
import numpy as np
import torch.nn.functional as F

from public_tests.cases.torch_oracle import compare_layer_with_torch
from public_tests.framework import assert_close, assert_true, case
from public_tests.gradcheck import build_layer, check_layer_gradients


@case('pooling2d')
def pooling_output_shape_and_windows(sol):
    layer = build_layer(sol.Pooling2D(2, 'max'), (3, 8, 6))
    assert_true(layer.output_shape == (3, 4, 3), "Pooling2D output_shape", f"got {layer.output_shape}")
    x = np.arange(2 * 3 * 8 * 6, dtype=np.float64).reshape(2, 3, 8, 6)  # grows along rows: the window's last pixel
    assert_close(layer.forward(x), x[:, :, 1::2, 1::2], "max pooling of increasing values (2 x 2 windows)")


@case('pooling2d')
def max_pooling_matches_torch(sol):
    for pool_size, shape in ((2, (3, 6, 8)), (3, (2, 9, 3))):
        layer = build_layer(sol.Pooling2D(pool_size, 'max'), shape)
        compare_layer_with_torch(layer, lambda inputs: F.max_pool2d(inputs, pool_size), np.random.normal(size=(2,) + shape),
                                 {}, f"max pooling {pool_size} on {shape}")


@case('pooling2d')
def avg_pooling_matches_torch(sol):
    layer = build_layer(sol.Pooling2D(2, 'avg'), (2, 4, 6))
    compare_layer_with_torch(layer, lambda inputs: F.avg_pool2d(inputs, 2), np.random.normal(size=(3, 2, 4, 6)),
                             {}, "avg pooling 2 on (2, 4, 6)")


@case('pooling2d')
def pooling_gradient_check(sol):
    for mode in ('avg', 'max'):
        # distinct values: no ties, so central differences never jump between maxima
        x = np.random.permutation(32).reshape(2, 1, 4, 4) / 8.0
        check_layer_gradients(build_layer(sol.Pooling2D(2, mode), (1, 4, 4)), x)


@case('pooling2d')
def max_pooling_ties_go_to_first_maximum(sol):
    layer = build_layer(sol.Pooling2D(2, 'max'), (1, 2, 4))
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 0.0, 2.0, 2.0]]]])
    assert_close(layer.forward(x), [[[[1.0, 2.0]]]], "max pooling with ties: forward")
    expected = np.array([[[[5.0, 0.0, 0.0, 7.0],
                           [0.0, 0.0, 0.0, 0.0]]]])
    assert_close(layer.backward(np.array([[[[5.0, 7.0]]]])), expected,
                 "max pooling with ties: the first maximum (row-major) of each window gets the gradient")


@case('pooling2d')
def pooling_batch_of_one_matches_torch(sol):
    for mode, function in (('max', F.max_pool2d), ('avg', F.avg_pool2d)):
        layer = build_layer(sol.Pooling2D(2, mode), (1, 4, 4))
        compare_layer_with_torch(layer, lambda inputs: function(inputs, 2), np.random.normal(size=(1, 1, 4, 4)),
                                 {}, f"{mode} pooling 2 on a batch of one")


@case('pooling2d')
def pooling_sizes_3_and_4_match_torch(sol):
    for mode, function in (('max', F.max_pool2d), ('avg', F.avg_pool2d)):
        for pool_size, shape in ((3, (2, 6, 9)), (4, (2, 8, 4))):
            layer = build_layer(sol.Pooling2D(pool_size, mode), shape)
            compare_layer_with_torch(layer, lambda inputs: function(inputs, pool_size),
                                     np.random.normal(size=(2,) + shape), {}, f"{mode} pooling {pool_size} on {shape}")

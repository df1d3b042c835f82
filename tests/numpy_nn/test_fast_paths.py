"""The kit's speed paths compute what the slow ones do: convolve_pytorch's weight-gradient route,
float32 kept float32 through the reference layers, numpy's BLAS on one thread beside torch's."""
import numpy as np
import pytest
from scipy import signal

import assignments
import interface
from grader.limits import limits_for
from grader.sandbox import child_environment

LIMITS = limits_for(assignments.get('numpy-nn'))


def scipy_convolve(inputs, kernels, padding):
    """(n, d, h, w) * (c, d, kh, kw) -> (n, c, oh, ow): scipy's 2-D convolutions summed over d."""
    padded = np.pad(inputs, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return np.array([[sum(signal.convolve2d(image[channel], kernel[channel], mode='valid')
                          for channel in range(inputs.shape[1]))
                      for kernel in kernels] for image in padded])


@pytest.mark.parametrize('inputs_shape, kernels_shape, padding', [
    ((2, 3, 6, 7), (4, 3, 3, 3), 1),     # kernels smaller than the output: torch's conv2d
    ((3, 5, 8, 8), (2, 5, 8, 8), 1),     # a kernel gradient (3 x 3 out of 8 x 8): the weight-gradient route
    ((4, 2, 5, 6), (3, 2, 4, 6), 0),     # rectangular, no padding
    ((2, 4, 4, 4), (3, 4, 5, 5), 2),     # kernels larger than the image
    ((1, 1, 3, 3), (1, 1, 3, 3), 0),     # a 1 x 1 output
])
def test_convolve_pytorch_matches_scipy_on_both_routes(inputs_shape, kernels_shape, padding):
    rng = np.random.default_rng(sum(inputs_shape + kernels_shape))
    inputs, kernels = rng.normal(size=inputs_shape), rng.normal(size=kernels_shape)
    expected = scipy_convolve(inputs, kernels, padding)
    np.testing.assert_allclose(interface.convolve_pytorch(inputs, kernels, padding), expected, rtol=1e-10, atol=1e-10)
    # read-only, transposed and flipped views, as Conv2D.backward passes them
    flipped = interface.read_only(kernels[:, :, ::-1, ::-1])
    np.testing.assert_allclose(interface.convolve_pytorch(interface.read_only(inputs), flipped, padding),
                               scipy_convolve(inputs, kernels[:, :, ::-1, ::-1], padding), rtol=1e-10, atol=1e-10)


def test_conv2d_kernel_gradient_on_the_fast_path_matches_the_numpy_one(reference):
    rng = np.random.default_rng(0)
    layer = reference.Conv2D(4, kernel_size=3, input_shape=(3, 8, 8))
    layer.build(reference.SGD(0.1))
    x, grad = rng.normal(size=(5, 3, 8, 8)), rng.normal(size=(5, 4, 8, 8))
    results = []
    for fast in (False, True):
        with interface.use_fast_convolve(fast):
            layer.forward(x)
            results.append((layer.backward(grad), layer.kernels_grad, layer.biases_grad))
    for slow, fast in zip(*results):
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-10)


def test_float32_layers_do_float32_work(reference):
    """eps is a Python float: a float64 numpy scalar would turn BatchNorm's float32 batch into float64
    work (and float64 parameter gradients) under numpy 2's promotion rules."""
    assert type(interface.eps) is float and interface.eps == np.finfo(np.float64).eps
    rng = np.random.default_rng(1)
    model = interface.Model(reference.CategoricalCrossentropy(), reference.SGDMomentum(0.1, 0.9), dtype=np.float32)
    for layer in (reference.Conv2D(4, input_shape=(3, 8, 8)), reference.BatchNorm(), reference.ReLU(),
                  reference.Pooling2D(2, 'max'), reference.Flatten(), reference.Dropout(0.5),
                  reference.Dense(10), reference.Softmax()):
        model.add(layer)
    x = rng.normal(size=(6, 3, 8, 8)).astype(np.float32)
    with interface.use_fast_convolve():  # (the kit casts what a layer returns: its *_impl is called too)
        for layer in model.layers:
            assert layer.forward_impl(interface.read_only(x)).dtype == np.float32, layer.name
            x = layer.forward(x)
        grad = np.full_like(x, 1 / x.size)
        for layer in reversed(model.layers):
            assert layer.backward_impl(interface.read_only(grad)).dtype == np.float32, layer.name
            grad = layer.backward(grad)
            for name in layer.parameter_updaters:
                assert getattr(layer, f"{name}_grad").dtype == np.float32, (layer.name, name)


def test_fast_convolve_runs_numpy_blas_on_one_thread_and_restores_it():
    threadpoolctl = pytest.importorskip('threadpoolctl')

    def blas_threads():
        return {pool['num_threads'] for pool in threadpoolctl.threadpool_info() if pool['user_api'] == 'blas'}

    before = blas_threads()
    with interface.use_fast_convolve():
        assert blas_threads() == {1}
    assert blas_threads() == before
    with interface.use_fast_convolve(False):
        assert blas_threads() == before


def test_a_child_running_torch_gets_one_blas_thread_beside_torchs():
    cifar = child_environment(LIMITS['cifar10'], '/tmp', torch=True)  # the CIFAR-10 gate's task
    assert cifar['OPENBLAS_NUM_THREADS'] == cifar['MKL_NUM_THREADS'] == '1'
    assert cifar['OMP_NUM_THREADS'] == str(LIMITS['cifar10'].threads)
    mnist = child_environment(LIMITS['mnist'], '/tmp')
    assert mnist['OPENBLAS_NUM_THREADS'] == str(LIMITS['mnist'].threads)

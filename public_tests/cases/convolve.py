"""3.3.2 convolve_numpy: torch's conv2d (float64) as the oracle, plus hand-checked kernels."""
import numpy as np
import torch

from public_tests.framework import assert_close, case


def torch_convolve(inputs, kernels, padding):
    """Oracle: inputs (n, d, ih, iw), kernels (c, d, kh, kw) -> (n, c, oh, ow), in float64.

    torch's conv2d is a cross-correlation: a convolution is the same with each kernel flipped
    in both spatial axes (the hand-computed cases below check the flip on their own)."""
    flipped = np.array(kernels[:, :, ::-1, ::-1], dtype=np.float64)  # a copy: torch refuses negative strides
    with torch.no_grad():
        return torch.nn.functional.conv2d(torch.from_numpy(np.asarray(inputs, dtype=np.float64)),
                                          torch.from_numpy(flipped), padding=padding).numpy()


@case('convolve')
def convolve_is_not_cross_correlation(sol):
    image = np.zeros((1, 1, 3, 3))
    image[0, 0, 1, 1] = 1.0  # a unit impulse: convolution copies the kernel as it is
    kernel = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    assert_close(sol.convolve_numpy(image, kernel, 1), kernel,
                 "impulse * kernel == kernel (a cross-correlation would flip it)")


@case('convolve')
def convolve_valid_hand_computed(sol):
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    kernel = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    # flipped kernel [[-1, 0], [0, 1]]: out[t, s] = x[t+1, s+1] - x[t, s] = 5
    assert_close(sol.convolve_numpy(image, kernel, 0), np.full((1, 1, 3, 3), 5.0), "valid convolution, 4x4 * 2x2")


@case('convolve')
def convolve_matches_torch_same(sol):
    inputs, kernels = np.random.normal(size=(2, 3, 6, 5)), np.random.normal(size=(4, 3, 3, 3))
    assert_close(sol.convolve_numpy(inputs, kernels, 1), torch_convolve(inputs, kernels, 1),
                 "convolve (2, 3, 6, 5) * (4, 3, 3, 3), padding 1")


@case('convolve')
def convolve_matches_torch_valid_and_full(sol):
    inputs, kernels = np.random.normal(size=(3, 2, 7, 7)), np.random.normal(size=(2, 2, 5, 5))
    for padding in (0, 2, 4):
        assert_close(sol.convolve_numpy(inputs, kernels, padding), torch_convolve(inputs, kernels, padding),
                     f"convolve (3, 2, 7, 7) * (2, 2, 5, 5), padding {padding}")


@case('convolve')
def convolve_rectangular_kernel(sol):
    inputs, kernels = np.random.normal(size=(1, 2, 5, 8)), np.random.normal(size=(3, 2, 1, 3))
    assert_close(sol.convolve_numpy(inputs, kernels, 0), torch_convolve(inputs, kernels, 0),
                 "convolve (1, 2, 5, 8) * (3, 2, 1, 3)")


@case('convolve')
def convolve_1x1_kernel(sol):
    inputs, kernels = np.random.normal(size=(2, 4, 5, 3)), np.random.normal(size=(3, 4, 1, 1))
    assert_close(sol.convolve_numpy(inputs, kernels, 0), torch_convolve(inputs, kernels, 0),
                 "convolve (2, 4, 5, 3) * (3, 4, 1, 1)")

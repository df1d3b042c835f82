"""Your solution: fill in every region marked "# Your code here".

Only this file is uploaded to the checker, which uses its own copy of the code
outside the marked regions (edits there are reported, never used); helpers of
your own are kept.  Use numpy and the pure standard library (copy, math,
functools, ...; no other numeric library), no Python loops over data in layers,
losses and optimizers, at most two nested loops in convolve_numpy.
"""
import numpy as np

import interface
from interface import *


# ================================ 1.4.1 SGD =================================
class SGD(Optimizer):
    def __init__(self, lr):
        self.lr = lr

    def get_parameter_updater(self, parameter_shape):

        def updater(parameter, parameter_grad):
            """
            :param parameter: np.array, current parameter values (read-only)
            :param parameter_grad: np.array, dLoss/dParameter (read-only)
            :return: np.array, new parameter values

            P <- P - lr * dL/dP, as a new array (the handout, 1.4.1).
            """
            # BEGIN SOLUTION sgd
            return parameter - self.lr * parameter_grad
            # END SOLUTION

        return updater


# ============================= 1.4.2 SGDMomentum ============================
class SGDMomentum(Optimizer):
    def __init__(self, lr, momentum=0.0):
        self.lr = lr
        self.momentum = momentum

    def get_parameter_updater(self, parameter_shape):

        def updater(parameter, parameter_grad):
            """
            :param parameter: np.array, current parameter values (read-only)
            :param parameter_grad: np.array, dLoss/dParameter (read-only)
            :return: np.array, new parameter values

            updater.inertia holds this parameter's inertia, shape parameter_shape.

            I <- momentum * I + lr * dL/dP, then P <- P - I with the new I (the handout, 1.4.2).
            """
            # BEGIN SOLUTION momentum
            updater.inertia = self.momentum * updater.inertia + self.lr * parameter_grad
            return parameter - updater.inertia
            # END SOLUTION

        updater.inertia = np.zeros(parameter_shape)
        return updater


# ================================ 2.1.1 ReLU ================================
class ReLU(Layer):
    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, ...)), input values
        :return: np.array((n, ...)), output values

        y = max(x, 0) elementwise (the handout, 2.1.1).
        """
        # BEGIN SOLUTION relu
        return np.maximum(inputs, 0)
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, ...)), dLoss/dOutputs
        :return: np.array((n, ...)), dLoss/dInputs

        ReLU'(0) = 1: the gradient passes where the input is >= 0 (the handout, 2.1.1).
        """
        # BEGIN SOLUTION relu
        # ReLU'(0) = 1: the gradient passes where the input is >= 0.
        return grad_outputs * (self.forward_inputs >= 0)
        # END SOLUTION


# =============================== 2.1.2 Softmax ==============================
class Softmax(Layer):
    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d)), input values
        :return: np.array((n, d)), output values

        One distribution per row (axis 1); finite for inputs of +-1e4 (the handout, 2.1.2).
        """
        # BEGIN SOLUTION softmax
        # Softmax(x) = Softmax(x - max x): exp never overflows.
        exponents = np.exp(inputs - inputs.max(axis=1, keepdims=True))
        return exponents / exponents.sum(axis=1, keepdims=True)
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, d)), dLoss/dOutputs
        :return: np.array((n, d)), dLoss/dInputs

        Through the whole Jacobian dy_i/dx_j = y_i (delta_ij - y_j), not its diagonal alone
        (the handout, 2.1.2).
        """
        # BEGIN SOLUTION softmax
        # dL/dx_j = y_j * (dL/dy_j - sum_i dL/dy_i * y_i)
        outputs = self.forward_outputs
        return outputs * (grad_outputs - np.sum(grad_outputs * outputs, axis=1, keepdims=True))
        # END SOLUTION


# ================================ 2.1.3 Dense ===============================
class Dense(Layer):
    def __init__(self, units, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_units = units

        self.weights, self.weights_grad = None, None
        self.biases, self.biases_grad = None, None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)

        input_units, = self.input_shape
        output_units = self.output_units

        self.weights, self.weights_grad = self.add_parameter(
            name='weights',
            shape=(output_units, input_units),
            initializer=he_initializer(input_units)
        )
        self.biases, self.biases_grad = self.add_parameter(
            name='biases',
            shape=(output_units,),
            initializer=np.zeros
        )
        self.output_shape = (output_units,)

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d)), input values
        :return: np.array((n, c)), output values

            n - batch size
            d - number of input units
            c - number of output units

        weights: (c, d) = (output_units, input_units), biases: (c,) (the handout, 2.1.3).
        """
        # BEGIN SOLUTION dense
        return inputs @ self.weights.T + self.biases
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, c)), dLoss/dOutputs
        :return: np.array((n, d)), dLoss/dInputs

            n - batch size
            d - number of input units
            c - number of output units

        Sets weights_grad (c, d) and biases_grad (c,) to this batch's gradients (overwritten at
        every call, summed over the batch: grad_outputs already carries the 1/n); the handout, 2.1.3.
        """
        # BEGIN SOLUTION dense
        self.weights_grad = grad_outputs.T @ self.forward_inputs
        self.biases_grad = grad_outputs.sum(axis=0)
        return grad_outputs @ self.weights
        # END SOLUTION


# ============================ 2.2.1 Crossentropy ============================
class CategoricalCrossentropy(Loss):
    def value_impl(self, y_gt, y_pred):
        """
        :param y_gt: np.array((n, d)), ground truth (correct) labels
        :param y_pred: np.array((n, d)), estimated target values
        :return: np.array((1,)), mean Loss scalar for batch

            n - batch size
            d - number of units

        The batch mean of -sum(y_gt * ln(y_pred)), y_pred clipped below by eps; y_gt may be
        soft labels (the handout, 2.2.1).
        """
        # BEGIN SOLUTION crossentropy
        n = y_gt.shape[0]
        return np.array([-np.sum(y_gt * np.log(np.maximum(y_pred, eps))) / n])
        # END SOLUTION

    def gradient_impl(self, y_gt, y_pred):
        """
        :param y_gt: np.array((n, d)), ground truth (correct) labels
        :param y_pred: np.array((n, d)), estimated target values
        :return: np.array((n, d)), dLoss/dY_pred

            n - batch size
            d - number of units

        dLoss/dY_pred (not the softmax's inputs), already divided by the batch size n;
        y_pred clipped below by eps (the handout, 2.2.1).
        """
        # BEGIN SOLUTION crossentropy
        n = y_gt.shape[0]
        return -y_gt / np.maximum(y_pred, eps) / n
        # END SOLUTION


# ======================== 2.3 Train and Test on MNIST =======================
def train_mnist_model(x_train, y_train, x_valid, y_valid):
    """
    :param x_train, x_valid: np.array((n, 784)), standardised images
    :param y_train, y_valid: np.array((n, 10)), one-hot labels
    :return: a trained Model
    """
    # BEGIN SOLUTION mnist
    # 784-512-512-10 with dropout, momentum SGD in float32; every training batch is
    # shifted by up to 2 pixels (random crops of the image padded with background),
    # and the learning rate falls linearly from 0.05 to 0.002 over 12 epochs.
    optimizer = SGDMomentum(lr=0.05, momentum=0.9)
    model = Model(CategoricalCrossentropy(), optimizer, dtype=np.float32)
    model.add(Dense(512, input_shape=(784,)))
    model.add(ReLU())
    model.add(Dropout(0.2))
    model.add(Dense(512))
    model.add(ReLU())
    model.add(Dropout(0.2))
    model.add(Dense(10))
    model.add(Softmax())
    print(model)

    def random_shifts(x):
        n = len(x)
        padded = np.pad(x.reshape(n, 28, 28), ((0, 0), (2, 2), (2, 2)), constant_values=x.min())
        dy, dx = np.random.randint(5, size=(2, n))
        rows = (dy[:, None] + np.arange(28))[:, :, None]
        cols = (dx[:, None] + np.arange(28))[:, None, :]
        return padded[np.arange(n)[:, None, None], rows, cols].reshape(n, 784)

    epochs = 12
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, x_valid=x_valid, y_valid=y_valid,
              lr_schedule=list(np.linspace(0.05, 0.002, epochs)), augment=random_shifts)
    return model
    # END SOLUTION


# ============================== 3.3.2 convolve ==============================
def convolve_numpy(inputs, kernels, padding):
    """
    :param inputs: np.array((n, d, ih, iw)), input values
    :param kernels: np.array((c, d, kh, kw)), convolution kernels
    :param padding: int >= 0, the size of padding, 0 means 'valid'
    :return: np.array((n, c, oh, ow)), output values

        n - batch size
        d - number of input channels
        c - number of output channels
        (ih, iw) - input image shape
        (oh, ow) - output image shape

    A true convolution: each kernel flipped along both spatial axes (not a cross-correlation);
    zero padding on the four sides of height and width only: oh = ih - kh + 1 + 2 * padding,
    ow = iw - kw + 1 + 2 * padding (the handout, 3.3.2).  At most two nested loops.
    """
    # !!! Don't change this function, it's here for your reference only !!!
    assert isinstance(padding, int) and padding >= 0
    assert inputs.ndim == 4 and kernels.ndim == 4
    assert inputs.shape[1] == kernels.shape[1]

    # BEGIN SOLUTION convolve
    # im2col: every (kh, kw) window of the padded image, then one tensordot
    # over (d, kh, kw) with the flipped kernels (flipped: convolution, not
    # cross-correlation).
    p = padding
    padded = np.pad(inputs, ((0, 0), (0, 0), (p, p), (p, p)))
    kh, kw = kernels.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
    # windows: (n, d, oh, ow, kh, kw)
    outputs = np.tensordot(windows, kernels[:, :, ::-1, ::-1], axes=([1, 4, 5], [1, 2, 3]))
    # outputs: (n, oh, ow, c)
    return np.ascontiguousarray(outputs.transpose(0, 3, 1, 2))
    # END SOLUTION


def convolve(inputs, kernels, padding=0):
    """Kit code: torch when the fast path is on (CIFAR-10, or USE_FAST_CONVOLVE set), else convolve_numpy."""
    if interface.fast_convolve_enabled():
        return convolve_pytorch(inputs, kernels, padding)
    return convolve_numpy(inputs, kernels, padding)


# =============================== 4.1.1 Conv2D ===============================
class Conv2D(Layer):
    def __init__(self, output_channels, kernel_size=3, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert kernel_size % 2, "Kernel size should be odd"

        self.output_channels = output_channels
        self.kernel_size = kernel_size

        self.kernels, self.kernels_grad = None, None
        self.biases, self.biases_grad = None, None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)

        input_channels, input_h, input_w = self.input_shape
        output_channels = self.output_channels
        kernel_size = self.kernel_size

        self.kernels, self.kernels_grad = self.add_parameter(
            name='kernels',
            shape=(output_channels, input_channels, kernel_size, kernel_size),
            initializer=he_initializer(input_channels * kernel_size * kernel_size)
        )
        self.biases, self.biases_grad = self.add_parameter(
            name='biases',
            shape=(output_channels,),
            initializer=np.zeros
        )
        self.output_shape = (output_channels,) + self.input_shape[1:]

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d, h, w)), input values
        :return: np.array((n, c, h, w)), output values

            n - batch size
            d - number of input channels
            c - number of output channels
            (h, w) - image shape

        Y = convolve(X, kernels, (k - 1) // 2) + biases per output channel: 'same', stride 1
        (the handout, 4.1.1).
        """
        # BEGIN SOLUTION conv2d
        padding = (self.kernel_size - 1) // 2
        return convolve(inputs, self.kernels, padding) + self.biases[None, :, None, None]
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, c, h, w)), dLoss/dOutputs
        :return: np.array((n, d, h, w)), dLoss/dInputs

            n - batch size
            d - number of input channels
            c - number of output channels
            (h, w) - image shape

        Sets kernels_grad (c, d, k, k) and biases_grad (c,) to this batch's gradients, every
        convolution through convolve (the handout, 4.1.1).
        """
        # BEGIN SOLUTION conv2d
        padding = (self.kernel_size - 1) // 2
        # dL/dB: sum over the batch and the image.
        self.biases_grad = grad_outputs.sum(axis=(0, 2, 3))
        # dL/dK = convolve(flip(X)^T, (dL/dY)^T)^T: the batch plays the role of
        # the channels, (d, n, h, w) * (c, n, h, w) -> (d, c, k, k).  Computed as
        # flip(convolve(X^T, flip(dL/dY)^T)) (flipping both factors of a convolution
        # flips its result), so that the large X is passed as it is.
        flipped_grads = grad_outputs[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        kernels_grad = convolve(self.forward_inputs.transpose(1, 0, 2, 3), flipped_grads, padding)
        self.kernels_grad = kernels_grad[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        # dL/dX = convolve(dL/dY, flip(K)^T) with padding k - 1 - p (= p for "same").
        flipped_kernels = self.kernels[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        return convolve(grad_outputs, flipped_kernels, self.kernel_size - 1 - padding)
        # END SOLUTION


# ============================== 4.1.2 Pooling2D =============================
class Pooling2D(Layer):
    def __init__(self, pool_size=2, pool_mode='max', *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert pool_mode in {'avg', 'max'}

        self.pool_size = pool_size
        self.pool_mode = pool_mode
        self.forward_idxs = None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)

        channels, input_h, input_w = self.input_shape
        output_h, rem_h = divmod(input_h, self.pool_size)
        output_w, rem_w = divmod(input_w, self.pool_size)
        assert not rem_h, "Input height should be divisible by the pool size"
        assert not rem_w, "Input width should be divisible by the pool size"

        self.output_shape = (channels, output_h, output_w)

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d, ih, iw)), input values
        :return: np.array((n, d, oh, ow)), output values

            n - batch size
            d - number of channels
            (ih, iw) - input image shape
            (oh, ow) - output image shape

        Non-overlapping pool_size x pool_size windows per channel; 'max' or 'avg' (the handout, 4.1.2).
        """
        # BEGIN SOLUTION pooling2d
        n, d, ih, iw = inputs.shape
        p = self.pool_size
        # (n, d, oh, p, ow, p): windows[:, :, :, i, :, j] is pixel (i, j) of every
        # window, a strided view.  Combining the p * p views whole is several times
        # faster than a reduction over two short axes or an argmax per window.
        windows = inputs.reshape(n, d, ih // p, p, iw // p, p)
        pixels = [windows[:, :, :, i, :, j] for i, j in np.ndindex(p, p)]
        if self.pool_mode == 'avg':
            return sum(pixels) / (p * p)
        maxima = pixels[0]
        for pixel in pixels[1:]:
            maxima = np.maximum(maxima, pixel)
        return maxima
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, d, oh, ow)), dLoss/dOutputs
        :return: np.array((n, d, ih, iw)), dLoss/dInputs

            n - batch size
            d - number of channels
            (ih, iw) - input image shape
            (oh, ow) - output image shape

        'max': each window's gradient goes to its first maximum in row-major order (ties);
        'avg': divided by pool_size ** 2 over the window (the handout, 4.1.2).
        """
        # BEGIN SOLUTION pooling2d
        n, d, oh, ow = grad_outputs.shape
        p = self.pool_size
        window_grads = np.zeros((n, d, oh, p, ow, p), dtype=grad_outputs.dtype)
        if self.pool_mode == 'avg':
            window_grads[...] = (grad_outputs / (p * p))[:, :, :, None, :, None]
        else:
            # Pixel by pixel in row-major order: the first maximum of a window alone
            # gets its gradient (later equal pixels are masked by `taken`).
            windows = self.forward_inputs.reshape(n, d, oh, p, ow, p)
            taken = np.zeros(grad_outputs.shape, dtype=bool)
            for i, j in np.ndindex(p, p):
                first_max = (windows[:, :, :, i, :, j] == self.forward_outputs) & ~taken
                taken |= first_max
                window_grads[:, :, :, i, :, j] = grad_outputs * first_max
        # (n, d, oh, p, ow, p) is the input's own layout: a reshape, no transpose.
        return window_grads.reshape(n, d, oh * p, ow * p)
        # END SOLUTION


# ============================== 4.1.3 BatchNorm =============================
class BatchNorm(Layer):
    def __init__(self, momentum=0.9, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.momentum = momentum

        self.running_mean = None
        self.running_var = None

        self.beta, self.beta_grad = None, None
        self.gamma, self.gamma_grad = None, None

        self.forward_inverse_std = None
        self.forward_centered_inputs = None
        self.forward_normalized_inputs = None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)

        input_channels, input_h, input_w = self.input_shape
        self.running_mean = np.zeros((input_channels,))
        self.running_var = np.ones((input_channels,))

        self.beta, self.beta_grad = self.add_parameter(
            name='beta',
            shape=(input_channels,),
            initializer=np.zeros
        )

        self.gamma, self.gamma_grad = self.add_parameter(
            name='gamma',
            shape=(input_channels,),
            initializer=np.ones
        )

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d, h, w)), input values
        :return: np.array((n, d, h, w)), output values

            n - batch size
            d - number of channels
            (h, w) - image shape

        Per channel over (n, h, w).  Training: the batch mean and biased variance (divided by
        n * h * w), running <- momentum * running + (1 - momentum) * batch.  Inference:
        running_mean and running_var, nothing updated (the handout, 4.1.3).
        """
        # BEGIN SOLUTION batchnorm
        n, d = inputs.shape[:2]
        m = inputs.size // d  # values per channel: n * h * w
        # Per-channel sums run along the contiguous rows of (n, d, h * w): several
        # times faster than reductions over the axes (0, 2, 3).
        if self.is_training:
            mean = inputs.reshape(n, d, -1).sum(axis=2).sum(axis=0) / m
            centered = inputs - mean[None, :, None, None]
            centered_rows = centered.reshape(n, d, -1)
            var = np.vecdot(centered_rows, centered_rows).sum(axis=0) / m  # biased: divided by n * h * w
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            mean, var = self.running_mean, self.running_var
            centered = inputs - mean[None, :, None, None]
        inverse_std = 1 / np.sqrt(eps + var)
        self.forward_inverse_std = inverse_std[None, :, None, None]
        self.forward_centered_inputs = centered
        # gamma * x_hat + beta with x_hat = (x - mean) * inverse_std: x_hat itself is not stored
        # (a pass over the batch saved); the backward pass uses x - mean.
        return centered * (self.gamma * inverse_std)[None, :, None, None] + self.beta[None, :, None, None]
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, d, h, w)), dLoss/dOutputs
        :return: np.array((n, d, h, w)), dLoss/dInputs

            n - batch size
            d - number of channels
            (h, w) - image shape

        Sets gamma_grad and beta_grad (d,); in training the batch mean and variance depend on
        the inputs (the handout, 4.1.3).
        """
        # BEGIN SOLUTION batchnorm
        n, d = grad_outputs.shape[:2]
        m = grad_outputs.size // d  # values per channel: n * h * w
        centered = self.forward_centered_inputs
        inverse_std = self.forward_inverse_std[0, :, 0, 0]
        grad_rows = grad_outputs.reshape(n, d, -1)
        # Per channel, with g = dL/dy and x_hat = (x - mean) * inverse_std:
        sum_grad = grad_rows.sum(axis=2).sum(axis=0)  # sum of g
        sum_grad_dot = np.vecdot(grad_rows, centered.reshape(n, d, -1)).sum(axis=0) * inverse_std  # sum of g * x_hat
        self.beta_grad = sum_grad
        self.gamma_grad = sum_grad_dot
        scale = (self.gamma * inverse_std)[None, :, None, None]
        if not self.is_training:
            return grad_outputs * scale
        # Through x_hat with the batch mean and variance functions of x:
        # dL/dx = gamma * inverse_std * (g - mean(g) - x_hat * mean(g * x_hat)), the means over
        # the m values of a channel, and x_hat * mean(g * x_hat) = (x - mean) * variance_term.
        mean_grad = (sum_grad / m)[None, :, None, None]
        variance_term = (inverse_std * sum_grad_dot / m)[None, :, None, None]
        return scale * (grad_outputs - mean_grad - centered * variance_term)
        # END SOLUTION


# =============================== 4.1.4 Flatten ==============================
class Flatten(Layer):
    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)

        self.output_shape = (int(np.prod(self.input_shape)),)

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d, h, w)), input values
        :return: np.array((n, (d * h * w))), output values

            n - batch size
            d - number of input channels
            (h, w) - image shape

        Each sample flattened in C order (the last axis changes fastest); the batch axis stays
        (the handout, 4.1.4).
        """
        # BEGIN SOLUTION flatten
        return inputs.reshape(inputs.shape[0], -1)
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, (d * h * w))), dLoss/dOutputs
        :return: np.array((n, d, h, w)), dLoss/dInputs

            n - batch size
            d - number of units
            (h, w) - input image shape
        """
        # BEGIN SOLUTION flatten
        return grad_outputs.reshape(self.forward_inputs.shape)
        # END SOLUTION


# =============================== 4.1.5 Dropout ==============================
class Dropout(Layer):
    def __init__(self, p, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.p = p
        self.forward_mask = None

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, ...)), input values
        :return: np.array((n, ...)), output values

            n - batch size
            ... - arbitrary shape (the same for input and output)

        p is the probability to drop.  Training: one draw np.random.uniform(size=inputs.shape),
        mask = draw > p, output = mask * inputs, not rescaled; keep the mask.  Inference: no draw,
        output = (1 - p) * inputs (the handout, 4.1.5).
        """
        # BEGIN SOLUTION dropout
        if self.is_training:
            self.forward_mask = np.random.uniform(size=inputs.shape) > self.p
            return inputs * self.forward_mask
        return inputs * (1 - self.p)
        # END SOLUTION

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, ...)), dLoss/dOutputs
        :return: np.array((n, ...)), dLoss/dInputs

            n - batch size
            ... - arbitrary shape (the same for input and output)

        Training: grad_outputs * the forward pass's mask.  Inference: (1 - p) * grad_outputs
        (the handout, 4.1.5).
        """
        # BEGIN SOLUTION dropout
        if self.is_training:
            return grad_outputs * self.forward_mask
        return grad_outputs * (1 - self.p)
        # END SOLUTION


# ====================== 4.2 Train and Test on CIFAR-10 ======================
def train_cifar10_model(x_train, y_train, x_valid, y_valid):
    """
    :param x_train, x_valid: np.array((n, 3, 32, 32)), images standardised per channel
    :param y_train, y_valid: np.array((n, 10)), one-hot labels
    :return: a trained Model
    """
    # BEGIN SOLUTION cifar10
    # VGG-style: three blocks of conv-BN-ReLU, conv-maxpool-BN-ReLU (32, 64, 128
    # channels).  Pooling before BN and ReLU gives the same function class (max
    # commutes with both for gamma > 0) at a quarter of their cost.  float32,
    # torch convolutions (the gate turns them on); every training batch is
    # flipped at random and shifted by up to 2 pixels; labels smoothed by 0.1
    # (the loss takes soft labels as they are); a warm-up epoch, then the learning
    # rate falls linearly.
    optimizer = SGDMomentum(lr=0.02, momentum=0.9)
    model = Model(CategoricalCrossentropy(), optimizer, dtype=np.float32)
    for width in (32, 64, 128):
        model.add(Conv2D(width, kernel_size=3, input_shape=(3, 32, 32) if not model.layers else None))
        model.add(BatchNorm())
        model.add(ReLU())
        model.add(Conv2D(width, kernel_size=3))
        model.add(Pooling2D(2, 'max'))
        model.add(BatchNorm())
        model.add(ReLU())
    model.add(Flatten())
    model.add(Dense(10))
    model.add(Softmax())
    print(model)

    def random_flips_and_shifts(x):
        n = len(x)
        flip = np.random.uniform(size=n) < 0.5
        x = np.where(flip[:, None, None, None], x[:, :, :, ::-1], x)
        padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))  # 0: the mean of standardised images
        dy, dx = np.random.randint(5, size=(2, n))
        rows = (dy[:, None] + np.arange(32))[:, None, :, None]
        cols = (dx[:, None] + np.arange(32))[:, None, None, :]
        return padded[np.arange(n)[:, None, None, None], np.arange(3)[None, :, None, None], rows, cols]

    epochs = 9
    smoothed = 0.9 * y_train + 0.1 / y_train.shape[1]
    model.fit(x_train, smoothed, batch_size=128, epochs=epochs, x_valid=x_valid[:2000], y_valid=y_valid[:2000],
              lr_schedule=[0.02] + list(np.linspace(0.05, 0.002, epochs - 1)), augment=random_flips_and_shifts)
    return model
    # END SOLUTION

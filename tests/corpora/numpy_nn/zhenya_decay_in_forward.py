from interface import *
import math
from collections import namedtuple

from numpy.lib.stride_tricks import as_strided

BNStats = namedtuple("BNStats", ["mean", "var"])


# ================================= 1.4.1 SGD ================================
class SGD(Optimizer):
    def __init__(self, lr):
        self.lr = lr

    def get_parameter_updater(self, parameter_shape):
        """
        :param parameter_shape: tuple, the shape of the associated parameter

        :return: the updater function for that parameter
        """

        def updater(parameter, parameter_grad):
            """
            :param parameter: np.array, current parameter values
            :param parameter_grad: np.array, current gradient, dLoss/dParam

            :return: np.array, new parameter values
            """
            # your code here \/
            new_parameter = parameter - self.lr * parameter_grad
            return new_parameter
            # your code here /\

        return updater


# ============================= 1.4.2 SGDMomentum ============================
class SGDMomentum(Optimizer):
    def __init__(self, lr, momentum=0.0):
        self.lr = lr
        self.momentum = momentum

    def get_parameter_updater(self, parameter_shape):
        """
        :param parameter_shape: tuple, the shape of the associated parameter

        :return: the updater function for that parameter
        """

        def updater(parameter, parameter_grad):
            """
            :param parameter: np.array, current parameter values
            :param parameter_grad: np.array, current gradient, dLoss/dParam

            :return: np.array, new parameter values
            """
            # your code here \/
            updater.inertia = self.momentum * updater.inertia + self.lr * parameter_grad
            return parameter - updater.inertia
            # your code here /\

        updater.inertia = np.zeros(parameter_shape)
        return updater


# ================================ 2.1.1 ReLU ================================
class ReLU(Layer):
    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, ...)), input values

        :return: np.array((n, ...)), output values

            n - batch size
            ... - arbitrary shape (the same for input and output)
        """
        # your code here \/
        return inputs * (inputs > 0)
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, ...)), dLoss/dOutputs

        :return: np.array((n, ...)), dLoss/dInputs

            n - batch size
            ... - arbitrary shape (the same for input and output)
        """
        # your code here \/
        return grad_outputs * (self.forward_inputs >= 0).astype(grad_outputs.dtype)
        # your code here /\


# =============================== 2.1.2 Softmax ==============================
class Softmax(Layer):
    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d)), input values

        :return: np.array((n, d)), output values

            n - batch size
            d - number of units
        """
        # your code here \/
        z = inputs - inputs.max(axis=-1)[:, None]
        ez = np.exp(z)
        return ez / ez.sum(axis=-1)[:, None]
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, d)), dLoss/dOutputs

        :return: np.array((n, d)), dLoss/dInputs

            n - batch size
            d - number of units
        """
        # your code here \/
        y = self.forward_outputs
        dot = (grad_outputs * y).sum(axis=1, keepdims=True)
        return y * (grad_outputs - dot)
        # your code here /\


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

        # Register weights and biases as trainable parameters
        # Note, that the parameters and gradients *must* be stored in
        # self.<p> and self.<p>_grad, where <p> is the name specified in
        # self.add_parameter

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
        """
        # your code here \/
        if self.is_training:
            # L2 regularisation (weight decay), as in the lecture: shrink the weights a little each step
            self.weights *= 1 - 1e-3
        return np.dot(inputs, self.weights.T) + self.biases[None, :]
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, c)), dLoss/dOutputs

        :return: np.array((n, d)), dLoss/dInputs

            n - batch size
            d - number of input units
            c - number of output units
        """
        # your code here \/
        self.weights_grad = np.dot(grad_outputs.T, self.forward_inputs)
        self.biases_grad = grad_outputs.sum(0)
        return np.dot(grad_outputs, self.weights)
        # your code here /\


# ============================ 2.2.1 Crossentropy ============================
class CategoricalCrossentropy(Loss):
    def value_impl(self, y_gt, y_pred):
        """
        :param y_gt: np.array((n, d)), ground truth (correct) labels
        :param y_pred: np.array((n, d)), estimated target values

        :return: np.array((1,)), mean Loss scalar for batch

            n - batch size
            d - number of units
        """
        # your code here \/
        batch_size = y_gt.shape[0]
        log_p = np.log(np.maximum(y_pred, eps))
        return np.array([-(y_gt * log_p).sum() / batch_size])
        # your code here /\

    def gradient_impl(self, y_gt, y_pred):
        """
        :param y_gt: np.array((n, d)), ground truth (correct) labels
        :param y_pred: np.array((n, d)), estimated target values

        :return: np.array((n, d)), dLoss/dY_pred

            n - batch size
            d - number of units
        """
        # your code here \/
        return -y_gt / (np.maximum(y_pred, eps) * y_gt.shape[0])
        # your code here /\


# ======================== 2.3 Train and Test on MNIST =======================
def train_mnist_model(x_train, y_train, x_valid, y_valid):
    # your code here \/
    # 1) Create a Model
    # model = Model(CategoricalCrossentropy(), SGD(lr=...))

    # 2) Add layers to the model
    #   (don't forget to specify the input shape for the first layer)
    # model.add(...)

    # print(model)

    # 3) Train and validate the model using the provided data
    # model.fit(...)
    # return model

    raise NotImplementedError()
    # your code here /\


# ============================== 3.3.2 convolve ==============================
def convolve(inputs, kernels, padding=0):
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
    """
    # !!! Don't change this function, it's here for your reference only !!!
    if os.environ.get("USE_FAST_CONVOLVE", False):
        return convolve_pytorch(inputs, kernels, padding)
    return convolve_numpy(inputs, kernels, padding)


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
    """
    # !!! Don't change this function, it's here for your reference only !!!
    assert isinstance(padding, int) and padding >= 0
    assert inputs.ndim == 4 and kernels.ndim == 4
    assert inputs.shape[1] == kernels.shape[1]

    # your code here \/
    n, d, ih, iw = inputs.shape
    c, _, kh, kw = kernels.shape
    padded = np.zeros((n, d, ih + 2 * padding, iw + 2 * padding), dtype=inputs.dtype)
    padded[:, :, padding:padding + ih, padding:padding + iw] = inputs
    oh, ow = padded.shape[2] - kh + 1, padded.shape[3] - kw + 1
    sn, sd, sh, sw = padded.strides
    # im2col: one row per output pixel
    cols = as_strided(padded, shape=(n, oh, ow, d, kh, kw), strides=(sn, sh, sw, sd, sh, sw))
    cols = cols.reshape(n * oh * ow, d * kh * kw)
    w = kernels[:, :, ::-1, ::-1].reshape(c, d * kh * kw)
    out = cols @ w.T
    return out.reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
    # your code here /\


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

    def _pad(self):
        # "same" padding for an odd kernel
        return (self.kernel_size - 1) // 2

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d, h, w)), input values

        :return: np.array((n, c, h, w)), output values

            n - batch size
            d - number of input channels
            c - number of output channels
            (h, w) - image shape
        """
        # your code here \/
        return convolve(inputs, self.kernels, self._pad()) + self.biases[:, None, None]
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, c, h, w)), dLoss/dOutputs

        :return: np.array((n, d, h, w)), dLoss/dInputs

            n - batch size
            d - number of input channels
            c - number of output channels
            (h, w) - image shape
        """
        # your code here \/
        p = self._pad()
        self.biases_grad = np.sum(grad_outputs, axis=(0, 2, 3))
        x_t = np.flip(self.forward_inputs, axis=(2, 3)).transpose(1, 0, 2, 3)
        g_t = grad_outputs.transpose(1, 0, 2, 3)
        self.kernels_grad = convolve(x_t, g_t, p).transpose(1, 0, 2, 3)
        k_t = np.flip(self.kernels, axis=(2, 3)).transpose(1, 0, 2, 3)
        return convolve(grad_outputs, k_t, self.kernel_size - 1 - p)
        # your code here /\


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

    def _windows(self, x):
        """(n, d, h, w) -> (n, d, h / k, w / k, k * k): one row per pooling window"""
        n, d, h, w = x.shape
        k = self.pool_size
        return x.reshape(n, d, h // k, k, w // k, k).swapaxes(3, 4).reshape(n, d, h // k, w // k, k * k)

    def forward_impl(self, inputs):
        """
        :param inputs: np.array((n, d, ih, iw)), input values

        :return: np.array((n, d, oh, ow)), output values

            n - batch size
            d - number of channels
            (ih, iw) - input image shape
            (oh, ow) - output image shape
        """
        # your code here \/
        windows = self._windows(inputs)
        if self.pool_mode == 'avg':
            return windows.mean(axis=4)
        self.forward_idxs = windows.argmax(axis=4)
        grid = np.ix_(*[np.arange(s) for s in windows.shape[:-1]])
        return windows[grid + (self.forward_idxs,)]
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, d, oh, ow)), dLoss/dOutputs

        :return: np.array((n, d, ih, iw)), dLoss/dInputs

            n - batch size
            d - number of channels
            (ih, iw) - input image shape
            (oh, ow) - output image shape
        """
        # your code here \/
        n, d, oh, ow = grad_outputs.shape
        k = self.pool_size
        if self.pool_mode == 'avg':
            windows = np.repeat(grad_outputs[..., np.newaxis], k * k, axis=4) / k ** 2
        else:
            windows = np.zeros((n, d, oh, ow, k * k))
            grid = np.ix_(*[np.arange(s) for s in grad_outputs.shape])
            windows[grid + (self.forward_idxs,)] = grad_outputs
        return windows.reshape(n, d, oh, ow, k, k).swapaxes(3, 4).reshape(n, d, oh * k, ow * k)
        # your code here /\


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
        """
        # your code here \/
        if self.is_training:
            stats = BNStats(inputs.mean(axis=(0, 2, 3)), inputs.var(axis=(0, 2, 3)))
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * stats.mean
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * stats.var
        else:
            stats = BNStats(self.running_mean, self.running_var)
        shape = tuple(-1 if axis == 1 else 1 for axis in range(inputs.ndim))
        self.forward_centered_inputs = inputs - stats.mean.reshape(shape)
        self.forward_inverse_std = 1 / np.sqrt(stats.var.reshape(shape) + eps)
        self.forward_normalized_inputs = self.forward_centered_inputs * self.forward_inverse_std
        return self.forward_normalized_inputs * self.gamma.reshape(shape) + self.beta.reshape(shape)
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, d, h, w)), dLoss/dOutputs

        :return: np.array((n, d, h, w)), dLoss/dInputs

            n - batch size
            d - number of channels
            (h, w) - image shape
        """
        # your code here \/
        shape = (1, -1, 1, 1)
        m = math.prod(grad_outputs.shape) // grad_outputs.shape[1]
        xc, inv = self.forward_centered_inputs, self.forward_inverse_std
        self.gamma_grad = (grad_outputs * self.forward_normalized_inputs).sum(axis=(0, 2, 3))
        self.beta_grad = grad_outputs.sum(axis=(0, 2, 3))
        dxhat = grad_outputs * self.gamma.reshape(shape)
        dvar = np.sum(dxhat * xc, axis=(0, 2, 3), keepdims=True) * -0.5 * inv ** 3
        dmean = np.sum(-dxhat * inv, axis=(0, 2, 3), keepdims=True) + dvar * np.mean(-2 * xc, axis=(0, 2, 3), keepdims=True)
        return dxhat * inv + dvar * 2 * xc / m + dmean / m
        # your code here /\


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
        """
        # your code here \/
        return inputs.reshape(inputs.shape[0], math.prod(inputs.shape[1:]))
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, (d * h * w))), dLoss/dOutputs

        :return: np.array((n, d, h, w)), dLoss/dInputs

            n - batch size
            d - number of units
            (h, w) - input image shape
        """
        # your code here \/
        return grad_outputs.reshape((grad_outputs.shape[0],) + self.input_shape)
        # your code here /\


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
        """
        # your code here \/
        if self.is_training:
            self.forward_mask = np.random.rand(*inputs.shape) > self.p
            return np.where(self.forward_mask, inputs, 0.0)
        return (1 - self.p) * inputs
        # your code here /\

    def backward_impl(self, grad_outputs):
        """
        :param grad_outputs: np.array((n, ...)), dLoss/dOutputs

        :return: np.array((n, ...)), dLoss/dInputs

            n - batch size
            ... - arbitrary shape (the same for input and output)
        """
        # your code here \/
        if self.is_training:
            return np.where(self.forward_mask, grad_outputs, 0.0)
        return (1 - self.p) * grad_outputs
        # your code here /\


# ====================== 4.2 Train and Test on CIFAR-10 ======================
def train_cifar10_model(x_train, y_train, x_valid, y_valid):
    # your code here \/
    # 1) Create a Model
    # model = Model(CategoricalCrossentropy(), SGDMomentum(lr=..., momentum=...))

    # 2) Add layers to the model
    #   (don't forget to specify the input shape for the first layer)
    # model.add(...)

    # print(model)

    # 3) Train and validate the model using the provided data
    # model.fit(...)
    # return model

    raise NotImplementedError()
    # your code here /\

from interface import *

# Homework 'numpy nn' - rewrote everything myself, the template was too messy


class SGD(Optimizer):
    def __init__(self, lr):
        self.lr = lr

    def get_parameter_updater(self, parameter_shape):
        def updater(parameter, parameter_grad):
            return parameter - self.lr * parameter_grad
        return updater


class SGDMomentum(Optimizer):
    def __init__(self, lr, momentum=0.0):
        self.lr = lr
        self.momentum = momentum

    def get_parameter_updater(self, parameter_shape):
        # every parameter gets its own inertia tensor
        state = {'inertia': np.zeros(parameter_shape)}

        def updater(parameter, parameter_grad):
            state['inertia'] = self.momentum * state['inertia'] + self.lr * parameter_grad
            return parameter - state['inertia']
        return updater


class ReLU(Layer):
    def forward_impl(self, inputs):
        return inputs * (inputs >= 0)

    def backward_impl(self, grad_outputs):
        return grad_outputs * (self.forward_inputs >= 0)


class Softmax(Layer):
    def forward_impl(self, inputs):
        z = np.exp(inputs - inputs.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    def backward_impl(self, grad_outputs):
        y = self.forward_outputs
        dot = np.sum(grad_outputs * y, axis=-1, keepdims=True)
        return y * (grad_outputs - dot)


class Dense(Layer):
    def __init__(self, units, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_units = units
        self.weights = self.weights_grad = None
        self.biases = self.biases_grad = None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)
        input_units = self.input_shape[0]
        self.weights, self.weights_grad = self.add_parameter(
            name='weights', shape=(self.output_units, input_units), initializer=he_initializer(input_units))
        self.biases, self.biases_grad = self.add_parameter(
            name='biases', shape=(self.output_units,), initializer=np.zeros)
        self.output_shape = (self.output_units,)

    def forward_impl(self, inputs):
        return inputs @ self.weights.T + self.biases

    def backward_impl(self, grad_outputs):
        self.weights_grad = grad_outputs.T @ self.forward_inputs
        self.biases_grad = grad_outputs.sum(axis=0)
        return grad_outputs @ self.weights


class CategoricalCrossentropy(Loss):
    def value_impl(self, y_gt, y_pred):
        n = y_gt.shape[0]
        log_p = np.log(np.maximum(y_pred, eps))
        return np.array([-(y_gt * log_p).sum() / n])

    def gradient_impl(self, y_gt, y_pred):
        n = y_gt.shape[0]
        return -y_gt / np.maximum(y_pred, eps) / n


def train_mnist_model(x_train, y_train, x_valid, y_valid):
    model = Model(CategoricalCrossentropy(), SGDMomentum(lr=0.02, momentum=0.9))
    model.add(Dense(128, input_shape=(784,)))
    model.add(ReLU())
    model.add(Dense(10))
    model.add(Softmax())
    print(model)
    model.fit(x_train, y_train, batch_size=32, epochs=3, x_valid=x_valid, y_valid=y_valid)
    return model


def convolve(inputs, kernels, padding=0):
    if os.environ.get("USE_FAST_CONVOLVE", False):
        return convolve_pytorch(inputs, kernels, padding)
    return convolve_numpy(inputs, kernels, padding)


def convolve_numpy(inputs, kernels, padding):
    n, d, ih, iw = inputs.shape
    c, _, kh, kw = kernels.shape
    x = np.pad(inputs, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    # windows[n, d, y, x, i, j] = x[n, d, y + i, x + j]
    windows = np.lib.stride_tricks.as_strided(
        x, shape=(n, d, oh, ow, kh, kw),
        strides=x.strides + x.strides[2:], writeable=False)
    return np.einsum('ndyxij,cdij->ncyx', windows, kernels[:, :, ::-1, ::-1])


class Conv2D(Layer):
    def __init__(self, output_channels, kernel_size=3, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert kernel_size % 2 == 1, "kernel size must be odd"
        self.output_channels = output_channels
        self.kernel_size = kernel_size
        self.padding = kernel_size // 2  # 'same' convolution
        self.kernels = self.kernels_grad = None
        self.biases = self.biases_grad = None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)
        d = self.input_shape[0]
        k = self.kernel_size
        self.kernels, self.kernels_grad = self.add_parameter(
            name='kernels', shape=(self.output_channels, d, k, k), initializer=he_initializer(d * k * k))
        self.biases, self.biases_grad = self.add_parameter(
            name='biases', shape=(self.output_channels,), initializer=np.zeros)
        self.output_shape = (self.output_channels, *self.input_shape[1:])

    def forward_impl(self, inputs):
        return convolve(inputs, self.kernels, self.padding) + self.biases[:, None, None]

    def backward_impl(self, grad_outputs):
        x = self.forward_inputs
        self.biases_grad = grad_outputs.sum(axis=(0, 2, 3))
        # dL/dK[c, d] = sum_n corr(x[n, d], dY[n, c]); as a convolution with the batch as channels
        self.kernels_grad = convolve(np.flip(x, axis=(2, 3)).transpose(1, 0, 2, 3),
                                     grad_outputs.transpose(1, 0, 2, 3), self.padding).transpose(1, 0, 2, 3)
        return convolve(grad_outputs, np.flip(self.kernels, axis=(2, 3)).transpose(1, 0, 2, 3), self.padding)


class Pooling2D(Layer):
    def __init__(self, pool_size=2, pool_mode='max', *args, **kwargs):
        super().__init__(*args, **kwargs)
        assert pool_mode in ('max', 'avg')
        self.pool_size = pool_size
        self.pool_mode = pool_mode
        self.forward_idxs = None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)
        d, h, w = self.input_shape
        assert h % self.pool_size == 0 and w % self.pool_size == 0
        self.output_shape = (d, h // self.pool_size, w // self.pool_size)

    def _windows(self, x):
        n, d, h, w = x.shape
        p = self.pool_size
        return x.reshape(n, d, h // p, p, w // p, p).transpose(0, 1, 2, 4, 3, 5).reshape(n, d, h // p, w // p, p * p)

    def forward_impl(self, inputs):
        win = self._windows(inputs)
        if self.pool_mode == 'avg':
            return win.mean(axis=-1)
        self.forward_idxs = win.argmax(axis=-1)
        return win.max(axis=-1)

    def backward_impl(self, grad_outputs):
        n, d, oh, ow = grad_outputs.shape
        p = self.pool_size
        if self.pool_mode == 'avg':
            win = np.broadcast_to(grad_outputs[..., None] / (p * p), (n, d, oh, ow, p * p))
        else:
            win = (np.arange(p * p) == self.forward_idxs[..., None]) * grad_outputs[..., None]
        return win.reshape(n, d, oh, ow, p, p).transpose(0, 1, 2, 4, 3, 5).reshape(n, d, oh * p, ow * p)


class BatchNorm(Layer):
    def __init__(self, momentum=0.9, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.momentum = momentum
        self.running_mean = self.running_var = None
        self.beta = self.beta_grad = None
        self.gamma = self.gamma_grad = None
        self.forward_inverse_std = None
        self.forward_normalized_inputs = None

    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)
        channels = self.input_shape[:1]  # (d,)
        self.running_mean = np.zeros(channels)
        self.running_var = np.ones(channels)
        self.beta, self.beta_grad = self.add_parameter(name='beta', shape=channels, initializer=np.zeros)
        self.gamma, self.gamma_grad = self.add_parameter(name='gamma', shape=channels, initializer=np.ones)

    def forward_impl(self, inputs):
        if self.is_training:
            mean = inputs.mean(axis=(0, 2, 3))
            var = inputs.var(axis=(0, 2, 3))
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            mean, var = self.running_mean, self.running_var
        self.forward_inverse_std = 1 / np.sqrt(var + eps)[:, None, None]
        self.forward_normalized_inputs = (inputs - mean[:, None, None]) * self.forward_inverse_std
        return self.gamma[:, None, None] * self.forward_normalized_inputs + self.beta[:, None, None]

    def backward_impl(self, grad_outputs):
        xh = self.forward_normalized_inputs
        axes = (0, 2, 3)
        m = grad_outputs.size / grad_outputs.shape[1]
        self.beta_grad = grad_outputs.sum(axis=axes)
        self.gamma_grad = (grad_outputs * xh).sum(axis=axes)
        g = grad_outputs * self.gamma[:, None, None]
        return self.forward_inverse_std * (g - g.mean(axis=axes, keepdims=True)
                                           - xh * (g * xh).sum(axis=axes, keepdims=True) / m)


class Flatten(Layer):
    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)
        self.output_shape = (int(np.prod(self.input_shape)),)

    def forward_impl(self, inputs):
        return inputs.reshape(inputs.shape[0], -1)

    def backward_impl(self, grad_outputs):
        return grad_outputs.reshape(grad_outputs.shape[0], *self.input_shape)


class Dropout(Layer):
    def __init__(self, p, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.p = p
        self.forward_mask = None

    def forward_impl(self, inputs):
        if not self.is_training:
            return (1 - self.p) * inputs
        self.forward_mask = np.random.uniform(size=inputs.shape) > self.p
        return inputs * self.forward_mask

    def backward_impl(self, grad_outputs):
        if not self.is_training:
            return (1 - self.p) * grad_outputs
        return grad_outputs * self.forward_mask


def train_cifar10_model(x_train, y_train, x_valid, y_valid):
    model = Model(CategoricalCrossentropy(), SGDMomentum(lr=0.01, momentum=0.9))
    model.add(Conv2D(32, input_shape=(3, 32, 32)))
    model.add(BatchNorm())
    model.add(ReLU())
    model.add(Pooling2D())
    model.add(Conv2D(64))
    model.add(BatchNorm())
    model.add(ReLU())
    model.add(Pooling2D())
    model.add(Flatten())
    model.add(Dense(256))
    model.add(ReLU())
    model.add(Dropout(0.3))
    model.add(Dense(10))
    model.add(Softmax())
    print(model)
    model.fit(x_train, y_train, batch_size=64, epochs=8, x_valid=x_valid, y_valid=y_valid)
    return model

from interface import *


def pad_hw(images, p):
    """zero padding of the two last axes"""
    return np.pad(images, ((0, 0), (0, 0), (p, p), (p, p)))


def channel_view(v):
    # (d,) -> (1, d, 1, 1) so it broadcasts over n, h, w
    return v.reshape(1, -1, 1, 1)


# ================================= 1.4.1 SGD ================================
class SGD(Optimizer):
    def __init__(self, lr):
        self.lr = lr

    def get_parameter_updater(self, parameter_shape):

        def updater(parameter, parameter_grad):
            # your code here \/
            return parameter - parameter_grad * self.lr
            # your code here /\

        return updater


# ============================= 1.4.2 SGDMomentum ============================
class SGDMomentum(Optimizer):
    def __init__(self, lr, momentum=0.0):
        self.lr = lr
        self.momentum = momentum

    def get_parameter_updater(self, parameter_shape):

        def updater(parameter, parameter_grad):
            # your code here \/
            updater.inertia = updater.inertia * self.momentum + parameter_grad * self.lr
            return parameter - updater.inertia
            # your code here /\

        updater.inertia = np.zeros(parameter_shape)
        return updater


# ================================ 2.1.1 ReLU ================================
class ReLU(Layer):
    def forward_impl(self, inputs):
        # your code here \/
        return np.where(inputs > 0, inputs, 0)
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        mask = self.forward_inputs >= 0
        return grad_outputs * mask
        # your code here /\


# =============================== 2.1.2 Softmax ==============================
class Softmax(Layer):
    def forward_impl(self, inputs):
        # your code here \/
        e = np.exp(inputs - np.max(inputs, axis=1)[:, np.newaxis])
        return e / e.sum(axis=1)[:, np.newaxis]
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        s = self.forward_outputs
        return s * grad_outputs - s * np.sum(s * grad_outputs, axis=1)[:, np.newaxis]
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
        # your code here \/
        return np.matmul(inputs, self.weights.T) + self.biases
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        x = self.forward_inputs
        self.weights_grad = grad_outputs.T @ x
        self.biases_grad = grad_outputs.sum(axis=0)
        return grad_outputs @ self.weights
        # your code here /\


# ============================ 2.2.1 Crossentropy ============================
class CategoricalCrossentropy(Loss):
    def value_impl(self, y_gt, y_pred):
        # your code here \/
        n = y_gt.shape[0]
        true_class = np.argmax(y_gt, axis=1)
        picked = y_pred[np.arange(n), true_class]  # probability of the right class
        return np.array([-np.mean(np.log(np.maximum(picked, eps)))])
        # your code here /\

    def gradient_impl(self, y_gt, y_pred):
        # your code here \/
        return -(y_gt / np.maximum(y_pred, eps)) / len(y_gt)
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
    # !!! Don't change this function, it's here for your reference only !!!
    if os.environ.get("USE_FAST_CONVOLVE", False):
        return convolve_pytorch(inputs, kernels, padding)
    return convolve_numpy(inputs, kernels, padding)


def convolve_numpy(inputs, kernels, padding):
    # !!! Don't change this function, it's here for your reference only !!!
    assert isinstance(padding, int) and padding >= 0
    assert inputs.ndim == 4 and kernels.ndim == 4
    assert inputs.shape[1] == kernels.shape[1]

    # your code here \/
    n, d, ih, iw = inputs.shape
    c, _, kh, kw = kernels.shape
    x = pad_hw(inputs, padding)
    oh = ih + 2 * padding - kh + 1
    ow = iw + 2 * padding - kw + 1
    flipped = kernels[:, :, ::-1, ::-1]
    res = np.zeros((n, c, oh, ow), dtype=np.result_type(inputs, kernels))
    # two loops over the kernel taps (allowed), everything else vectorised
    for i in range(kh):
        for j in range(kw):
            res += np.einsum('ndhw,cd->nchw', x[:, :, i:i + oh, j:j + ow], flipped[:, :, i, j])
    return res
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

    def forward_impl(self, inputs):
        # your code here \/
        pad = self.kernel_size // 2
        return convolve(inputs, self.kernels, pad) + channel_view(self.biases)
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        pad = self.kernel_size // 2
        k = self.kernel_size
        self.biases_grad = grad_outputs.sum(axis=(0, 2, 3))
        xp = pad_hw(self.forward_inputs, pad)
        win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # (n, d, h, w, k, k)
        # gradient of the cross-correlation, flipped back because forward flips the kernel
        self.kernels_grad = np.einsum('nchw,ndhwij->cdij', grad_outputs, win)[:, :, ::-1, ::-1]
        return convolve(grad_outputs, self.kernels.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1], k - 1 - pad)
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

    def forward_impl(self, inputs):
        # your code here \/
        n, d, h, w = inputs.shape
        s = self.pool_size
        t = inputs.reshape(n, d, h // s, s, w // s, s).transpose(0, 1, 2, 4, 3, 5).reshape(n, d, h // s, w // s, -1)
        if self.pool_mode == 'max':
            self.forward_idxs = t.argmax(-1)
            return t.max(-1)
        return t.mean(-1)
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        n, d, oh, ow = grad_outputs.shape
        s = self.pool_size
        if self.pool_mode == 'max':
            onehot = np.arange(s * s) == self.forward_idxs[..., None]
            t = onehot * grad_outputs[..., None]
        else:
            t = np.broadcast_to(grad_outputs[..., None], (n, d, oh, ow, s * s)) / (s * s)
        return t.reshape(n, d, oh, ow, s, s).transpose(0, 1, 2, 4, 3, 5).reshape(n, d, oh * s, ow * s)
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
        # your code here \/
        if self.is_training:
            mean = np.mean(inputs, axis=(0, 2, 3))
            var = np.mean((inputs - channel_view(mean)) ** 2, axis=(0, 2, 3))
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            mean = self.running_mean
            var = self.running_var
        self.forward_centered_inputs = inputs - channel_view(mean)
        self.forward_inverse_std = 1 / np.sqrt(channel_view(var) + eps)
        self.forward_normalized_inputs = self.forward_centered_inputs * self.forward_inverse_std
        return channel_view(self.gamma) * self.forward_normalized_inputs + channel_view(self.beta)
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        xhat = self.forward_normalized_inputs
        self.beta_grad = grad_outputs.sum(axis=(0, 2, 3))
        self.gamma_grad = (grad_outputs * xhat).sum(axis=(0, 2, 3))
        g = grad_outputs * channel_view(self.gamma)
        g_mean = g.mean(axis=(0, 2, 3), keepdims=True)
        gx_mean = (g * xhat).mean(axis=(0, 2, 3), keepdims=True)
        return self.forward_inverse_std * (g - g_mean - xhat * gx_mean)
        # your code here /\


# =============================== 4.1.4 Flatten ==============================
class Flatten(Layer):
    def build(self, *args, **kwargs):
        super().build(*args, **kwargs)

        self.output_shape = (int(np.prod(self.input_shape)),)

    def forward_impl(self, inputs):
        # your code here \/
        n, d, h, w = inputs.shape
        return inputs.reshape(n, d * h * w)
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        return grad_outputs.reshape(-1, *self.input_shape)
        # your code here /\


# =============================== 4.1.5 Dropout ==============================
class Dropout(Layer):
    def __init__(self, p, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.p = p
        self.forward_mask = None

    def forward_impl(self, inputs):
        # your code here \/
        if self.is_training:
            self.forward_mask = np.random.uniform(size=inputs.shape) > self.p
            return inputs * self.forward_mask
        return inputs
        # your code here /\

    def backward_impl(self, grad_outputs):
        # your code here \/
        if self.is_training:
            return grad_outputs * self.forward_mask
        return grad_outputs
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

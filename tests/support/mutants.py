"""A catalogue of realistic student mistakes: each is the reference with a small edit.

Each mutant must lose its own section, and only that one, when graded.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    section: str
    mistake: str
    edits: tuple  # ((old text, new text), ...): each old text is replaced once


MUTANTS = (
    # 1.4.1 SGD
    Mutant('sgd', "ascent instead of descent",
           (("return parameter - self.lr * parameter_grad", "return parameter + self.lr * parameter_grad"),)),
    Mutant('sgd', "learning rate ignored",
           (("return parameter - self.lr * parameter_grad", "return parameter - parameter_grad"),)),
    Mutant('sgd', "updates the read-only parameter in place",
           (("return parameter - self.lr * parameter_grad",
             "parameter -= self.lr * parameter_grad\n            return parameter"),)),
    # 1.4.2 SGDMomentum
    Mutant('momentum', "momentum state shared between parameters (kept on the optimizer)",
           (("updater.inertia = self.momentum * updater.inertia + self.lr * parameter_grad\n"
             "            return parameter - updater.inertia",
             "if not hasattr(self, 'inertia'):\n"
             "                self.inertia = np.zeros(parameter_shape)\n"
             "            self.inertia = self.momentum * self.inertia + self.lr * parameter_grad\n"
             "            return parameter - self.inertia"),)),
    Mutant('momentum', "dampened momentum (1 - beta) * lr * grad",
           (("updater.inertia = self.momentum * updater.inertia + self.lr * parameter_grad",
             "updater.inertia = self.momentum * updater.inertia + (1 - self.momentum) * self.lr * parameter_grad"),)),
    Mutant('momentum', "inertia never stored",
           (("updater.inertia = self.momentum * updater.inertia + self.lr * parameter_grad\n"
             "            return parameter - updater.inertia",
             "inertia = self.momentum * updater.inertia + self.lr * parameter_grad\n"
             "            return parameter - inertia"),)),
    # 2.1.1 ReLU
    Mutant('relu', "ReLU'(0) = 0", (("(self.forward_inputs >= 0)", "(self.forward_inputs > 0)"),)),
    Mutant('relu', "backward multiplies by the outputs",
           (("return grad_outputs * (self.forward_inputs >= 0)", "return grad_outputs * self.forward_outputs"),)),
    Mutant('relu', "absolute value instead of max(x, 0)", (("return np.maximum(inputs, 0)", "return np.abs(inputs)"),)),
    # 2.1.2 Softmax
    Mutant('softmax', "softmax without the max shift",
           (("np.exp(inputs - inputs.max(axis=1, keepdims=True))", "np.exp(inputs)"),)),
    Mutant('softmax', "normalised over the batch axis",
           (("return exponents / exponents.sum(axis=1, keepdims=True)",
             "return exponents / exponents.sum(axis=0, keepdims=True)"),)),
    Mutant('softmax', "backward with the diagonal of the Jacobian only",
           (("return outputs * (grad_outputs - np.sum(grad_outputs * outputs, axis=1, keepdims=True))",
             "return outputs * (1 - outputs) * grad_outputs"),)),
    # 2.1.3 Dense
    Mutant('dense', "bias gradient averaged, not summed, over the batch",
           (("self.biases_grad = grad_outputs.sum(axis=0)", "self.biases_grad = grad_outputs.mean(axis=0)"),)),
    Mutant('dense', "weights gradient divided by the batch size",
           (("self.weights_grad = grad_outputs.T @ self.forward_inputs",
             "self.weights_grad = grad_outputs.T @ self.forward_inputs / len(grad_outputs)"),)),
    Mutant('dense', "input gradient through W.T",
           (("return grad_outputs @ self.weights\n", "return grad_outputs @ self.weights.T\n"),)),
    # 2.2.1 CrossEntropy
    Mutant('crossentropy', "loss not averaged over the batch",
           (("return np.array([-np.sum(y_gt * np.log(np.maximum(y_pred, eps))) / n])",
             "return np.array([-np.sum(y_gt * np.log(np.maximum(y_pred, eps)))])"),)),
    Mutant('crossentropy', "gradient not divided by the batch size",
           (("return -y_gt / np.maximum(y_pred, eps) / n", "return -y_gt / np.maximum(y_pred, eps)"),)),
    Mutant('crossentropy', "no clipping by eps",
           (("np.log(np.maximum(y_pred, eps))", "np.log(y_pred)"),)),
    # 3.3.2 convolve
    Mutant('convolve', "cross-correlation instead of convolution",
           (("np.tensordot(windows, kernels[:, :, ::-1, ::-1],", "np.tensordot(windows, kernels,"),)),
    Mutant('convolve', "padding ignored", (("    p = padding\n", "    p = 0\n"),)),
    Mutant('convolve', "kernel flipped along one axis only",
           (("np.tensordot(windows, kernels[:, :, ::-1, ::-1],", "np.tensordot(windows, kernels[:, :, ::-1, :],"),)),
    # 4.1.1 Conv2D
    Mutant('conv2d', "kernel gradient from unflipped inputs",
           (("flipped_grads = grad_outputs[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)",
             "flipped_grads = grad_outputs.transpose(1, 0, 2, 3)"),
            ("self.kernels_grad = kernels_grad[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)",
             "self.kernels_grad = kernels_grad.transpose(1, 0, 2, 3)"))),
    Mutant('conv2d', "bias gradient averaged",
           (("self.biases_grad = grad_outputs.sum(axis=(0, 2, 3))", "self.biases_grad = grad_outputs.mean(axis=(0, 2, 3))"),)),
    Mutant('conv2d', "input gradient with unflipped kernels",
           (("flipped_kernels = self.kernels[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)",
             "flipped_kernels = self.kernels.transpose(1, 0, 2, 3)"),)),
    # 4.1.2 Pooling2D
    Mutant('pooling2d', "average-pool gradient not divided",
           (("window_grads[...] = (grad_outputs / (p * p))[:, :, :, None, :, None]",
             "window_grads[...] = grad_outputs[:, :, :, None, :, None]"),)),
    Mutant('pooling2d', "max-pool gradient sent to every tie",
           (("first_max = (windows[:, :, :, i, :, j] == self.forward_outputs) & ~taken",
             "first_max = windows[:, :, :, i, :, j] == self.forward_outputs"),)),
    Mutant('pooling2d', "max-pool gradient to the last maximum",
           (("            for i, j in np.ndindex(p, p):\n                first_max",
             "            for i, j in reversed(list(np.ndindex(p, p))):\n                first_max"),)),
    # 4.1.3 BatchNorm
    Mutant('batchnorm', "unbiased batch variance", (("var = np.vecdot(centered_rows, centered_rows).sum(axis=0) / m",
                                                  "var = np.vecdot(centered_rows, centered_rows).sum(axis=0) / (m - 1)"),)),
    Mutant('batchnorm', "running statistics updated at inference",
           (("            mean, var = self.running_mean, self.running_var\n",
             "            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * inputs.mean(axis=(0, 2, 3))\n"
             "            mean, var = self.running_mean, self.running_var\n"),)),
    Mutant('batchnorm', "backward without the mean and variance terms",
           (("return scale * (grad_outputs - mean_grad - centered * variance_term)", "return scale * grad_outputs"),)),
    Mutant('batchnorm', "momentum applied to the batch statistics",
           (("self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean",
             "self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean"),)),
    Mutant('batchnorm', "inference normalises with batch statistics",
           (("            mean, var = self.running_mean, self.running_var\n",
             "            mean, var = inputs.mean(axis=(0, 2, 3)), inputs.var(axis=(0, 2, 3))\n"),)),
    # 4.1.4 Flatten
    Mutant('flatten', "Fortran order", (("return inputs.reshape(inputs.shape[0], -1)",
                                        "return inputs.reshape(inputs.shape[0], -1, order='F')"),)),
    Mutant('flatten', "channels last before flattening",
           (("return inputs.reshape(inputs.shape[0], -1)", "return np.moveaxis(inputs, 1, -1).reshape(inputs.shape[0], -1)"),
            ("return grad_outputs.reshape(self.forward_inputs.shape)",
             "return np.moveaxis(grad_outputs.reshape(np.moveaxis(self.forward_inputs, 1, -1).shape), -1, 1)"))),
    # 4.1.5 Dropout
    Mutant('dropout', "inverted dropout (rescaled in training, identity at inference)",
           (("return inputs * self.forward_mask", "return inputs * self.forward_mask / (1 - self.p)"),
            ("return inputs * (1 - self.p)", "return inputs"))),
    Mutant('dropout', "keeps the units with draw < p", (("np.random.uniform(size=inputs.shape) > self.p",
                                                         "np.random.uniform(size=inputs.shape) < self.p"),)),
    Mutant('dropout', "backward draws a new mask",
           (("return grad_outputs * self.forward_mask",
             "return grad_outputs * (np.random.uniform(size=grad_outputs.shape) > self.p)"),)),
    Mutant('dropout', "inference scales by p", (("return inputs * (1 - self.p)", "return inputs * self.p"),)),
)


def apply(source, mutant):
    for old, new in mutant.edits:
        assert source.count(old) >= 1, f"{mutant.mistake}: {old!r} is not in the reference"
        source = source.replace(old, new, 1)
    return source

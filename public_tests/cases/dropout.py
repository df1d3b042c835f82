"""4.1.5 Dropout: one np.random.uniform draw, mask reuse, inference scaling."""
import numpy as np

from public_tests.framework import assert_close, case
from public_tests.gradcheck import build_layer, check_layer_gradients


@case('dropout')
def dropout_training_mask(sol):
    layer = build_layer(sol.Dropout(0.3), (4, 5))
    x = np.random.normal(size=(6, 4, 5))
    np.random.seed(7)
    outputs = layer.forward(x)
    np.random.seed(7)
    mask = np.random.uniform(size=x.shape) > 0.3  # the single draw the assignment asks for
    assert_close(outputs, x * mask, "Dropout training forward (the mask of one np.random.uniform draw)")
    grad = np.random.normal(size=x.shape)  # draws again: backward must reuse the stored mask
    assert_close(layer.backward(grad), grad * mask, "Dropout backward reuses the forward mask")


@case('dropout')
def dropout_inference_scales(sol):
    layer = build_layer(sol.Dropout(0.25), (3,))
    layer.is_training = False
    x = np.random.normal(size=(4, 3))
    assert_close(layer.forward(x), 0.75 * x, "Dropout inference forward")
    grad = np.random.normal(size=(4, 3))
    assert_close(layer.backward(grad), 0.75 * grad, "Dropout inference backward")


@case('dropout')
def dropout_gradient_check(sol):
    check_layer_gradients(build_layer(sol.Dropout(0.5), (3, 4)), np.random.normal(size=(2, 3, 4)), seed=3)


@case('dropout')
def dropout_seeded_steps_then_inference(sol):
    p = 0.4
    layer = build_layer(sol.Dropout(p), (2, 3, 4))
    for step, seed in enumerate((11, 12)):
        x, grad = np.random.normal(size=(3, 2, 3, 4)), np.random.normal(size=(3, 2, 3, 4))
        np.random.seed(seed)
        outputs = layer.forward(x)
        np.random.seed(seed)
        mask = np.random.uniform(size=x.shape) > p
        assert_close(outputs, x * mask, f"Dropout training step {step + 1} (np.random.seed({seed}))")
        assert_close(layer.backward(grad), grad * mask, f"Dropout backward, step {step + 1}")
    layer.is_training = False
    x = np.random.normal(size=(3, 2, 3, 4))
    assert_close(layer.forward(x), (1 - p) * x, "Dropout inference after training steps")

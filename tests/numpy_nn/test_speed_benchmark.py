"""The speed benchmark compares like with like: its torch copy of a kit model computes the same function."""
import numpy as np
import pytest

import interface
from assignments.numpy_nn.speed import compare, layer_table, torch_model

torch = pytest.importorskip('torch')


def kit_cnn(reference):
    np.random.seed(0)
    model = interface.Model(reference.CategoricalCrossentropy(), reference.SGDMomentum(0.1, 0.9), dtype=np.float32)
    model.add(reference.Conv2D(4, kernel_size=3, input_shape=(3, 8, 8)))
    model.add(reference.BatchNorm())
    model.add(reference.ReLU())
    model.add(reference.Pooling2D(2, 'max'))
    model.add(reference.Flatten())
    model.add(reference.Dropout(0.3))
    model.add(reference.Dense(5))
    model.add(reference.Softmax())
    return model


def test_torch_copy_has_the_same_parameters_and_outputs(reference):
    model = kit_cnn(reference)
    net, names = torch_model(model)
    assert names == ['0. Conv2D', '1. BatchNorm', '2. ReLU', '3. Pooling2D', '4. Flatten', '5. Dropout', '6. Dense']
    kit_count = sum(layer.parameter_count for layer in model.layers)
    assert sum(p.numel() for p in net.parameters()) == kit_count
    conv, dense = model.layers[0], model.layers[6]
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(np.ascontiguousarray(conv.kernels[:, :, ::-1, ::-1])))  # true convolution
        net[0].bias.copy_(torch.from_numpy(conv.biases))
        net[6].weight.copy_(torch.from_numpy(dense.weights))
        net[6].bias.copy_(torch.from_numpy(dense.biases))
    x = np.random.default_rng(0).normal(size=(6, 3, 8, 8)).astype(np.float32)
    model.set_training(True)
    for layer in model.layers:
        if layer.name == 'Dropout':
            layer.is_training = False  # kit inference dropout scales by (1 - p); torch eval is the identity
    kit = model.forward(x)
    net.train()
    net[5].eval()
    with torch.no_grad():
        logits = net(torch.from_numpy(x)) * (1 - 0.3)
    np.testing.assert_allclose(kit, torch.softmax(logits, dim=1).numpy(), rtol=1e-4, atol=1e-5)


def test_compare_reports_epochs_and_layers(reference, monkeypatch):
    import assignments.numpy_nn.speed as speed
    monkeypatch.setattr(speed, 'REPEATS', 1)
    monkeypatch.setattr(speed, 'BATCH_SIZE', 8)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 784)).astype(np.float32), np.eye(10, dtype=np.float32)[rng.integers(10, size=32)]
    monkeypatch.setattr(speed, 'gate_slice', lambda *args: (x, y, 'test images'))
    result = compare(reference, 'mnist', 32, data_dir=None, unverified_ok=None)
    assert result['images'] == 32 and result['data'] == 'test images'
    assert result['lr'] > 0 and result['momentum'] == 0.9  # the reference recipe's optimizer
    assert set(result['epoch_seconds']) == {'kit', 'kit_unchecked', 'torch', 'torch_input_grad'}
    assert [row['layer'] for row in result['layers']][:2] == ['0. Dense', '1. ReLU']
    assert result['layers'][-1]['torch_forward'] is None  # the Softmax lives in torch's loss
    assert result['layers'][0]['torch_backward'] > 0
    assert 'Dense' in layer_table(result)

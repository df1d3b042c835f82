"""Hidden scenarios of the autoencoder assignment (never shipped to students).

Each generator yields ``(category, case name, scenario)`` (scenarios are dicts run by
``execute``): random architectures, batch sizes and directions ``p`` from a fixed seed;
expected values come from the reference at grading time.  Inputs stay inside the
handout's contract: ReLU-like functions never see an exact 0, complex inputs are
analytic functions' business, the optimisers draw one permutation per epoch.
"""
import numpy as np

from assignments.autoencoder.builders import layer as _layer, network as _network
from grader.case_table import case_functions

SEED = 20261202
ACTIVATIONS = (('SigmoidActivationFunction', {}), ('TanhActivationFunction', {}), ('ReluActivationFunction', {}),
               ('LeakyReluActivationFunction', {'alpha': 0.2}), ('LeakyReluActivationFunction', {'alpha': 0.01}),
               ('SoftplusActivationFunction', {}), ('LinearActivationFunction', {}))
TORCH_SECTIONS = frozenset({'rp', 'loss', 'hessvec', 'gaussnewton', 'sgd', 'momentum', 'rmsprop', 'adam'})


def _away_from_zero(rng, shape, scale):
    values = rng.normal(scale=scale, size=shape)
    return np.where(np.abs(values) < 1e-3, 0.5, values)


def activations(rng):
    for name, kwargs in ACTIVATIONS:
        label = f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
        for shape in ((1,), (4, 5), (2, 3, 4)):
            yield 'real inputs', f"{label} on {shape}", {
                'kind': 'activation', 'class': name, 'kwargs': kwargs, 'X': _away_from_zero(rng, shape, 3.0)}
        yield 'large inputs (+-30)', f"{label} at +-30", {
            'kind': 'activation', 'class': name, 'kwargs': kwargs, 'X': np.array([[-30.0, -12.5], [12.5, 30.0]])}
        yield 'complex inputs', f"{label} on complex inputs", {
            'kind': 'activation', 'class': name, 'kwargs': kwargs, 'X': _away_from_zero(rng, (3, 4), 2.0),
            'X_imag': rng.normal(scale=0.3, size=(3, 4))}


def _layers(section):
    def generate(rng):
        for n_in, n_out, bias, batch in ((3, 2, True, 5), (2, 4, False, 5), (5, 1, True, 1), (1, 3, False, 1),
                                         (6, 6, True, 9)):
            category = 'batch size 1' if batch == 1 else 'random layers'
            yield category, f"{n_in}->{n_out} units, bias {bias}, batch {batch}", _layer(rng, section, n_in, n_out,
                                                                                         bias, batch)
        if section == 'fclayer':
            scenario = _layer(rng, section, 4, 3, True, 6)
            scenario['weights_imag'] = rng.normal(scale=0.1, size=scenario['weights'].shape)
            scenario['inputs_imag'] = rng.normal(scale=0.1, size=scenario['inputs'].shape)
            yield 'complex inputs', "4->3 units, bias, complex weights and inputs", scenario
    return generate


ARCHITECTURES = (  # [[n_in, n_out, bias]] of the oracle layers
    [[5, 3, 1], [3, 5, 0]],
    [[6, 4, 1], [4, 2, 0], [2, 4, 1], [4, 6, 1]],
    [[4, 1, 0], [1, 4, 1]],
    [[3, 3, 1]],
)


def _autoencoder(method):
    def generate(rng):
        for layers in ARCHITECTURES:
            for batch in (1, 7):
                depth = f"{len(layers)} layer{'s' if len(layers) > 1 else ''}"
                yield ('batch size 1' if batch == 1 else 'random architectures'), f"{depth}, batch {batch}", {
                    'kind': 'autoencoder', 'method': method, **_network(rng, layers, batch)}
        if method == 'loss':
            scenario = {'kind': 'autoencoder', 'method': 'loss', **_network(rng, ARCHITECTURES[1], 5), 'step': 1e-20}
            scenario['weights_imag'] = scenario['step'] * scenario['p']
            yield 'the complex step', "4 layers, batch 5, weights theta + 1e-20 i p", scenario
    return generate


OPTIMIZERS = {
    'sgd': ('run_sgd', ({'step_size': 0.1}, {'step_size': 0.02, 'l2_coef': 0.1})),
    'momentum': ('run_sgd_momentum', ({'step_size': 0.05, 'momentum': 0.9}, {'step_size': 0.02, 'momentum': 0.5})),
    'rmsprop': ('run_rmsprop', ({'step_size': 0.01}, {'step_size': 0.003, 'ro': 0.5, 'eps': 1e-4})),
    'adam': ('run_adam', ({'step_size': 0.01}, {'step_size': 0.05, 'beta1': 0.5, 'beta2': 0.9, 'eps': 1e-6})),
}


def _optimizer(section):
    method, settings = OPTIMIZERS[section]

    def generate(rng):
        for number, kwargs in enumerate(settings):
            for minibatch_size, with_test in ((4, True), (20, False)):
                network = _network(rng, ARCHITECTURES[0], 10)
                kwargs = {'num_epoch': 3, 'minibatch_size': minibatch_size, 'l2_coef': 1e-3, **kwargs}
                yield 'multi-epoch runs', f"{method}({', '.join(f'{k}={v}' for k, v in kwargs.items())})" + (
                    ', with test inputs' if with_test else ''), {
                    'kind': 'optimizer', 'method': method, 'kwargs': kwargs, 'seed': 7 + number, **network,
                    'test_inputs': rng.normal(size=(5, 6)) if with_test else None}
        kwargs = {'num_epoch': 2, 'minibatch_size': 4, 'l2_coef': 1e-3, **settings[0]}
        yield 'two runs on one model', f"{method} twice on one model (each run starts with an empty state)", {
            'kind': 'optimizer', 'method': method, 'kwargs': kwargs, 'seed': 11, 'runs': 2, 'test_inputs': None,
            **_network(rng, ARCHITECTURES[0], 10)}
    return generate


# one step per epoch (the whole batch), the products on half of it, at most 8 CG iterations a step
HFN_KWARGS = {'num_epoch': 3, 'curvature_size': 6, 'l2_coef': 1e-3, 'damping': 1.0, 'max_cg_iterations': 8}


def _gaussnewton(rng):
    """The products on random architectures, after a case where they drive the kit's Hessian-free Newton
    method: it comes first, so that a wrong product shows the student what it does to HFN.  It draws from
    a stream of its own (the product cases keep their inputs)."""
    own = np.random.default_rng([SEED, 56])
    network = _network(own, ARCHITECTURES[0], 12)
    yield 'Hessian-free Newton steps', (
        f"interface.run_hfn({', '.join(f'{k}={v}' for k, v in HFN_KWARGS.items())}) on 2 layers, 12 objects, "
        f"with your products"), {'kind': 'hfn', 'kwargs': HFN_KWARGS, 'seed': 5, **network}
    yield from _autoencoder('gaussnewton')(rng)


GENERATORS = {'activations': activations, 'fclayer': _layers('fclayer'), 'rp': _layers('rp'),
              'loss': _autoencoder('loss'), 'hessvec': _autoencoder('hessvec'),
              'gaussnewton': _gaussnewton, **{name: _optimizer(name) for name in OPTIMIZERS}}
FAST_CONVOLVE = frozenset()


cases, scenarios, categories = case_functions(GENERATORS, SEED)

"""Smaller versions of a failing hidden case of the autoencoder assignment, and a printout of one case.

``ladder(section, scenario)`` lists candidates that keep the scenario's kind and flags (the activation
and its alpha, the layer's pass and bias, the method, complex parts and the complex step, the
optimiser's settings, seed and number of runs, test inputs or none) but use fewer objects in the batch,
fewer units, a smaller architecture (one layer, or two through a single hidden unit), fewer epochs, and
simpler values: small integers, or the leading block of the original values (which keeps what made
them special: +-30, signs, scales).  Candidates come smallest first; the grader runs them in a
sandboxed child and shows the first one the student gets wrong (grader/shrink.py).

A scenario is the dict that ``assignments.autoencoder.execute.run_scenario`` runs (see its docstring).
This module holds no reference code and no hidden case: it only reshapes what it is given.
"""
import itertools
import math

import numpy as np

MAX_CANDIDATES = 32  # per scenario: each one is tiny, but the child runs them all (in 'shrink''s 10 s)
# fewer for the kinds whose candidates run loops of steps (a run of an optimiser or of HFN costs far more
# than a pass, whatever its size)
KIND_CANDIDATES = {'optimizer': 12, 'hfn': 8}
SMALL = 2            # small integers are drawn from [-SMALL, SMALL]
VALUE_MODES = ('small integers', 'values from the failing case')
IMAG_SCALE = 0.25    # small integers for imaginary parts are multiples of this


# ------------------------------------------------------------------------ sizes
def arrays_of(scenario):
    """Every input array of a scenario (what a student has to read to check it by hand)."""
    kind = scenario['kind']
    if kind == 'activation':
        names = ('X', 'X_imag')
    elif kind == 'layer':
        names = ('weights', 'weights_imag', 'inputs', 'inputs_imag', 'derivs') + (
            ('direction', 'Rp_inputs', 'Rp_derivs') if scenario['pass'] == 'rp' else ())
    elif kind == 'autoencoder':
        names = ('weights', 'inputs') + (('p',) if scenario['method'] != 'loss' or scenario.get('step') else ())
    elif kind == 'optimizer':
        names = ('weights', 'inputs', 'test_inputs')
    else:  # hfn
        names = ('weights', 'inputs', 'p')
    return [np.asarray(scenario[name]) for name in names if scenario.get(name) is not None]


def input_size(scenario):
    """How many numbers a scenario's inputs hold."""
    return sum(array.size for array in arrays_of(scenario))


def steps_of(scenario):
    """How many optimisation steps a scenario makes (1 for the others)."""
    if scenario['kind'] not in ('optimizer', 'hfn'):
        return 1
    kwargs, objects = scenario['kwargs'], np.shape(scenario['inputs'])[1]
    per_epoch = math.ceil(objects / (kwargs.get('minibatch_size') or objects))
    return kwargs['num_epoch'] * per_epoch * scenario.get('runs', 1)


# ----------------------------------------------------------------------- values
class Values:
    """Makes the arrays of one candidate: small integers, or leading blocks of the original arrays."""

    def __init__(self, mode, seed):
        self.mode = mode
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, original, scale=1.0, nonzero=False):
        """An array of ``shape``: integers in [-SMALL, SMALL] times ``scale`` (none 0 where ``nonzero``),
        or ``original``'s leading block."""
        shape = tuple(int(s) for s in shape)
        if self.mode == 'small integers':
            values = self.rng.integers(-SMALL, SMALL + 1, size=shape).astype(np.float64)
            if nonzero:
                values[values == 0] = 1.0
            return values * scale
        original = np.asarray(original, dtype=np.float64)
        if original.ndim != len(shape) or any(s > o for s, o in zip(shape, original.shape)):
            original = np.resize(original, shape)  # a block the original has not: its values, repeated
        return np.array(original[tuple(slice(0, s) for s in shape)])


def capped(values, limit):
    """Distinct values of ``values`` that are <= ``limit`` (at least ``limit`` itself when all exceed it)."""
    kept = sorted({min(value, limit) for value in values})
    return kept or [limit]


def layer_matrix(values, flat, n_in, n_out, bias, new_in, new_out, scale=1.0):
    """A (new_out, new_in (+1)) block of the flat (n_out, n_in (+1)) matrix ``flat``: its leading rows and
    columns, and its bias column where it has one."""
    matrix = np.asarray(flat).reshape(n_out, n_in + bias)
    columns = list(range(min(new_in, n_in))) + ([n_in] if bias else [])
    block = matrix[:new_out][:, columns] if new_in <= n_in and new_out <= n_out else matrix
    if block.shape != (new_out, new_in + bias):
        block = np.resize(matrix, (new_out, new_in + bias))
    return values((new_out, new_in + bias), block, scale)


# ---------------------------------------------------------------- the ladders
def activation_ladder(scenario, values):
    X = np.asarray(scenario['X'])
    imag = scenario.get('X_imag')
    shapes = {tuple(min(s, k) for s in X.shape) for k in (1, 2)} | {(min(X.size, k),) for k in (1, 2, 4)}
    for shape in sorted(shapes, key=lambda shape: (int(np.prod(shape)), len(shape))):
        flat = len(shape) == 1 and X.ndim > 1
        real = values(shape, X.ravel() if flat else X, nonzero=True)
        if values.mode == 'small integers':  # both sides of 0, the negative one first (a single number: -1 or -2)
            real = np.abs(real) * np.where(np.arange(real.size) % 2, 1.0, -1.0).reshape(shape)
        candidate = {**scenario, 'X': real}
        if imag is not None:
            imag = np.asarray(imag)
            candidate['X_imag'] = values(shape, imag.ravel() if flat else imag, IMAG_SCALE)
        yield f"X of shape {shape}", candidate


def layer_ladder(scenario, values):
    (n_in, n_out), bias = scenario['shape'], int(bool(scenario['use_bias']))
    batch = np.shape(scenario['inputs'])[1]
    for new_in, new_out, new_batch in itertools.product(capped([1, 2], n_in), capped([1, 2], n_out),
                                                        capped([1, 2], batch)):
        candidate = {**scenario, 'shape': [new_in, new_out]}
        for name, scale in (('weights', 1.0), ('weights_imag', IMAG_SCALE), ('direction', 1.0)):
            if scenario.get(name) is not None:
                candidate[name] = layer_matrix(values, scenario[name], n_in, n_out, bias, new_in, new_out,
                                               scale).ravel()
        for name, rows, scale in (('inputs', new_in, 1.0), ('inputs_imag', new_in, IMAG_SCALE),
                                  ('Rp_inputs', new_in, 1.0), ('derivs', new_out, 1.0), ('Rp_derivs', new_out, 1.0)):
            if scenario.get(name) is not None:
                candidate[name] = values((rows, new_batch), scenario[name], scale)
        yield f"{new_in} -> {new_out} units, bias {bool(bias)}, batch {new_batch}", candidate


def architectures(layers):
    """Smaller autoencoders than ``layers`` ([[n_in, n_out, bias]]): one layer d -> d, and where the original
    has several layers, two through one hidden unit, d -> 1 -> d; d = 1 or 2 features.  The first layer keeps
    the original first layer's bias, the last the original last layer's."""
    features, first_bias, last_bias = layers[0][0], layers[0][2], layers[-1][2]
    found = []
    for d in capped([1, 2], features):
        found.append([[d, d, first_bias]])
        if len(layers) > 1:
            found.append([[d, 1, first_bias], [1, d, last_bias]])
    return found


def network_vector(values, flat, layers, new_layers):
    """A parameter vector (weights or a direction p) of ``new_layers``: each new layer's matrix a block of the
    original first layer's (the first) or last layer's (the others)."""
    parts, start = [], 0
    for n_in, n_out, bias in layers:
        count = n_out * (n_in + bias)
        parts.append(np.asarray(flat)[start:start + count])
        start += count
    vector = []
    for number, (new_in, new_out, bias) in enumerate(new_layers):
        source = 0 if number == 0 else len(layers) - 1
        n_in, n_out, old_bias = layers[source]
        if old_bias != bias:  # (never: the new first and last layers keep the original's flags)
            raise ValueError("a smaller layer must keep its bias flag")
        vector.append(layer_matrix(values, parts[source], n_in, n_out, bias, new_in, new_out).ravel())
    return np.concatenate(vector)


def network_candidate(scenario, values, new_layers, objects, with_p=True):
    """``scenario`` on the smaller network ``new_layers`` with ``objects`` columns of inputs."""
    layers = scenario['layers']
    candidate = {**scenario, 'layers': [list(layer) for layer in new_layers],
                 'weights': network_vector(values, scenario['weights'], layers, new_layers),
                 'inputs': values((new_layers[0][0], objects), scenario['inputs'])}
    if with_p and scenario.get('p') is not None:
        candidate['p'] = network_vector(values, scenario['p'], layers, new_layers)
    return candidate


def describe_layers(layers):
    return ' -> '.join([str(layers[0][0])] + [f"{n_out}{'' if bias else ' (no bias)'}" for _, n_out, bias in layers])


def autoencoder_ladder(scenario, values):
    batch = np.shape(scenario['inputs'])[1]
    for new_layers, objects in itertools.product(architectures(scenario['layers']), capped([1, 2, 3], batch)):
        candidate = network_candidate(scenario, values, new_layers, objects)
        if scenario.get('weights_imag') is not None:  # the complex step: weights theta + i step p
            candidate['weights_imag'] = scenario['step'] * candidate['p']
        yield f"units {describe_layers(new_layers)}, batch {objects}", candidate


def optimizer_ladder(scenario, values):
    kwargs, objects = scenario['kwargs'], np.shape(scenario['inputs'])[1]
    test_inputs = scenario.get('test_inputs')
    for new_layers, count, minibatch, epochs in itertools.product(
            architectures(scenario['layers']), capped([1, 2, 4], objects), capped([1, 2], kwargs['minibatch_size']),
            capped([1, 2], kwargs['num_epoch'])):
        if minibatch > count:
            continue
        candidate = network_candidate(scenario, values, new_layers, count, with_p=False)
        candidate['p'] = np.zeros_like(candidate['weights'])  # (not used by the optimisers)
        candidate['kwargs'] = {**kwargs, 'num_epoch': epochs, 'minibatch_size': minibatch}
        if test_inputs is not None:
            candidate['test_inputs'] = values((new_layers[0][0], 1), test_inputs)
        yield (f"units {describe_layers(new_layers)}, {count} object(s), minibatches of {minibatch}, "
               f"{epochs} epoch(s)"), candidate


def hfn_ladder(scenario, values):
    kwargs, objects = scenario['kwargs'], np.shape(scenario['inputs'])[1]
    for new_layers, count, epochs in itertools.product(architectures(scenario['layers']), capped([2, 4], objects),
                                                       capped([1, 2], kwargs['num_epoch'])):
        candidate = network_candidate(scenario, values, new_layers, count)
        curvature = kwargs.get('curvature_size')
        candidate['kwargs'] = {**kwargs, 'num_epoch': epochs,
                               'max_cg_iterations': min(kwargs.get('max_cg_iterations', 250), 4),
                               'curvature_size': None if curvature is None else max(1, min(curvature, count // 2))}
        yield f"units {describe_layers(new_layers)}, {count} objects, {epochs} epoch(s)", candidate


LADDERS = {'activation': activation_ladder, 'layer': layer_ladder, 'autoencoder': autoencoder_ladder,
           'optimizer': optimizer_ladder, 'hfn': hfn_ladder}


def ladder(section, scenario, limit=None):
    """[(description, smaller scenario)], smallest input first (then fewest steps), at most ``limit``
    (default: ``KIND_CANDIDATES`` of the scenario's kind, else ``MAX_CANDIDATES``).

    ``section`` is the unit section's name (kept for the callers' sake: the scenario's kind says how to
    shrink it).  Every candidate has fewer input numbers than ``scenario``, or as many with simpler
    values and no more steps; the same kind and flags.
    """
    size, steps = input_size(scenario), steps_of(scenario)
    limit = limit or KIND_CANDIDATES.get(scenario['kind'], MAX_CANDIDATES)
    found = {}
    for rank, mode in enumerate(VALUE_MODES):
        values = Values(mode, seed=[rank, size])
        for description, candidate in LADDERS[scenario['kind']](scenario, values):
            count, candidate_steps = input_size(candidate), steps_of(candidate)
            if count > size or (count == size and (mode != 'small integers' or candidate_steps > steps)):
                continue
            key = (description, mode)
            if key not in found:
                found[key] = ((count, candidate_steps, rank, len(found)), f"{description}, {mode}", candidate)
    ordered = sorted(found.values(), key=lambda item: item[0])[:limit]
    return [(description, candidate) for _, description, candidate in ordered]


# ---------------------------------------------------------------- printing
FULL_SIZE = 64  # arrays with at most this many numbers are printed in full


def format_array(array):
    array = np.asarray(array)
    if array.dtype.kind in 'fc':
        array = array + 0.0  # -0. prints as 0.
    if array.size > FULL_SIZE:
        return (f"array of shape {array.shape} (not shown in full); first values "
                f"{np.array2string(array.ravel()[:8], precision=6, separator=', ')}")
    return np.array2string(array, precision=6, separator=', ', suppress_small=True, max_line_width=100)


def labelled(label, array):
    text = format_array(array)
    shape = f" {tuple(np.shape(array))}" if np.ndim(array) else ''
    return f"{label}{shape} =\n  " + text.replace('\n', '\n  ') if '\n' in text or len(text) > 60 \
        else f"{label}{shape} = {text}"


def complex_value(scenario, name):
    value = np.asarray(scenario[name])
    imag = scenario.get(f'{name}_imag')
    return value if imag is None else value + 1j * np.asarray(imag)


WAVE = "g(u) = sin(u) + u / 2"
PRODUCTS = {'hessvec': 'compute_hessvec', 'gaussnewton': 'compute_gaussnewtonvec'}


def network_lines(scenario, p_label='p'):
    """The network of an autoencoder, optimiser or HFN scenario: layers, weights as matrices, inputs, p."""
    layers = scenario['layers']
    lines = [f"layers (n_in, n_out, bias): {[tuple(layer) for layer in layers]}, each z = g(W_bar [z_in; 1]), "
             f"{WAVE} (the kit's oracle layers)"]
    start = 0
    weights = complex_value(scenario, 'weights')
    p = scenario.get('p')
    for number, (n_in, n_out, bias) in enumerate(layers):
        count = n_out * (n_in + bias)
        lines.append(labelled(f"layer {number}: W_bar", weights[start:start + count].reshape(n_out, n_in + bias)))
        if p_label and p is not None:
            lines.append(labelled(f"layer {number}: {p_label}", np.asarray(p)[start:start + count]
                                  .reshape(n_out, n_in + bias)))
        start += count
    lines.append(labelled('inputs (features, objects)', scenario['inputs']))
    return lines


def describe_inputs(scenario):
    """The inputs of a scenario, one labelled array per line."""
    kind, lines = scenario['kind'], []
    if kind == 'activation':
        arguments = ', '.join(f"{k}={v!r}" for k, v in scenario.get('kwargs', {}).items())
        lines += [f"{scenario['class']}({arguments})", labelled('X', complex_value(scenario, 'X'))]
    elif kind == 'layer':
        (n_in, n_out), bias = scenario['shape'], bool(scenario['use_bias'])
        lines.append(f"FCLayer(shape=({n_in}, {n_out}), afun={WAVE}, use_bias={bias})")
        lines.append(labelled('set_weights: W_bar' + (' = [W, b]' if bias else ' = W'),
                              complex_value(scenario, 'weights').reshape(n_out, n_in + bias)))
        lines.append(labelled('forward(inputs), inputs', complex_value(scenario, 'inputs')))
        if scenario.get('weights_imag') is None and scenario.get('inputs_imag') is None:
            lines.append(labelled('backward(derivs), derivs', scenario['derivs']))
            if scenario['pass'] == 'rp':
                lines.append(labelled('set_direction: P_bar', np.asarray(scenario['direction'])
                                      .reshape(n_out, n_in + bias)))
                lines.append(labelled('Rp_forward(Rp_inputs), Rp_inputs', scenario['Rp_inputs']))
                lines.append(labelled('Rp_backward(Rp_derivs), Rp_derivs', scenario['Rp_derivs']))
    elif kind == 'autoencoder':
        method = scenario['method']
        if scenario.get('weights_imag') is not None:
            lines.append(f"compute_loss(inputs) with complex weights theta + i h p, h = {scenario['step']!r} "
                         f"(the complex step: Im F / h = grad F . p)")
            lines += network_lines({**scenario, 'weights_imag': None})
        else:
            call = 'compute_loss(inputs)' if method == 'loss' else \
                f"compute_loss(inputs), then {PRODUCTS[method]}(p)"
            lines.append(call)
            lines += network_lines(scenario, None if method == 'loss' else 'p')
    elif kind == 'optimizer':
        arguments = ', '.join(f"{k}={v!r}" for k, v in scenario['kwargs'].items())
        runs = scenario.get('runs', 1)
        lines.append(f"np.random.seed({scenario['seed']}{' + run' if runs > 1 else ''}); "
                     f"{scenario['method']}(inputs, {arguments}"
                     f"{', test_inputs=test_inputs' if scenario.get('test_inputs') is not None else ''})"
                     + (f", {runs} runs one after another on one model" if runs > 1 else ''))
        lines += network_lines(scenario, None)
        if scenario.get('test_inputs') is not None:
            lines.append(labelled('test_inputs', scenario['test_inputs']))
    else:  # hfn
        arguments = ', '.join(f"{k}={v!r}" for k, v in scenario['kwargs'].items())
        lines.append(f"np.random.seed({scenario['seed']}); interface.run_hfn(model, inputs, {arguments}) with your "
                     f"compute_gaussnewtonvec; then compute_gaussnewtonvec(p) at the initial weights")
        lines += network_lines(scenario, 'p')
    return lines


def format_case(scenario, expected, actual, failure=None, compare=None):
    """A printable case: inputs, then every output as expected and as the student's code computed it.

    ``expected`` and ``actual`` map output names to arrays (``actual`` may lack some); ``failure`` is the
    student's exception text, if any; ``compare(name, actual, expected)`` returns None when an output
    matches (default: the checker's grader.compare.compare_output).
    """
    if compare is None:
        from grader.compare import compare_output as compare
    lines = ['Input:'] + ['  ' + line.replace('\n', '\n  ') for line in describe_inputs(scenario)]
    for name, wanted in expected.items():
        got = actual.get(name)
        verdict = 'missing' if got is None else 'ok' if compare(name, got, wanted) is None else 'DIFFERS'
        if verdict == 'ok':
            lines.append(f"{name}: ok, " + labelled('', wanted).lstrip().replace('\n', '\n  '))
            continue
        lines.append(f"{name}: {verdict}")
        lines.append('  ' + labelled('expected', wanted).replace('\n', '\n  '))
        if got is not None:
            lines.append('  ' + labelled('yours   ', got).replace('\n', '\n  '))
    if failure:
        lines.append(f"Your code raised: {failure}")
    return '\n'.join(lines)

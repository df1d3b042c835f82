"""Smaller versions of a failing test scenario, and a printout of one case.

``ladder(section, scenario)`` lists candidates that keep the scenario's kind and flags (class,
pool mode, kernel size parity, momentum, dropout p and seeds, training / inference steps) but use
a smaller batch, fewer channels or units, smaller images and kernels, fewer optimizer steps, and
simpler values -- small integers, or the leading block of the original values (which keeps what
made them special: +-1e4, zeros, ties).  Candidates come smallest first; whoever runs them (the
grader in its sandboxed child, or ``./run.py unittest``) shows the first one that fails.

A scenario is the dict that ``assignments.numpy_nn.execute.run_scenario`` runs (see its docstring).  This module
holds no reference code and no hidden case: it only reshapes what it is given.
"""
import itertools

import numpy as np

MAX_CANDIDATES = 48  # per scenario: each one is tiny, but the child runs them all
SMALL = 3            # small integers are drawn from [-SMALL, SMALL]
VALUE_MODES = ('small integers', 'values from the failing case')


# ------------------------------------------------------------------------ sizes
def arrays_of(scenario):
    """Every input array of a scenario (what a student has to read to check it by hand)."""
    kind = scenario['kind']
    if kind == 'optimizer':
        return list(scenario['parameters']) + [g for grads in scenario['grads'] for g in grads]
    if kind == 'loss':
        return [scenario['y_gt'], scenario['y_pred']]
    if kind == 'function':
        return [arg for arg in scenario['args'] if isinstance(arg, np.ndarray)]
    found = list(scenario.get('parameters', {}).values()) + list(scenario.get('state', {}).values())
    for step in scenario['steps']:
        found += [step['inputs']] + ([step['output_grad']] if step.get('output_grad') is not None else [])
    return found


def input_size(scenario):
    """How many numbers a scenario's inputs hold."""
    return sum(np.size(array) for array in arrays_of(scenario))


# ----------------------------------------------------------------------- values
class Values:
    """Makes the arrays of one candidate: small integers, or leading blocks of the original arrays."""

    def __init__(self, mode, seed):
        self.mode = mode
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, original, low=-SMALL, high=SMALL):
        """An array of ``shape``: integers in [low, high], or ``original``'s leading block."""
        shape = tuple(int(s) for s in shape)
        if self.mode == 'small integers':
            return self.rng.integers(low, high + 1, size=shape).astype(np.float64)
        original = np.asarray(original, dtype=np.float64)
        if original.ndim != len(shape) or any(s > o for s, o in zip(shape, original.shape)):
            original = np.resize(original, shape)  # never needed by the ladders below; a safe fallback
        return np.array(original[tuple(slice(0, s) for s in shape)])


def capped(values, limit):
    """Distinct values of ``values`` that are <= ``limit`` (at least ``limit`` itself when all exceed it)."""
    kept = sorted({min(value, limit) for value in values})
    return kept or [limit]


# ---------------------------------------------------------------- the ladders
def optimizer_ladder(scenario, values):
    parameters, grads = scenario['parameters'], scenario['grads']
    steps = len(grads)
    for count, side, step_count in itertools.product(capped([1, 2], len(parameters)), (1, 2), capped([1, 2, 3], steps)):
        chosen = parameters[:count] if count < len(parameters) else parameters
        shapes = [tuple(min(side, s) for s in p.shape) for p in chosen]
        yield (f"{len(shapes)} parameter(s) of shape {', '.join(map(str, shapes))}, {step_count} step(s)", {
            **scenario,
            'parameters': [values(shape, p) for shape, p in zip(shapes, chosen)],
            'grads': [[values(shape, g) for shape, g in zip(shapes, grads[step])] for step in range(step_count)]})


def loss_ladder(scenario, values):
    y_gt, y_pred = np.asarray(scenario['y_gt']), np.asarray(scenario['y_pred'])
    n, d = y_gt.shape
    soft = not np.isin(y_gt, (0.0, 1.0)).all()
    zeros = bool((y_pred == 0).any())
    if values.mode == 'small integers':
        shapes = [(rows, cols) for rows in capped([1, 2, 3], n) for cols in capped([2, 3], d)]
    else:  # whole rows of the original: their labels and predictions stay valid distributions
        shapes = [(rows, d) for rows in capped([1, 2, 3, 4], n)]
    for rows, cols in shapes:
        if values.mode == 'small integers':
            if soft:
                gt = values((rows, cols), None, 1, SMALL)
                gt /= gt.sum(axis=1, keepdims=True)
            else:
                gt = np.eye(cols)[values.rng.integers(cols, size=rows)]
            pred = values((rows, cols), None, 0 if zeros else 1, SMALL)
            pred[pred.sum(axis=1) == 0, 0] = 1.0
            pred /= pred.sum(axis=1, keepdims=True)
        else:
            gt, pred = values((rows, cols), y_gt), values((rows, cols), y_pred)
        yield f"n={rows}, d={cols}", {**scenario, 'y_gt': gt, 'y_pred': pred}


def convolve_ladder(scenario, values):
    inputs, kernels, padding = scenario['args']
    n, d, h, w = inputs.shape
    c, _, kh, kw = kernels.shape
    kernel_shapes = {(min(kh, 2), min(kw, 2)), (min(kh, 3), min(kw, 3))}
    for n2, d2, c2, (kh2, kw2), p2, h2, w2 in itertools.product(
            capped([1, 2], n), capped([1, 2], d), capped([1, 2], c), sorted(kernel_shapes), capped([0, 1, 2], padding),
            capped([2, 3, 4], h), capped([2, 3, 4], w)):
        if h2 + 2 * p2 < kh2 or w2 + 2 * p2 < kw2:
            continue  # no output pixel
        yield (f"inputs {(n2, d2, h2, w2)}, kernels {(c2, d2, kh2, kw2)}, padding {p2}",
               {**scenario, 'args': [values((n2, d2, h2, w2), inputs), values((c2, d2, kh2, kw2), kernels), p2]})


def step_values(scenario, values, batch_shape, output_shape):
    """The steps of a layer scenario for inputs ``batch_shape`` and outputs ``output_shape``: same
    training flags and seeds, new inputs and output gradients."""
    steps = []
    for step in scenario['steps']:
        new = {**step, 'inputs': values(batch_shape, step['inputs'])}
        if step.get('output_grad') is not None:
            new['output_grad'] = values(output_shape, step['output_grad'])
        steps.append(new)
    return steps


def layer_candidate(scenario, values, input_shape, batch, output_shape, parameters=None, **changes):
    return {**scenario, 'input_shape': list(input_shape), **changes,
            'parameters': parameters if parameters is not None else {},
            'state': {name: values((input_shape[0],), value, 1, 2)  # per-channel statistics, kept positive
                      for name, value in scenario.get('state', {}).items()},
            'steps': step_values(scenario, values, (batch,) + tuple(input_shape), (batch,) + tuple(output_shape))}


def elementwise_ladder(scenario, values):
    """ReLU, Softmax, Flatten, Dropout: any input shape; Flatten's outputs are flat."""
    shape = tuple(scenario['input_shape'])
    batch = scenario['steps'][0]['inputs'].shape[0]
    flat = scenario['class'] == 'Flatten'
    axis_choices = [capped([1, 2, 3] if scenario['class'] == 'Softmax' else [1, 2], s) for s in shape]
    for n2, *rest in itertools.product(capped([1, 2], batch), *axis_choices):
        rest = tuple(rest)
        output = (int(np.prod(rest)),) if flat else rest
        yield f"inputs {(n2,) + rest}", layer_candidate(scenario, values, rest, n2, output)


def dense_ladder(scenario, values):
    (d,), batch = scenario['input_shape'], scenario['steps'][0]['inputs'].shape[0]
    weights, biases = scenario['parameters']['weights'], scenario['parameters']['biases']
    c = weights.shape[0]
    for n2, d2, c2 in itertools.product(capped([1, 2], batch), capped([1, 2, 3], d), capped([1, 2], c)):
        yield f"n={n2}, {d2} -> {c2}", layer_candidate(
            scenario, values, (d2,), n2, (c2,), args=[c2],
            parameters={'weights': values((c2, d2), weights), 'biases': values((c2,), biases)})


def conv2d_ladder(scenario, values):
    d, h, w = scenario['input_shape']
    batch = scenario['steps'][0]['inputs'].shape[0]
    kernels, biases = scenario['parameters']['kernels'], scenario['parameters']['biases']
    c, k = kernels.shape[0], kernels.shape[-1]
    for n2, d2, c2, k2, h2, w2 in itertools.product(capped([1, 2], batch), capped([1, 2], d), capped([1, 2], c),
                                                      capped([1, 3], k), capped([2, 3], h), capped([2, 3], w)):
        kernel_values = values((c2, d2, k2, k2), kernels[:, :, (k - k2) // 2:, (k - k2) // 2:])
        yield f"inputs {(n2, d2, h2, w2)}, {c2} channel(s), kernel {k2}", layer_candidate(
            scenario, values, (d2, h2, w2), n2, (c2, h2, w2), args=[c2], kwargs={**scenario['kwargs'], 'kernel_size': k2},
            parameters={'kernels': kernel_values, 'biases': values((c2,), biases)})


def pooling_ladder(scenario, values):
    d, h, w = scenario['input_shape']
    batch = scenario['steps'][0]['inputs'].shape[0]
    p = scenario['args'][0] if scenario.get('args') else scenario['kwargs'].get('pool_size', 2)
    for n2, d2, h2, w2 in itertools.product(capped([1, 2], batch), capped([1, 2], d),
                                            capped([p, 2 * p], h), capped([p, 2 * p], w)):
        yield f"inputs {(n2, d2, h2, w2)}, pool {p}", layer_candidate(
            scenario, values, (d2, h2, w2), n2, (d2, h2 // p, w2 // p))


def batchnorm_ladder(scenario, values):
    d, h, w = scenario['input_shape']
    batch = scenario['steps'][0]['inputs'].shape[0]
    gamma, beta = scenario['parameters']['gamma'], scenario['parameters']['beta']
    for n2, d2, h2, w2 in itertools.product(capped([1, 2], batch), capped([1, 2], d), capped([1, 2], h), capped([1, 2], w)):
        if n2 * h2 * w2 < 2:
            continue  # one value per channel: zero variance
        candidate = layer_candidate(scenario, values, (d2, h2, w2), n2, (d2, h2, w2),
                                    parameters={'gamma': values((d2,), gamma, 1, 2), 'beta': values((d2,), beta)})
        for step in candidate['steps']:  # no channel may be constant: its variance would be 0
            x = step['inputs']
            for channel in range(d2):
                if np.ptp(x[:, channel]) == 0:
                    x[:, channel] += np.arange(n2 * h2 * w2).reshape(n2, h2, w2)
        yield f"inputs {(n2, d2, h2, w2)}", candidate


LAYER_LADDERS = {'ReLU': elementwise_ladder, 'Softmax': elementwise_ladder, 'Flatten': elementwise_ladder,
                 'Dropout': elementwise_ladder, 'Dense': dense_ladder, 'Conv2D': conv2d_ladder,
                 'Pooling2D': pooling_ladder, 'BatchNorm': batchnorm_ladder}


def candidates(scenario, values):
    kind = scenario['kind']
    if kind == 'optimizer':
        return optimizer_ladder(scenario, values)
    if kind == 'loss':
        return loss_ladder(scenario, values)
    if kind == 'function':
        return convolve_ladder(scenario, values)
    return LAYER_LADDERS[scenario['class']](scenario, values)


def ladder(section, scenario, limit=MAX_CANDIDATES):
    """[(description, smaller scenario)], smallest input first, at most ``limit`` of them.

    ``section`` is the unit section's name (kept for the callers' sake: the scenario's kind
    and class say how to shrink it).  Every candidate has fewer input numbers than
    ``scenario``, or as many with simpler values; the same kind, class and flags.
    """
    size = input_size(scenario)
    found = {}
    for rank, mode in enumerate(VALUE_MODES):
        values = Values(mode, seed=[rank, size])
        for description, candidate in candidates(scenario, values):
            count = input_size(candidate)
            if count > size or (count == size and mode != 'small integers'):
                continue
            key = (description, mode)
            if key not in found:
                found[key] = ((count, rank, len(found)), f"{description}, {mode}", candidate)
    ordered = sorted(found.values(), key=lambda item: item[0])[:limit]
    return [(description, candidate) for _, description, candidate in ordered]


# ---------------------------------------------------------------- printing
FULL_SIZE = 64  # arrays with at most this many numbers are printed in full


def format_array(array):
    array = np.asarray(array)
    if array.dtype.kind == 'f':
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


def describe_inputs(scenario):
    """The inputs of a scenario, one labelled array per line, like the course's tests printed them."""
    kind, lines = scenario['kind'], []
    if kind == 'optimizer':
        lines.append(f"{scenario['class']}({', '.join(f'{k}={v!r}' for k, v in scenario['kwargs'].items())})")
        for index, parameter in enumerate(scenario['parameters']):
            lines.append(labelled(f"parameter {index}", parameter))
        for step, grads in enumerate(scenario['grads']):
            for index, grad in enumerate(grads):
                lines.append(labelled(f"step {step + 1}: gradient of parameter {index}", grad))
    elif kind == 'loss':
        lines += [f"{scenario['class']}()", labelled('y_gt', scenario['y_gt']), labelled('y_pred', scenario['y_pred'])]
    elif kind == 'function':
        inputs, kernels, padding = scenario['args']
        lines += [f"{scenario['name']}(inputs, kernels, padding={padding})", labelled('inputs', inputs),
                  labelled('kernels', kernels)]
    else:
        arguments = [repr(a) for a in scenario.get('args', ())] + [f"{k}={v!r}" for k, v in scenario.get('kwargs', {}).items()]
        lines.append(f"{scenario['class']}({', '.join(arguments)}) with input_shape={tuple(scenario['input_shape'])}")
        for name, value in {**scenario.get('parameters', {}), **scenario.get('state', {})}.items():
            lines.append(labelled(f"layer.{name}", value))
        for index, step in enumerate(scenario['steps']):
            mode = 'training' if step['training'] else 'inference'
            seed = f", np.random.seed({step['seed']}) first" if step.get('seed') is not None else ''
            lines.append(f"step {index + 1} ({mode}{seed}):")
            lines.append('  ' + labelled('forward(inputs), inputs', step['inputs']).replace('\n', '\n  '))
            if step.get('output_grad') is not None:
                lines.append('  ' + labelled('backward(grad_outputs), grad_outputs', step['output_grad']).replace('\n', '\n  '))
    return lines


def output_label(name):
    """'step0.weights_grad' -> 'step 1: weights_grad'."""
    head, _, tail = name.partition('.')
    if head.startswith('step') and head[4:].isdigit() and tail:
        return f"step {int(head[4:]) + 1}: {tail}"
    return name


def format_case(scenario, expected, actual, failure=None, compare=None):
    """A printable case: inputs, then every output as expected and as the student's code computed it.

    ``expected`` and ``actual`` map output names to arrays (``actual`` may lack some); ``failure`` is the
    student's exception text, if any; ``compare(name, actual, expected)`` returns None when an output
    matches (default: numpy.allclose with the course's tolerances).
    """
    if compare is None:
        from public_tests.framework import ATOL, RTOL

        def compare(name, got, wanted):
            same = np.shape(got) == np.shape(wanted) and np.allclose(got, wanted, rtol=RTOL, atol=ATOL)
            return None if same else 'differs'
    lines = ['Input:'] + ['  ' + line.replace('\n', '\n  ') for line in describe_inputs(scenario)]
    first_bad_step = None
    for name, wanted in expected.items():
        step = name.partition('.')[0]
        if first_bad_step is not None and step != first_bad_step:
            lines.append("(later steps not shown: fix this one first)")
            break
        got = actual.get(name)
        verdict = 'missing' if got is None else 'ok' if compare(name, got, wanted) is None else 'DIFFERS'
        if verdict == 'ok':
            lines.append(f"{output_label(name)}: ok, " + labelled('', wanted).lstrip().replace('\n', '\n  '))
            continue
        first_bad_step = step
        lines.append(f"{output_label(name)}: {verdict}")
        lines.append('  ' + labelled('expected', wanted).replace('\n', '\n  '))
        if got is not None:
            lines.append('  ' + labelled('yours   ', got).replace('\n', '\n  '))
    if failure:
        lines.append(f"Your code raised: {failure}")
    return '\n'.join(lines)

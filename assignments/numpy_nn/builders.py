"""The shapes of a scenario (see ``execute``), shared by the hidden scenarios and the loop probes.

Nothing here is a test case: ``assignments.numpy_nn.scenarios`` (hidden, never shipped) and ``grader.loops``
(the loop probes, shipped in the student kit so that ``./run.py unittest`` applies the same loop
rule as the checker) build their scenarios with these.
"""

# Sections whose layer must see the kit's convolution, not the student's convolve_numpy:
# a wrong convolve_numpy costs the convolve section only.
FAST_CONVOLVE = frozenset({'conv2d'})


def layer(cls, input_shape, steps, args=(), kwargs=None, parameters=None, state=None, record_state=()):
    return {'kind': 'layer', 'class': cls, 'args': list(args), 'kwargs': kwargs or {}, 'input_shape': list(input_shape),
            'parameters': parameters or {}, 'state': state or {}, 'record_state': list(record_state), 'steps': steps}


def train_step(rng, x, output_shape=None, seed=None):
    grad = rng.normal(size=output_shape if output_shape is not None else x.shape)
    return {'training': True, 'seed': seed, 'inputs': x, 'output_grad': grad}

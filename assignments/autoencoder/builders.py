"""The shapes of the autoencoder's layer and network scenarios (see ``execute``), shared by the hidden
scenarios (``scenarios``, never shipped) and the loop probes (``probes``, shipped in the student kit so
that ``./run.py unittest`` applies the checker's loop rule).  Nothing here is a test case.
"""


def layer(rng, section, n_in, n_out, bias, batch):
    columns = n_in + (1 if bias else 0)
    return {'kind': 'layer', 'pass': section, 'shape': [n_in, n_out], 'use_bias': bias,
            'weights': rng.normal(size=n_out * columns), 'inputs': rng.normal(size=(n_in, batch)),
            'derivs': rng.normal(size=(n_out, batch)), 'direction': rng.normal(size=n_out * columns),
            'Rp_inputs': rng.normal(size=(n_in, batch)), 'Rp_derivs': rng.normal(size=(n_out, batch))}


def network(rng, layers, batch):
    count = sum(n_out * (n_in + bias) for n_in, n_out, bias in layers)
    return {'layers': layers, 'weights': rng.normal(scale=0.7, size=count),
            'inputs': rng.normal(size=(layers[0][0], batch)), 'p': rng.normal(size=count)}

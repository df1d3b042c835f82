"""Hidden scenarios of the autodiff assignment (never shipped to students).

Each generator yields ``(category, case name, scenario)`` (scenarios are dicts run by ``execute``):
random shapes from a fixed seed, including the corners a transpose or a wrong axis hides in (one
object, one feature, one class, N = D = K), exact zeros for ReLU, scores of +-1000 and +-1e4 for
log-softmax, and upstream gradients that are not cross-entropy's.  Expected values come from the
reference at grading time.  Inputs stay inside the handout's contract: logistic regression's
|X w + b| stays moderate, labels are 0/1 and one-hot rows, log-probabilities are log-softmax outputs.
"""
import numpy as np

from assignments.autodiff import builders
from grader.case_table import case_functions

SEED = 20260915
TORCH_SECTIONS = frozenset()   # no torch in the child: the kit's layer functions are numpy
FAST_CONVOLVE = frozenset()


def logreg(rng):
    for n, d in ((6, 3), (20, 5), (9, 2)):
        yield 'random shapes', f"N={n}, D={d}", builders.logreg(rng, n, d)
    yield 'batch size 1', "N=1, D=4", builders.logreg(rng, 1, 4)
    yield 'one feature', "N=7, D=1", builders.logreg(rng, 7, 1)
    yield 'square X (N = D)', "N=D=5", builders.logreg(rng, 5, 5)
    yield 'one class only', "N=6, D=3, every label 1", builders.logreg(rng, 6, 3, labels=1)
    yield 'one class only', "N=6, D=3, every label 0", builders.logreg(rng, 6, 3, labels=0)
    yield 'confident predictions', "N=8, D=4, |Xw + b| up to about 10", builders.logreg(rng, 8, 4, scale=4.0)


def dense(rng):
    for n, d, k in ((4, 3, 2), (6, 5, 3), (3, 7, 4)):
        yield 'random shapes', f"N={n}, D={d}, K={k}", builders.dense(rng, n, d, k)
    yield 'batch size 1', "N=1, D=5, K=3", builders.dense(rng, 1, 5, 3)
    yield 'one input feature', "N=4, D=1, K=3", builders.dense(rng, 4, 1, 3)
    yield 'one output', "N=5, D=3, K=1", builders.dense(rng, 5, 3, 1)
    yield 'square shapes (N = D = K)', "N=D=K=4", builders.dense(rng, 4, 4, 4)
    yield 'square shapes (N = D = K)', "N=K=3, D=5", builders.dense(rng, 3, 5, 3)


def relu(rng):
    for n, h in ((4, 5), (7, 3)):
        yield 'random inputs', f"N={n}, H={h}", builders.relu(rng, n, h)
    yield 'exact zeros (ReLU\'(0) = 0)', "N=5, H=4, six entries of T exactly 0", builders.relu(rng, 5, 4, zeros=6)
    yield 'exact zeros (ReLU\'(0) = 0)', "N=1, H=6, T all 0", builders.relu(rng, 1, 6, zeros=6)
    scenario = builders.relu(rng, 3, 4)
    scenario['T'] = -np.abs(scenario['T'])
    yield 'random inputs', "N=3, H=4, T all negative", scenario
    yield 'batch size 1', "N=1, H=5", builders.relu(rng, 1, 5)


def crossentropy(rng):
    for n, k in ((5, 3), (8, 10), (4, 2)):
        yield 'random log-probabilities', f"N={n}, K={k}", builders.crossentropy(rng, n, k)
    yield 'batch size 1', "N=1, K=4", builders.crossentropy(rng, 1, 4)
    yield 'confident predictions', "N=6, K=5, scores of scale 20", builders.crossentropy(rng, 6, 5, scale=20.0)
    yield 'square shapes (N = K)', "N=K=4", builders.crossentropy(rng, 4, 4)


def logsoftmax(rng):
    for n, k in ((5, 3), (4, 10), (6, 2)):
        yield 'random scores, any upstream gradient', f"N={n}, K={k}", builders.logsoftmax(rng, n, k)
    yield 'batch size 1', "N=1, K=5", builders.logsoftmax(rng, 1, 5)
    yield 'one class', "N=3, K=1", builders.logsoftmax(rng, 3, 1)
    scenario = builders.logsoftmax(rng, 4, 3)
    scenario['dZ'] = -builders.one_hot_rows(rng, 4, 3) / 4
    yield "cross-entropy's upstream gradient", "N=4, K=3, dZ = -Y/N", scenario
    yield 'large scores (no overflow)', "N=4, K=3, scores of scale 1000", builders.logsoftmax(rng, 4, 3, scale=1000.0)
    scenario = builders.logsoftmax(rng, 2, 4)
    scenario['T'] = np.array([[1e4, -1e4, 0.0, 1e4 - 1.0], [-1e4, -1e4 + 2.0, -1e4 + 1.0, -1e4]])
    yield 'large scores (no overflow)', "N=2, K=4, scores +-1e4", scenario
    scenario = builders.logsoftmax(rng, 3, 4)
    scenario['T'] = np.repeat(rng.normal(size=(3, 1)), 4, axis=1)
    yield 'equal scores in a row', "N=3, K=4, every row constant", scenario


def network(rng):
    for sizes, n in (((5, 4, 3), 6), ((4, 6, 5, 3), 7)):
        label = ' -> '.join(map(str, sizes))
        yield 'random networks', f"{len(sizes) - 1} layers {label}, N={n}", builders.network(rng, sizes, n)
    yield 'one layer (softmax regression)', "1 layer 6 -> 4, N=5", builders.network(rng, (6, 4), 5)
    yield 'batch size 1', "2 layers 4 -> 5 -> 3, N=1", builders.network(rng, (4, 5, 3), 1)
    yield 'square shapes (N = D = H = K)', "2 layers 4 -> 4 -> 4, N=4", builders.network(rng, (4, 4, 4), 4)
    yield 'random networks', "3 layers 3 -> 8 -> 8 -> 2, N=5", builders.network(rng, (3, 8, 8, 2), 5)


GENERATORS = {'logreg': logreg, 'dense': dense, 'relu': relu, 'crossentropy': crossentropy,
              'logsoftmax': logsoftmax, 'network': network}


cases, scenarios, categories = case_functions(GENERATORS, SEED)

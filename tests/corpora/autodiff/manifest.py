"""What every file of the autodiff corpus is, and the verdict each of its six unit sections must get.

The corpus holds solutions of the third assignment ("Backpropagation by hand: the practical part of
seminar 1", assignments/autodiff/handout.md) written the way students write them: each file is the
student template (``make_template`` of the reference) with its ``# Your code here`` regions filled in,
sometimes with helpers, imports and comments of the student's own.

Verdicts are what is RIGHT under the grader's default configuration, whatever a given grader version
says, by the handout's conventions (section 0):

* a Python loop over data (objects, features, units, classes), wherever it hides (a module-level
  helper, a comprehension, a generator fed to ``sum``): 'policy violation', and the text says 'loop';
  a loop over the layers of a network (a ``for``, ``functools.reduce``, ``zip`` of the layers) is fine;
* an import of a forbidden module (scipy, torch, os, ...), even inside a function: 'policy violation'
  naming the module; the pure standard library (math, functools, collections, ...) is allowed;
* an exception on a valid input: 'runtime error'. Two the handout announces: writing into an array the
  function received (read-only: ValueError), and an overflow, division by zero or invalid operation
  (``np.seterr(all='raise')``: FloatingPointError, e.g. log-softmax without the max shift on scores of
  +-1000);
* a wrong value, or a result of the wrong shape or type (``db`` of shape ``(1, K)`` where the handout
  says ``(K,)``, not ``(1, K)``; logistic regression's dQ/db as N numbers): 'wrong answer'.

Section 6 (network) runs on the kit's own layer functions (handout, section 6: "a mistake in a layer
costs that layer's section only"), so a file whose layers are wrong but whose network puts them
together right passes it.

Every 'passed' section was checked in-process against the reference on the hidden cases
(tests/autodiff/test_corpus_autodiff.py::test_ground_truth repeats that check), and every bug gives a wrong
value or raises there.
"""
from tests.support.corpus_support import VERDICTS, Entry  # noqa: F401 - VERDICTS: read from here by the tests


ENTRIES = (
    # ------------------------------------------------------------------ correct in every unit section
    Entry('anya_einsum.py',
          "correct: np.einsum everywhere (sums over the objects as 'nk->k'), a module-level helper _logsumexp "
          "(shifted by the row maximum) shared by log-softmax's forward and backward, comments in Russian, "
          "logistic regression through log(p) and log(1 - p) (fine: |Xw + b| stays below about 10), ReLU as "
          "T * (T > 0) (-0.0 for negative T, equal to 0), the gradients collected with grads.insert(0, ...)"),
    Entry('boris_dot.py',
          "correct: np.dot, logistic regression's backward pass node by node as in the seminar (dz3, then "
          "sigma'), relu_backward on dZ.copy() (a new array: writing into it is fine), cross-entropy by the "
          "class numbers (argmax of Y, fancy indexing into np.zeros_like(Z))"),
    Entry('vera_stdlib.py',
          "correct: `import collections`, `import math`, `from functools import reduce`; a module-level "
          "_sigmoid helper with a math.exp branch for scalars; b[np.newaxis, :], dQ/dX as (W dT^T)^T, "
          "np.where for ReLU, max(axis=1)[:, None]; mlp_forward as reduce over enumerate(params) and the "
          "backward pass as zip over the reversed layers into a collections.deque (loops over layers only)"),
    # ------------------------------------------------------------------ real bugs
    Entry('dima_noshift.py',
          "cross-entropy as the seminar's sum (-sum(Y * Z) and -Y, no 1/N); log-softmax without the max shift "
          "(exp of +-1000 and +-1e4 overflows or underflows to log(0): FloatingPointError under np.seterr)",
          expected={'crossentropy': 'wrong answer', 'logsoftmax': 'runtime error'},
          phrases={'crossentropy': ('loss', 'mean'), 'logsoftmax': ('FloatingPointError', 'log_softmax_forward')}),
    Entry('egor_inplace.py',
          "relu_backward writes into the dZ it received (dZ[T <= 0] = 0: ValueError, the array is read-only); "
          "mlp_loss_and_grads appends the gradients from the last layer to the first (grads in reverse order)",
          expected={'relu': 'runtime error', 'network': 'wrong answer'},
          phrases={'relu': ('ValueError', 'read-only', 'relu_backward'), 'network': ('dW1',)}),
    Entry('fedya_transpose.py',
          "dQ/dW as dT^T X, (K, D) (the right product, transposed); log_softmax_backward as the seminar's "
          "shortcut softmax / N + dZ, right only for cross-entropy's upstream gradient",
          expected={'dense': 'wrong answer', 'logsoftmax': 'wrong answer'},
          phrases={'dense': ('dW',), 'logsoftmax': ('dT', "cross-entropy's")}),
    Entry('lena_logreg.py',
          "logistic regression's dQ/db returned object by object (dz, N numbers, not their sum); "
          "mlp_loss_and_grads keeps no T of the hidden layers and hands dQ/dX down as the next dQ/dT (the "
          "hidden layers' ReLU skipped on the way back; right for one layer only)",
          expected={'logreg': 'wrong answer', 'network': 'wrong answer'},
          phrases={'logreg': ('db', 'expected a number'), 'network': ('dW1', 'ReLU')}),
    Entry('misha_ones_row.py',
          "dQ/db as the seminar's 1^T dT with np.ones((1, N)): shape (1, K), where the handout says (K,) "
          "(not (1, K)); everything else right",
          expected={'dense': 'wrong answer'},
          phrases={'dense': ('db', 'shape')}),
    # ------------------------------------------------------------------ rule breaking
    Entry('galya_scipy.py',
          "log_softmax_forward through `from scipy.special import logsumexp` inside the function (the values "
          "would be right: the import alone breaks the rule); relu_backward with T >= 0 (ReLU'(0) = 1: wrong "
          "on the hidden cases with exact zeros only); the network passes (it runs on the kit's layers)",
          expected={'relu': 'wrong answer', 'logsoftmax': 'policy violation'},
          phrases={'relu': ('dT', 'exactly 0'), 'logsoftmax': ('scipy',)}),
    Entry('kolya_loops.py',
          "dense_backward sums dW and db object by object in a for loop; relu_backward through a module-level "
          "helper `mask` with a nested list comprehension over the entries; cross_entropy_forward as the "
          "builtin sum of a generator over the objects; the values are right, and the network (the kit's "
          "layers) passes",
          expected={'dense': 'policy violation', 'relu': 'policy violation', 'crossentropy': 'policy violation'},
          phrases={'dense': ('loop',), 'relu': ('loop',), 'crossentropy': ('loop',)}),
)

BY_FILE = {entry.file: entry for entry in ENTRIES}

"""The kit's Hessian-free Newton method (``interface.run_hfn``, Martens 2010) and what it does for grading.

* ``interface.conjugate_gradient`` against an independent implementation of Martens' CG (written here
  from the paper's description), on quadratics: the same iterates and the same stopping iteration;
* one Newton step with the exact curvature and lambda -> 0 lands on the minimum of a quadratic;
* the Levenberg-Marquardt rule, the rejected steps and the CG start (the previous step, decayed)
  against an independent re-implementation of the whole loop, on a real autoencoder;
* the public and the hidden case that run HFN with the student's Gauss-Newton products: the reference
  passes, correct products computed otherwise (or with rounding noise) pass, and every Gauss-Newton
  mutant fails them with the HFN line in its feedback (and loses only its own section);
* ``./run.py --assignment autoencoder train --study hfn`` writes its figures and summary (a tiny run).
"""
import dataclasses

import numpy as np
import pytest

import assignments
from public_tests.framework import run_case
from tests.support.mutants import apply as apply_mutant
from tests.support.mutants_autoencoder import MUTANTS

AE = assignments.get('autoencoder')
INTERFACE = AE.interface
REFERENCE_SOURCE = AE.reference_path.read_text()
GAUSS_NEWTON_MUTANTS = [mutant for mutant in MUTANTS if mutant.section == 'gaussnewton']


@pytest.fixture(scope='module')
def reference():
    return AE.load(AE.reference_path, 'autoencoder_hfn_reference')


def load_source(source, tmp_path, name):
    path = tmp_path / name / 'solution.py'
    path.parent.mkdir()
    path.write_text(source)
    return AE.load(path, f"autoencoder_hfn_{name}")


# ------------------------------------------------------------------ an independent CG with Martens' stopping rule
def martens_cg(A, b, x0, max_iterations, epsilon=5e-4):
    """Minimise q(x) = 1/2 x'Ax - b'x (b = -g) as in Martens (2010), section 4.4 and algorithm 2 of
    Shewchuk's notes: r = b - Ax, d = r; alpha = r'r / d'Ad; ...  Returns (x, q(x), iterations).
    ``A``: a matrix, or a function p -> A p."""
    times = A if callable(A) else (lambda v: A @ v)
    x = x0.astype(float).copy()
    Ax = times(x)
    r = b - Ax
    d = r.copy()
    q = [0.5 * x @ Ax - b @ x]
    i = 0
    while i < max_iterations:
        Ad = times(d)
        dAd = d @ Ad
        if dAd <= 0:
            break
        alpha = (r @ r) / dAd
        x = x + alpha * d
        r_next = r - alpha * Ad
        i += 1
        q.append(0.5 * x @ times(x) - b @ x)
        k = max(10, int(i / 10))
        if i > k and q[i] < 0 and (q[i] - q[i - k]) / q[i] < k * epsilon:
            break
        if r_next @ r_next == 0:
            break
        d = r_next + (r_next @ r_next) / (r @ r) * d
        r = r_next
    return x, q[-1], i


def spd(rng, size, condition):
    basis, _ = np.linalg.qr(rng.normal(size=(size, size)))
    return basis @ np.diag(np.logspace(0, np.log10(condition), size)) @ basis.T


@pytest.mark.parametrize('size, condition, max_iterations, started', [
    (60, 1e4, 300, False),   # Martens' relative-progress rule stops it
    (60, 1e4, 300, True),    # from a start of its own (the previous step's, decayed)
    (40, 1e2, 7, False),     # the iteration limit stops it
    (6, 10.0, 50, False),    # converged: the rule stops it at i = 11
])
def test_conjugate_gradient_matches_an_independent_implementation(size, condition, max_iterations, started):
    rng = np.random.default_rng(size + max_iterations)
    A, g = spd(rng, size, condition), rng.normal(size=size)
    x0 = 0.1 * rng.normal(size=size) if started else np.zeros(size)
    x, phi, iterations = INTERFACE.conjugate_gradient(lambda p: A @ p, g, x0, max_iterations)
    expected_x, expected_q, expected_iterations = martens_cg(A, -g, x0, max_iterations)
    assert iterations == expected_iterations
    np.testing.assert_allclose(x, expected_x, rtol=1e-8, atol=1e-10 * np.abs(expected_x).max())
    assert phi == pytest.approx(expected_q, rel=1e-9)
    if max_iterations == 300:
        assert 10 < iterations < max_iterations  # the rule, not the limit
    if size == 6:
        np.testing.assert_allclose(x, np.linalg.solve(A, -g), rtol=1e-9)


def test_conjugate_gradient_stops_at_negative_curvature():
    A, g = np.diag([2.0, 1.0, -1.0]), np.array([1.0, 1.0, 1.0])
    x, _, iterations = INTERFACE.conjugate_gradient(lambda p: A @ p, g, np.zeros(3), 50)
    # d = -g: d'Ad = 2 > 0, one step; the next direction meets the negative eigenvalue
    expected, _, expected_iterations = martens_cg(A, -g, np.zeros(3), 50)
    assert iterations == expected_iterations and np.all(np.isfinite(x))
    np.testing.assert_allclose(x, expected)


# ------------------------------------------------------------------ run_hfn on quadratics
class Parameters:
    def __init__(self, weights):
        self.weights = np.array(weights, dtype=float)

    def get_weights(self):
        return self.weights.copy()

    def set_weights(self, w):
        self.weights = np.array(w, dtype=float)


class Quadratic:
    """F(w) = 1/2 (w - w*)' A (w - w*) whatever the batch; its Gauss-Newton product ``scale`` A p."""

    def __init__(self, A, minimum, start, scale=1.0):
        self.A, self.minimum, self.scale, self.net = A, minimum, scale, Parameters(start)
        self.products = 0

    def compute_loss(self, inputs):
        residual = self.net.weights - self.minimum
        return 0.5 * residual @ self.A @ residual, self.A @ residual

    def compute_gaussnewtonvec(self, p):
        self.products += 1
        return self.scale * (self.A @ p)


def quadratic(seed, size=8, condition=50.0, scale=1.0):
    rng = np.random.default_rng(seed)
    return Quadratic(spd(rng, size, condition), rng.normal(size=size), rng.normal(size=size), scale)


def test_one_newton_step_with_the_exact_curvature_lands_on_the_minimum():
    model = quadratic(1)
    history = INTERFACE.run_hfn(model, np.zeros((1, 4)), num_epoch=1, l2_coef=0.0, damping=1e-12,
                                max_cg_iterations=100)
    np.testing.assert_allclose(model.net.weights, model.minimum, rtol=1e-9, atol=1e-9)
    assert history['train_loss'][0] == pytest.approx(0.0, abs=1e-15)
    assert history['rejected'] == [0]


def test_with_the_l2_term_it_lands_on_the_regularised_minimum():
    model, l2_coef = quadratic(2), 0.3
    INTERFACE.run_hfn(model, np.zeros((1, 4)), num_epoch=1, l2_coef=l2_coef, damping=1e-12, max_cg_iterations=100)
    expected = np.linalg.solve(model.A + l2_coef * np.eye(len(model.minimum)), model.A @ model.minimum)
    np.testing.assert_allclose(model.net.weights, expected, rtol=1e-9, atol=1e-9)


def test_levenberg_marquardt_shrinks_lambda_where_the_model_is_exact():
    # on a quadratic the undamped model predicts the reduction exactly: rho = 1 > 3/4 at every step
    model = quadratic(3, condition=1e3)
    history = INTERFACE.run_hfn(model, np.zeros((1, 4)), num_epoch=3, l2_coef=0.0, damping=1.0,
                                max_cg_iterations=100)
    np.testing.assert_allclose(history['damping'], [2 / 3, 4 / 9, 8 / 27])
    assert history['rejected'] == [0, 0, 0] and np.all(np.diff(history['train_loss']) < 0)
    assert model.products == sum(history['cg_iterations']) + 2  # + A x0 at the two warm starts


def test_a_product_ten_times_too_small_makes_steps_that_are_rejected():
    # G p = 0.1 A p: the steps are ~10 times too long, F goes up, the step is rejected and lambda grows
    model = quadratic(4, condition=10.0, scale=0.1)
    start = model.net.get_weights()
    history = INTERFACE.run_hfn(model, np.zeros((1, 4)), num_epoch=1, l2_coef=0.0, damping=1e-3,
                                max_cg_iterations=100)
    assert history['rejected'] == [1] and history['damping'] == [pytest.approx(1.5e-3)]
    np.testing.assert_array_equal(model.net.weights, start)


def test_the_history_has_one_value_per_epoch_and_the_seconds(reference):
    model = small_autoencoder(reference)
    inputs = np.random.default_rng(5).normal(size=(6, 30))
    np.random.seed(0)
    history = INTERFACE.run_hfn(model, inputs, num_epoch=3, minibatch_size=10, test_inputs=inputs[:, :7],
                                max_cg_iterations=5)
    assert set(history) == {'train_loss', 'train_grad', 'test_loss', 'test_grad', 'seconds', 'damping',
                            'cg_iterations', 'rejected'}
    assert all(len(values) == 3 for values in history.values())
    assert np.all(np.diff(history['seconds']) > 0) and history['seconds'][0] > 0
    np.random.seed(0)
    adam = small_autoencoder(reference).run_adam(inputs, num_epoch=2, minibatch_size=10)
    assert len(adam['seconds']) == 2 and np.all(np.diff(adam['seconds']) > 0)


# ------------------------------------------------------------------ the whole loop, re-implemented
def small_autoencoder(solution, seed=3):
    np.random.seed(seed)
    sizes = (6, 4, 2, 4, 6)
    afuns = (solution.TanhActivationFunction(), solution.LinearActivationFunction(),
             solution.TanhActivationFunction(), solution.LinearActivationFunction())
    return solution.Autoencoder([solution.FCLayer(shape, afun, use_bias=True)
                                 for shape, afun in zip(zip(sizes[:-1], sizes[1:]), afuns)])


def independent_hfn(model, inputs, num_epoch, minibatch_size, curvature_size, l2_coef, damping, max_cg, decay):
    """The docstring of interface.run_hfn, step by step: (weights, [lambda after each step], [CG iterations],
    [taken or not])."""
    w = model.net.get_weights()
    n = inputs.shape[1]
    previous = np.zeros_like(w)
    lambdas, counts, taken = [], [], []

    def f(weights, batch):
        model.net.set_weights(weights)
        loss, grad = model.compute_loss(batch)
        return loss + l2_coef / 2 * weights @ weights, grad + l2_coef * weights

    for _ in range(num_epoch):
        order = np.random.permutation(n)
        for start in range(0, n, minibatch_size):
            batch = inputs[:, order[start:start + minibatch_size]]
            F, g = f(w, batch)
            f(w, batch[:, :curvature_size])  # the curvature batch: compute_loss on it before the products

            def G(p, lam=damping):
                return model.compute_gaussnewtonvec(p) + (l2_coef + lam) * p

            d, phi, iterations = martens_cg(G, -g, decay * previous, max_cg)
            counts.append(iterations)
            q = g @ d + 0.5 * d @ (G(d) - damping * d)
            F_new, _ = f(w + d, batch)
            rho = (F_new - F) / q if q < 0 else -np.inf
            damping = damping * 2 / 3 if rho > 0.75 else damping * 1.5 if rho < 0.25 else damping
            lambdas.append(damping)
            if F_new < F:
                w, previous = w + d, d
            else:
                previous = np.zeros_like(w)
            taken.append(F_new < F)
    return w, lambdas, counts, taken


def test_run_hfn_matches_an_independent_implementation_of_the_loop(reference):
    inputs = np.random.default_rng(6).normal(size=(6, 40))
    settings = dict(num_epoch=3, minibatch_size=16, curvature_size=6, l2_coef=1e-3, damping=0.5)
    model = small_autoencoder(reference)
    np.random.seed(9)
    history = INTERFACE.run_hfn(model, inputs, max_cg_iterations=15, **settings)
    other = small_autoencoder(reference)
    np.random.seed(9)
    weights, lambdas, counts, taken = independent_hfn(other, inputs, max_cg=15, decay=0.95, **settings)
    steps_per_epoch = 3  # 16 + 16 + 8 objects
    np.testing.assert_allclose(model.net.get_weights(), weights, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(history['damping'], lambdas[steps_per_epoch - 1::steps_per_epoch], rtol=1e-12)
    assert history['cg_iterations'] == [sum(counts[i:i + steps_per_epoch]) for i in range(0, 9, steps_per_epoch)]
    assert history['rejected'] == [steps_per_epoch - sum(taken[i:i + steps_per_epoch]) for i in range(0, 9, 3)]
    assert sum(taken) >= 6  # mostly accepted steps: the test exercises the warm start
    assert history['train_loss'][-1] < history['train_loss'][0]


# ------------------------------------------------------------------ the public case
def public_case():
    return AE.module('public_cases').gaussnewton_drives_hessian_free_newton


def test_the_public_hfn_case_passes_the_reference(reference):
    result = run_case(public_case(), reference)
    assert result.passed, result.message


@pytest.mark.parametrize('mutant', GAUSS_NEWTON_MUTANTS, ids=[mutant.mistake for mutant in GAUSS_NEWTON_MUTANTS])
def test_the_public_hfn_case_shows_what_a_wrong_product_does(mutant, tmp_path):
    module = load_source(apply_mutant(REFERENCE_SOURCE, mutant), tmp_path, 'public_mutant')
    result = run_case(public_case(), module)
    assert not result.passed
    assert 'HFN does not decrease the loss as it should with your Gauss-Newton products' in result.message \
        or 'HFN diverges with your Gauss-Newton products' in result.message, result.message
    assert "your compute_gaussnewtonvec(p) differs from torch's J^T J p / n" in result.message


# correct products computed otherwise: the same steps up to rounding
CORRECT_VARIANTS = {
    'divided after the backward pass': (
        "return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])",
        "return self.net.compute_loss_grad(Rp_outputs) / self.net.inputs.shape[1]"),
    'the batch size kept by compute_loss': (
        "return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])",
        "return self.net.compute_loss_grad(Rp_outputs * (1 / self.batch_size))"),
}


def correct_variant(name):
    old, new = CORRECT_VARIANTS[name]
    source = REFERENCE_SOURCE.replace(old, new)
    if 'batch_size' in new:
        source = source.replace("        n = inputs.shape[1]\n        outputs = self.net.compute_outputs(inputs)",
                                "        n = self.batch_size = inputs.shape[1]\n"
                                "        outputs = self.net.compute_outputs(inputs)")
    assert source.count('self.batch_size') in (0, 2) and source != REFERENCE_SOURCE
    return source


@pytest.mark.parametrize('name', sorted(CORRECT_VARIANTS))
def test_correct_products_computed_otherwise_pass_both_hfn_cases(name, tmp_path, reference):
    module = load_source(correct_variant(name), tmp_path, name.replace(' ', '_'))
    result = run_case(public_case(), module)
    assert result.passed, result.message
    assert hidden_hfn_reason(module, reference) is None


class Noisy:
    """A solution module whose Gauss-Newton products carry a relative rounding-level error."""

    def __init__(self, solution, size):
        self.__dict__.update({name: getattr(solution, name) for name in dir(solution) if not name.startswith('__')})
        rng = np.random.default_rng(0)

        class Autoencoder(solution.Autoencoder):
            def compute_gaussnewtonvec(self, p):
                value = super().compute_gaussnewtonvec(p)
                return value * (1 + size * rng.uniform(-1, 1, size=value.shape))

        self.Autoencoder = Autoencoder


@pytest.mark.parametrize('size, passes', [(1e-12, True), (1e-3, False)])  # rounding: 1e-16
def test_the_hfn_cases_tolerate_rounding_and_nothing_more(reference, size, passes):
    noisy = Noisy(reference, size)
    assert run_case(public_case(), noisy).passed == passes
    assert (hidden_hfn_reason(noisy, reference) is None) == passes


# ------------------------------------------------------------------ the hidden case
def hidden_hfn_reason(module, reference):
    """The comparison's reason for the hidden HFN case of ``module`` (None: it passes)."""
    from grader.compare import compare_case
    execute, scenarios = AE.module('execute'), AE.module('scenarios')
    category, name, scenario = scenarios.cases('gaussnewton')[0]
    assert category == 'Hessian-free Newton steps' and scenario['kind'] == 'hfn'
    expected, failure = execute.run_scenario(reference, scenario)
    assert failure is None and list(expected) == ['hfn.train_loss', 'product']
    outputs, failure = execute.run_scenario(module, scenario)
    result = {'failure': failure, 'problems': {k: o.problem for k, o in outputs.items() if o.problem}}
    arrays = {f"0/{k}": o.array for k, o in outputs.items() if o.problem is None}
    return compare_case(result, arrays, expected, 0)


def test_the_hidden_hfn_case_comes_first_and_the_product_cases_keep_their_inputs():
    scenarios = AE.module('scenarios')
    cases = scenarios.cases('gaussnewton')
    assert cases[0][2]['kind'] == 'hfn' and all(scenario['kind'] == 'autoencoder' for _, _, scenario in cases[1:])
    rng = np.random.default_rng([scenarios.SEED, sum(map(ord, 'gaussnewton'))])
    alone = list(scenarios._autoencoder('gaussnewton')(rng))
    for (_, name, scenario), (_, expected_name, expected) in zip(cases[1:], alone):
        assert name == expected_name
        np.testing.assert_array_equal(scenario['p'], expected['p'])


def test_the_hidden_hfn_case_passes_the_reference_and_a_kept_batch_size(reference):
    assert hidden_hfn_reason(reference, reference) is None
    from tests.conftest import KIT_ROOT
    boris = AE.load(KIT_ROOT / 'tests' / 'corpora' / 'autoencoder' / 'boris_dot.py', 'autoencoder_hfn_boris')
    assert hidden_hfn_reason(boris, reference) is None  # keeps self.n in compute_loss for the products


@pytest.fixture(scope='module')
def grader():
    from grader.grade import Grader
    return Grader(assignment='autoencoder')


@pytest.mark.parametrize('mutant', GAUSS_NEWTON_MUTANTS, ids=[mutant.mistake for mutant in GAUSS_NEWTON_MUTANTS])
def test_a_gauss_newton_mutant_loses_its_section_only_and_is_told_what_hfn_did(grader, mutant, tmp_path):
    from tests.autoencoder.test_autoencoder_grader import lost_sections
    module = load_source(apply_mutant(REFERENCE_SOURCE, mutant), tmp_path, 'hidden_mutant')
    lost = lost_sections(grader, module)
    assert list(lost) == ['gaussnewton'], lost
    reason = lost['gaussnewton']
    assert reason.startswith("case 'interface.run_hfn(") and 'with your products' in reason, reason
    assert 'HFN does not decrease the loss as it should with your Gauss-Newton products' in reason \
        or 'HFN diverges with your Gauss-Newton products' in reason, reason
    assert "your compute_gaussnewtonvec(p) differs from the oracle's J^T J p / n" in reason, reason


def test_a_loss_mutant_does_not_fail_the_hidden_hfn_case(reference, tmp_path):
    """The hidden case runs the oracle's loss: only the products are judged there."""
    for mutant in [m for m in MUTANTS if m.section in ('loss', 'hessvec', 'rp', 'fclayer')]:
        module = load_source(apply_mutant(REFERENCE_SOURCE, mutant), tmp_path, f"other_{abs(hash(mutant.mistake))}")
        assert hidden_hfn_reason(module, reference) is None, mutant.mistake


def test_the_public_and_hidden_messages_say_the_same():
    public, hidden = AE.module('public_cases').hfn_problem, AE.module('execute').hfn_problem
    for yours in ([3.0, 2.0, 1.5], [3.0, 5.0, 9.0], [3.0, 2.0, 1.001], [3.0, 2.0], [3.0, 2.0, 0.9]):
        for error in (0.0, 2.5):
            mine = public(yours, [3.0, 2.0, 1.0], 4.0, 'the oracle', error, 10.0)
            theirs = hidden(yours, [3.0, 2.0, 1.0], 4.0, error, 10.0)
            assert mine.split(';')[0].replace('your compute_loss', 'your Gauss-Newton products') == \
                theirs.split(';')[0], (mine, theirs)
    assert public([3.0, 2.0, 1.0], [3.0, 2.0, 1.0 + 1e-7], 4.0, 'torch', 0.0, 1.0) is None
    assert hidden([3.0, 2.0, 1.0], [3.0, 2.0, 1.0 + 1e-7], 4.0, 0.0, 1.0) is None


# ------------------------------------------------------------------ the study
def test_the_hfn_study_writes_its_figures_and_summary(tmp_path, monkeypatch, capsys):
    pytest.importorskip('sklearn')
    training = AE.module('training')
    tiny = tuple(dataclasses.replace(data, architectures=data.architectures[:1],
                                     adam=dict(data.adam, num_epoch=2), hfn=dict(data.hfn, num_epoch=1,
                                                                                 max_cg_iterations=5))
                 for data in training.HFN_STUDY if data.name == 'digits')
    monkeypatch.setattr(training, 'HFN_STUDY', tiny)
    assert training.hfn_study(AE.reference_path, tmp_path) == 0
    names = {path.name for path in tmp_path.iterdir()}
    assert names == {'hfn_digits_convergence.png', 'hfn_digits_codes.png', 'hfn_summary.txt'}
    summary = (tmp_path / 'hfn_summary.txt').read_text()
    assert 'Adam' in summary and 'HFN' in summary and '64-32-2-32-64, tanh' in summary
    for name in names - {'hfn_summary.txt'}:
        assert (tmp_path / name).read_bytes()[:4] == b'\x89PNG'


def test_train_takes_the_study_argument():
    import argparse
    parser = argparse.ArgumentParser()
    AE.module('training').add_train_arguments(parser)
    assert parser.parse_args(['--study', 'hfn']).study == 'hfn'
    assert parser.parse_args([]).study == 'optimisers'

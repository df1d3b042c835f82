"""The autoencoder's public cases: the reference passes them all, the template fails every section,
and each hand-written mutant of the reference fails the cases of its own section (and only the
sections that run its code)."""
import time

import pytest

import assignments
from public_tests.framework import _CASES, run_case

AE = assignments.get('autoencoder')
CASES_MODULE = 'assignments.autoencoder.public_cases'
UNIT_SECTIONS = [section.name for section in AE.unit_sections]

# the sections whose cases run the student's code of other sections (see public_cases.relies_on): the R_p
# passes are called after the student's forward and backward; the Autoencoder sections run over the kit's
# oracle layers, as in the checker, so they run no FCLayer of the student's
RELIES_ON = {'rp': {'fclayer'}}


def cases_of(section):
    AE.module('public_cases')  # registers them
    return [function for function in _CASES[section] if function.__module__ == CASES_MODULE]


def unaffected_by(section):
    """The unit sections whose cases must not notice a mistake in ``section``."""
    return [name for name in UNIT_SECTIONS if name != section and section not in RELIES_ON.get(name, ())]


ALL_CASES = [(section, function) for section in UNIT_SECTIONS for function in cases_of(section)]
_loaded = []


def load(source, tmp_path, label):
    """Import ``source`` (a solution.py text) with the autoencoder's interface."""
    folder = tmp_path / label
    folder.mkdir()
    path = folder / 'solution.py'  # run_case shows the traceback lines of files called solution.py
    path.write_text(source)
    _loaded.append(label)
    return AE.load(path, f"autoencoder_public_test_{label}_{len(_loaded)}")


def template_source(source, stubbed=None):
    """The student template: each BEGIN/END SOLUTION region (of the sections in ``stubbed``, default
    all) becomes ``raise NotImplementedError`` with the section's title, like grader.regions."""
    if stubbed is None:
        try:
            from grader.regions import make_template
            return make_template(source, AE.by_name)
        except (TypeError, ValueError):  # make_template without a sections argument: do it here
            pass
    from grader.regions import BEGIN, END
    output, inside = [], None
    for line in source.splitlines():
        if inside is None and (match := BEGIN.match(line)):
            indent, name = match.group(1), match.group(2)
            if stubbed is None or name in stubbed:
                inside = name
                title = AE.by_name[name].title
                output.append(f'{indent}raise NotImplementedError("{title} ({name}): not implemented yet")')
                continue
        if inside is not None:
            if END.match(line):
                inside = None
            continue
        output.append(line)
    return '\n'.join(output) + '\n'


@pytest.fixture(scope='module')
def reference_source():
    return AE.reference_path.read_text()


@pytest.fixture(scope='module')
def reference():
    return AE.load(AE.reference_path, 'autoencoder_public_test_reference')


@pytest.fixture(scope='module')
def template(reference_source, tmp_path_factory):
    return load(template_source(reference_source), tmp_path_factory.mktemp('template'), 'template')


def test_every_unit_section_has_cases_and_the_names_are_unique():
    assert all(len(cases_of(section)) >= 3 for section in UNIT_SECTIONS), \
        {section: len(cases_of(section)) for section in UNIT_SECTIONS}
    names = [function.__name__ for _, function in ALL_CASES]
    assert len(names) == len(set(names))
    registered = {section for section, functions in _CASES.items()
                  if any(function.__module__ == CASES_MODULE for function in functions)}
    assert registered == set(UNIT_SECTIONS)  # nothing for the bottleneck gate, nothing for unknown sections


def test_cases_use_no_reference_solution():
    text = (AE.folder / 'public_cases.py').read_text()
    assert 'reference_path' not in text and 'import solution' not in text and 'solution.py' not in text


@pytest.mark.parametrize('section, function', ALL_CASES, ids=[function.__name__ for _, function in ALL_CASES])
def test_reference_passes(reference, section, function):
    result = run_case(function, reference)
    assert result.passed, result.message


def test_the_public_suite_is_fast(reference):
    started = time.perf_counter()
    for _, function in ALL_CASES:
        run_case(function, reference)
    assert time.perf_counter() - started < 15


@pytest.mark.parametrize('section', UNIT_SECTIONS)
def test_template_fails_every_case(template, section):
    for function in cases_of(section):
        result = run_case(function, template)
        assert not result.passed, function.__name__
        assert result.message.startswith('NotImplementedError'), result.message
        if section not in RELIES_ON:  # the stub it meets first is its own section's
            assert f"({section})" in result.message, result.message


@pytest.mark.parametrize('section', UNIT_SECTIONS)
def test_a_missing_section_fails_no_unrelated_case(reference_source, tmp_path, section):
    """Only ``section`` is a stub: its cases fail, and the sections that do not run it pass."""
    module = load(template_source(reference_source, {section}), tmp_path, f"only_{section}_missing")
    assert not any(run_case(function, module).passed for function in cases_of(section))
    for other in unaffected_by(section):
        for function in cases_of(other):
            result = run_case(function, module)
            assert result.passed, f"{other}/{function.__name__} fails without {section}: {result.message}"


# (section, mistake, ((old text, new text), ...)): each old text occurs once in the reference
MUTANTS = (
    ('activations', "sigmoid second_deriv = s (1 - s)",
     (("return s * (1 - s) * (1 - 2 * s)", "return s * (1 - s)"),)),
    ('activations', "tanh deriv through np.abs (breaks the complex step only)",
     (("return 1 - np.tanh(X) ** 2", "return 1 - np.abs(np.tanh(X)) ** 2"),)),
    ('activations', "LeakyReLU ignores its alpha",
     (("return np.where(X.real > 0, X, self.alpha * X)", "return np.where(X.real > 0, X, 0.01 * X)"),)),
    ('activations', "ReLU by np.maximum of the real part (drops the imaginary part)",
     (("return np.where(X.real > 0, X, 0)", "return np.maximum(X.real, 0)"),)),
    ('activations', "tanh second_deriv of the wrong sign",
     (("return -2 * t * (1 - t ** 2)", "return 2 * t * (1 - t ** 2)"),)),
    ('fclayer', "backward multiplies by g'(outputs) instead of g'(u)",
     (("u_derivs = derivs * self.afun.deriv(self.u)", "u_derivs = derivs * self.afun.deriv(self.outputs)"),)),
    ('fclayer', "dL/dinputs drops the first row of W^T instead of the bias row",
     (("return self.weights[:, :self.shape[0]].T @ u_derivs",
       "return (self.weights.T @ u_derivs)[-self.shape[0]:]"),)),
    ('fclayer', "weights gradient averaged over the batch",
     (("weights_grad = u_derivs @ self.extend(self.inputs).T",
       "weights_grad = u_derivs @ self.extend(self.inputs).T / derivs.shape[1]"),)),
    ('fclayer', "forward drops the imaginary part of u",
     (("self.u = self.weights @ self.extend(inputs)", "self.u = np.real(self.weights @ self.extend(inputs))"),)),
    ('rp', "Rp_forward without the P_bar z_bar_in term",
     (("self.Rp_u = self.weights @ Rp_extended + self.direction @ self.extend(self.inputs)",
       "self.Rp_u = self.weights @ Rp_extended"),)),
    ('rp', "Rp_backward without the dL/dz g''(u) R{u} term",
     (("Rp_u_derivs = Rp_derivs * self.afun.deriv(self.u) + self.derivs * self.afun.second_deriv(self.u) * self.Rp_u",
       "Rp_u_derivs = Rp_derivs * self.afun.deriv(self.u)"),)),
    ('rp', "Rp_backward without the P^T dL/du term",
     (("(self.direction[:, :num_inputs].T @ u_derivs\n                            + "
       "self.weights[:, :num_inputs].T @ Rp_u_derivs)", "(self.weights[:, :num_inputs].T @ Rp_u_derivs)"),)),
    ('rp', "Rp_backward without the dL/du R{z_in}^T term",
     (("Rp_weights_grad = Rp_u_derivs @ self.extend(self.inputs).T + u_derivs @ Rp_extended.T",
       "Rp_weights_grad = Rp_u_derivs @ self.extend(self.inputs).T"),)),
    ('loss', "compute_loss sums over the objects instead of averaging",
     (("loss = 0.5 * np.sum(residual * residual) / n", "loss = 0.5 * np.sum(residual * residual)"),
      ("return loss, self.net.compute_loss_grad(residual / n)", "return loss, self.net.compute_loss_grad(residual)"))),
    ('loss', "np.abs in compute_loss (breaks the complex step only)",
     (("np.sum(residual * residual)", "np.sum(np.abs(residual) ** 2)"),)),
    ('loss', "np.linalg.norm in compute_loss (breaks the complex step only)",
     (("loss = 0.5 * np.sum(residual * residual) / n", "loss = 0.5 * np.linalg.norm(residual) ** 2 / n"),)),
    ('loss', "gradient of the wrong sign",
     (("residual = outputs - inputs", "residual = inputs - outputs"),)),
    ('hessvec', "compute_hessvec returns the Gauss-Newton product",
     (("return self.net.compute_loss_Rp_grad(Rp_outputs / self.net.inputs.shape[1])",
       "return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])"),)),
    ('hessvec', "compute_hessvec without 1/n",
     (("return self.net.compute_loss_Rp_grad(Rp_outputs / self.net.inputs.shape[1])",
       "return self.net.compute_loss_Rp_grad(Rp_outputs)"),)),
    ('gaussnewton', "compute_gaussnewtonvec returns the Hessian product",
     (("return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])",
       "return self.net.compute_loss_Rp_grad(Rp_outputs / self.net.inputs.shape[1])"),)),
    ('gaussnewton', "compute_gaussnewtonvec without 1/n",
     (("return self.net.compute_loss_grad(Rp_outputs / self.net.inputs.shape[1])",
       "return self.net.compute_loss_grad(Rp_outputs)"),)),
    ('sgd', "ascent instead of descent",
     (("return weights - step_size * grad\n", "return weights + step_size * grad\n"),)),
    ('sgd', "step size ignored", (("return weights - step_size * grad\n", "return weights - grad\n"),)),
    ('momentum', "dampened momentum (1 - momentum) lr grad",
     (("state['velocity'] = momentum * state.get('velocity', 0) + step_size * grad",
       "state['velocity'] = momentum * state.get('velocity', 0) + (1 - momentum) * step_size * grad"),)),
    ('momentum', "velocity never stored",
     (("state['velocity'] = momentum * state.get('velocity', 0) + step_size * grad\n"
       "            return weights - state['velocity']",
       "velocity = momentum * state.get('velocity', 0) + step_size * grad\n"
       "            return weights - velocity"),)),
    ('momentum', "velocity kept on the model: the next run starts with the old one",
     (("state['velocity'] = momentum * state.get('velocity', 0) + step_size * grad\n"
       "            return weights - state['velocity']",
       "self.velocity = momentum * getattr(self, 'velocity', 0) + step_size * grad\n"
       "            return weights - self.velocity"),)),
    ('rmsprop', "RMSprop without the square root",
     (("np.sqrt(state['mean_square']) + eps", "state['mean_square'] + eps"),)),
    ('rmsprop', "RMSprop with eps inside the square root",
     (("np.sqrt(state['mean_square']) + eps", "np.sqrt(state['mean_square'] + eps)"),)),
    ('rmsprop', "RMSprop with ro fixed at 0.9",
     (("ro * state.get('mean_square', 0) + (1 - ro)", "0.9 * state.get('mean_square', 0) + (1 - 0.9)"),)),
    ('adam', "Adam without the bias corrections",
     (("m_hat = state['m'] / (1 - beta1 ** iteration)", "m_hat = state['m']"),
      ("v_hat = state['v'] / (1 - beta2 ** iteration)", "v_hat = state['v']"))),
    ('adam', "Adam's bias corrections one step off",
     (("m_hat = state['m'] / (1 - beta1 ** iteration)", "m_hat = state['m'] / (1 - beta1 ** (iteration + 1))"),
      ("v_hat = state['v'] / (1 - beta2 ** iteration)", "v_hat = state['v'] / (1 - beta2 ** (iteration + 1))"))),
    ('adam', "Adam with beta1 fixed at 0.9",
     (("beta1 * state.get('m', 0) + (1 - beta1) * grad", "0.9 * state.get('m', 0) + (1 - 0.9) * grad"),)),
    ('adam', "Adam with eps inside the square root",
     (("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),)),
    ('adam', "Adam's moments kept on the model: the next run starts with the old ones",
     (("state['m'] = beta1 * state.get('m', 0) + (1 - beta1) * grad\n"
       "            state['v'] = beta2 * state.get('v', 0) + (1 - beta2) * grad ** 2",
       "self.m = beta1 * getattr(self, 'm', 0) + (1 - beta1) * grad\n"
       "            self.v = beta2 * getattr(self, 'v', 0) + (1 - beta2) * grad ** 2\n"
       "            state['m'], state['v'] = self.m, self.v"),)),
)


def mutant_source(source, edits):
    for old, new in edits:
        assert source.count(old) == 1, f"the reference has {source.count(old)} copies of {old!r}"
        source = source.replace(old, new)
    return source


@pytest.mark.filterwarnings('ignore::RuntimeWarning')  # diverging mutants overflow
@pytest.mark.parametrize('section, mistake, edits', MUTANTS, ids=[mistake for _, mistake, _ in MUTANTS])
def test_mutant_fails_its_own_section_only(reference_source, tmp_path, section, mistake, edits):
    module = load(mutant_source(reference_source, edits), tmp_path, section)
    results = [run_case(function, module) for function in cases_of(section)]
    assert not all(result.passed for result in results), f"no {section} case catches: {mistake}"
    for other in unaffected_by(section):
        for function in cases_of(other):
            result = run_case(function, module)
            assert result.passed, f"{other}/{function.__name__} fails for a {section} mistake: {result.message}"

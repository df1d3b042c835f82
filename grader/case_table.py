"""Hidden cases drawn from a table of generators, the same way for every assignment.

An assignment's scenarios module holds ``GENERATORS`` ({section: generator(rng) yielding
(category, case name, scenario)}) and a ``SEED``, and exposes

    cases, scenarios, categories = case_functions(GENERATORS, SEED)

Each section draws from its own stream (the seed and the section's name), so adding a
section or a case to one section leaves the others' inputs as they were.
"""
import numpy as np


def case_functions(generators, default_seed):
    """(cases, scenarios, categories) over ``generators``, each taking (section, seed=default_seed)."""

    def cases(section, seed=default_seed):
        """[(category, case name, scenario)] of ``section``, in order; inputs drawn from ``seed``."""
        rng = np.random.default_rng([seed, sum(map(ord, section))])
        return list(generators[section](rng))

    def scenarios(section, seed=default_seed):
        """[(case name, scenario)] of ``section`` (what the grader runs)."""
        return [(name, scenario) for _, name, scenario in cases(section, seed)]

    def categories(section, seed=default_seed):
        """{case name: category} of ``section``; the category says what the case is about."""
        return {name: category for category, name, _ in cases(section, seed)}

    return cases, scenarios, categories

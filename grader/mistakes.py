"""An assignment's catalogue of student mistakes (its ``mistakes.toml``): load it, apply an entry to the reference.

A mistake is the reference solution with a few text edits, plus one sentence for the
student.  The diagnosis (grader/diagnose.py) runs every mistake of a failing section on the
failing case and names the one whose outputs the student's match.
"""
from dataclasses import dataclass
from functools import lru_cache

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

@dataclass(frozen=True)
class Mistake:
    name: str      # unique id, '<section>/<what>'
    section: str   # the unit section it costs
    hint: str      # one sentence for the student
    edits: tuple   # ((old text, new text), ...) applied to the reference in order


@lru_cache(maxsize=None)
def load_mistakes(path):
    """Every catalogued Mistake, in file order; raises ValueError on a malformed entry."""
    with open(path, 'rb') as file:
        entries = tomllib.load(file).get('mistake', [])
    mistakes, names = [], set()
    for entry in entries:
        try:
            mistake = Mistake(entry['name'], entry['section'], entry['hint'],
                              tuple((old, new) for old, new in entry['edits']))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: malformed mistake {entry.get('name', entry)!r}: {error}") from None
        if mistake.name in names:
            raise ValueError(f"{path}: mistake {mistake.name!r} appears twice")
        names.add(mistake.name)
        mistakes.append(mistake)
    return tuple(mistakes)


def mistakes_of(section, path):
    """The mistakes of one unit section in the catalogue at ``path``."""
    return tuple(mistake for mistake in load_mistakes(path) if mistake.section == section)


def by_name(name, path):
    return next(mistake for mistake in load_mistakes(path) if mistake.name == name)


def apply(reference_source, mistake):
    """``reference_source`` with ``mistake``'s edits; each old text must occur exactly once."""
    source = reference_source
    for old, new in mistake.edits:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"{mistake.name}: {old!r} occurs {count} times in the reference, expected once")
        source = source.replace(old, new, 1)
    return source

"""What an instructor may set per course: how loops and edits outside the regions are judged.

A course sets these in a small TOML file (``./run.py grade --policy course.toml``,
``./run.py serve --policy course.toml``) or with flags; the defaults are the
assignment's rules:

    loops = "fail"              # "fail" | "warn": Python loops over data in layers, losses, optimizers
    outside_regions = "warn"    # "fail" | "warn" | "ignore": edits of kit code outside the regions
    extra_imports = ["scipy"]   # modules this course allows beyond numpy and the pure standard library

Edits of kit code are never used to grade: under "warn" the kit's code is used
and the report names the edit, under "fail" the section fails, under "ignore"
the kit's code is used silently.
"""
import difflib
from dataclasses import asdict, dataclass, field

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

LOOP_MODES = ('fail', 'warn')
OUTSIDE_REGION_MODES = ('fail', 'warn', 'ignore')


class SettingsError(ValueError):
    """A wrong course setting (a file, a key, a value, a flag): its message is one line naming it and
    what is allowed; ``./run.py`` prints it and exits with status 2, without a traceback."""
    one_line = True


def _choices(value, allowed):
    return f"{value!r}: expected one of {', '.join(repr(choice) for choice in allowed)}"


@dataclass(frozen=True)
class CoursePolicy:
    loops: str = 'fail'
    outside_regions: str = 'warn'
    extra_imports: tuple = field(default_factory=tuple)

    def __post_init__(self):
        if not isinstance(self.loops, str) or self.loops not in LOOP_MODES:
            raise SettingsError(f"loops = {_choices(self.loops, LOOP_MODES)}")
        if not isinstance(self.outside_regions, str) or self.outside_regions not in OUTSIDE_REGION_MODES:
            raise SettingsError(f"outside_regions = {_choices(self.outside_regions, OUTSIDE_REGION_MODES)}")
        if isinstance(self.extra_imports, (str, bytes)) or not isinstance(self.extra_imports, (list, tuple)) \
                or not all(isinstance(name, str) for name in self.extra_imports):
            raise SettingsError(f"extra_imports = {self.extra_imports!r}: expected a list of module names, "
                                f"e.g. [\"scipy\"]")
        bad = [name for name in self.extra_imports if not all(part.isidentifier() for part in name.split('.'))]
        if bad:
            raise SettingsError(f"extra_imports: {bad[0]!r} is not a module name (e.g. \"scipy\" or \"scipy.signal\")")
        object.__setattr__(self, 'extra_imports', tuple(self.extra_imports))

    @classmethod
    def load(cls, path):
        """The policy in a TOML file.  A missing or unreadable file, broken TOML, an unknown key (a typo
        must not pass silently) or a wrong value raise SettingsError: one line naming the file, the key
        or value, and what is allowed."""
        known = list(cls.__dataclass_fields__)
        try:
            with open(path, 'rb') as file:
                values = tomllib.load(file)
        except FileNotFoundError:
            raise SettingsError(f"{path}: no such file (--policy takes a course policy file in TOML with the "
                                f"keys {', '.join(known)})") from None
        except OSError as error:
            raise SettingsError(f"{path}: cannot be read ({error.strerror or error})") from None
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{path}: not valid TOML: {str(error).splitlines()[0]}") from None
        except UnicodeDecodeError:
            raise SettingsError(f"{path}: not UTF-8 text (a TOML file is)") from None
        unknown = sorted(set(values) - set(known))
        if unknown:
            guesses = [f"{match[0]!r} for {key!r}" for key in unknown
                       if (match := difflib.get_close_matches(key, known, 1))]
            raise SettingsError(f"{path}: unknown keys {', '.join(unknown)} (known: {', '.join(known)}"
                                + (f"; did you mean {', '.join(guesses)}?" if guesses else '') + ")")
        try:
            return cls(**values)
        except SettingsError as error:
            raise SettingsError(f"{path}: {error}") from None

    @classmethod
    def from_options(cls, path=None, loops=None, outside_regions=None, extra_imports=()):
        """The file's policy (or the defaults), with the flags given on the command line on top."""
        policy = cls.load(path) if path else cls()
        changes = {key: value for key, value in (('loops', loops), ('outside_regions', outside_regions)) if value}
        if extra_imports:
            changes['extra_imports'] = policy.extra_imports + tuple(extra_imports)
        return cls(**{**asdict(policy), **changes})

    def as_dict(self):
        return {**asdict(self), 'extra_imports': list(self.extra_imports)}


def add_policy_options(command):
    """The course-policy flags of ``grade`` and ``serve``."""
    command.add_argument('--policy', help="a course policy file (TOML: loops, outside_regions, extra_imports)")
    command.add_argument('--loops', choices=LOOP_MODES, help="Python loops over data: fail the section (default) or "
                                                           "only warn")
    command.add_argument('--outside-regions', choices=OUTSIDE_REGION_MODES,
                         help="edits of kit code outside the regions: the kit's code is used and the report says so "
                              "(warn, default), the section fails (fail), or nothing is said (ignore)")
    command.add_argument('--allow-import', action='append', default=[], metavar='MODULE',
                         help="allow this module too (repeatable)")


def policy_from_args(args):
    return CoursePolicy.from_options(args.policy, args.loops, args.outside_regions, args.allow_import)

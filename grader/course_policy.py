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
from dataclasses import asdict, dataclass, field

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

LOOP_MODES = ('fail', 'warn')
OUTSIDE_REGION_MODES = ('fail', 'warn', 'ignore')


@dataclass(frozen=True)
class CoursePolicy:
    loops: str = 'fail'
    outside_regions: str = 'warn'
    extra_imports: tuple = field(default_factory=tuple)

    def __post_init__(self):
        if self.loops not in LOOP_MODES:
            raise ValueError(f"loops = {self.loops!r}: expected one of {', '.join(LOOP_MODES)}")
        if self.outside_regions not in OUTSIDE_REGION_MODES:
            raise ValueError(f"outside_regions = {self.outside_regions!r}: expected one of "
                             f"{', '.join(OUTSIDE_REGION_MODES)}")
        if isinstance(self.extra_imports, str) or not all(isinstance(name, str) for name in self.extra_imports):
            raise ValueError("extra_imports must be a list of module names")
        object.__setattr__(self, 'extra_imports', tuple(self.extra_imports))

    @classmethod
    def load(cls, path):
        """The policy in a TOML file; unknown keys are an error (a typo must not pass silently)."""
        with open(path, 'rb') as file:
            values = tomllib.load(file)
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"{path}: unknown keys {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(cls.__dataclass_fields__)})")
        return cls(**values)

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

"""A catalogue of hostile or broken submissions and the verdict each must get.

Each is the reference with something nasty added (at import, or inside one
section).  ``expected`` maps a section to its verdict ('*' for every section);
sections not named must still pass.  Most get past the static rules on purpose
(no forbidden import: ``os`` comes with ``from interface import *`` as in the
course's kit, ``sys`` as ``getattr(os, 'sy' + 's')``, other modules through the
``builtins`` module reached that way), so that the sandbox itself is what stops them.
"""
from dataclasses import dataclass, field

from tests.conftest import DATA_DIR, KIT_ROOT

IMPORT_POINT = "from interface import *\n"
SYS = "getattr(os, 'sy' + 's')"  # the static policy refuses `os.sys`: a dynamic name gets past any static rule
IMPORT = f"getattr({SYS}.modules['built' + 'ins'], '__imp' + 'ort__')"


@dataclass(frozen=True)
class Hostile:
    name: str
    edits: tuple                 # ((old, new), ...) applied once each to the reference
    expected: dict               # section (or '*') -> verdict
    reason: str = ''             # a phrase the reason must contain
    forbidden_in_report: tuple = field(default=())


def at_import(code):
    return ((IMPORT_POINT, IMPORT_POINT + code + "\n"),)


def in_section(old, new):
    return ((old, new),)


HOSTILE = (
    Hostile('patches numpy comparisons, returns zeros',
            at_import("np.allclose = lambda *args, **kwargs: True\n"
                      "np.array_equal = lambda *args, **kwargs: True\n"
                      "np.isclose = lambda *args, **kwargs: True")
            + in_section("return inputs @ self.weights.T + self.biases",
                         "return np.zeros((len(inputs), self.output_units))"),
            {'dense': 'wrong answer'}, 'values differ'),
    Hostile('sys.exit(0) at import', at_import(f"{SYS}.exit(0)"), {'*': 'runtime error'}, 'SystemExit'),
    Hostile('os._exit(0) at import', at_import("os._exit(0)"), {'*': 'crashed'},
            'exited with status 0 before reporting results'),
    Hostile('endless loop at import', at_import("while True:\n    pass"), {'*': 'time limit'}, 'did not finish'),
    Hostile('huge allocation', in_section("return np.maximum(inputs, 0)", "return np.ones(1 << 40) + inputs"),
            {'relu': 'memory limit'}, 'MemoryError'),
    Hostile('fork loop', in_section("return outputs * (grad_outputs - np.sum(",
                                    "while True:\n            os.fork()\n"
                                    "        return outputs * (grad_outputs - np.sum("),
            {'softmax': 'policy violation'}),
    Hostile('opens a socket at import', at_import(f"{IMPORT}('sock' + 'et').create_connection(('127.0.0.1', 9), timeout=1)"),
            {'*': 'policy violation'}),
    Hostile('reads the reference solution', in_section(
        "return inputs.reshape(inputs.shape[0], -1)",
        f"np.fromfile({str(KIT_ROOT / 'solution.py')!r}, dtype=np.uint8)\n"
        "        return inputs.reshape(inputs.shape[0], -1)"),
        {'flatten': 'policy violation'}, 'reading outside the sandbox'),
    Hostile('reads the test labels', in_section(
        "return inputs * (1 - self.p)",
        f"np.fromfile({str(DATA_DIR / 'mnist' / 't10k-labels-idx1-ubyte.gz')!r}, dtype=np.uint8)\n"
        "        return inputs * (1 - self.p)"),
        {'dropout': 'policy violation'}, 'reading outside the sandbox'),
    Hostile('hides a forbidden read in try/except', in_section(
        "return np.maximum(inputs, 0)",
        "try:\n            np.fromfile('/etc/passwd', dtype=np.uint8)\n        except Exception:\n            pass\n"
        "        return np.maximum(inputs, 0)"),
        {'relu': 'policy violation'}, 'reading outside the sandbox'),
    Hostile('floods stdout', at_import("for _ in range(10 ** 6):\n    print('spam' * 1000)"),
            {'*': 'policy violation'}, 'printed more than', forbidden_in_report=('spamspam',)),
    Hostile('kills its parent', at_import("os.kill(os.getppid(), 9)"),
            {'*': 'policy violation'}),
    Hostile('returns an object with a fake __eq__ and __array__', in_section(
        "    p = padding\n",
        "    class Fake:\n        def __eq__(self, other):\n            return True\n\n"
        "        def __array__(self, dtype=None, copy=None):\n            return np.zeros((1, 1, 1, 1))\n\n"
        "    return Fake()\n    p = padding\n"),
        {'convolve': 'wrong answer'}, 'expected numpy.ndarray'),
    Hostile('overwrites the checker in its sandbox', at_import("np.savetxt('kit_harness.py', np.zeros(1))"),
            {'*': 'policy violation'}, 'tampering with the checker'),
    Hostile("closes the checker's pipe, then reads a file",
            at_import(f"os.close(int({SYS}.argv[1]))\nnp.fromfile('/etc/passwd', dtype=np.uint8)"),
            {'*': 'policy violation'}, 'a forbidden operation'),
    Hostile('a module-level helper reads the reference', at_import(
        "def _peek(path=" + repr(str(KIT_ROOT / 'solution.py')) + "):\n    return np.fromfile(path, dtype=np.uint8)")
        + in_section("return np.maximum(inputs, 0)", "_peek()\n        return np.maximum(inputs, 0)"),
        {'relu': 'policy violation'}, 'reading outside the sandbox'),
    Hostile('writes a file through a module reached by attributes', in_section(
        "return inputs.reshape(inputs.shape[0], -1)",
        f"{SYS}.modules['built' + 'ins'].open('/tmp/nn-kit-escape', 'w').write('x')\n"
        "        return inputs.reshape(inputs.shape[0], -1)"),
        {'flatten': 'policy violation'}, 'writing outside the sandbox'),
    Hostile('switches off the loop tracer', in_section(
        "return outputs * (grad_outputs - np.sum(",
        f"{SYS}.settrace(None)\n        return outputs * (grad_outputs - np.sum("),
        {'softmax': 'policy violation'}, 'line tracer'),
    Hostile('switches off the loop tracer through getattr', in_section(
        "return outputs * (grad_outputs - np.sum(",
        f"getattr({SYS}, 'set' + 'trace')(None)\n        return outputs * (grad_outputs - np.sum("),
        {'softmax': 'policy violation'}, 'line tracer'),
    Hostile('imports sqlite3 through __builtins__ (the static policy sees it)', in_section(
        "return np.maximum(inputs, 0)",
        "__builtins__['__import__']('sql' + 'ite3').connect('checker.sqlite3')\n        return np.maximum(inputs, 0)"),
        {'relu': 'policy violation'}, '`__builtins__` is not allowed'),
    Hostile('opens a database through modules reached by dynamic names', in_section(
        "return np.maximum(inputs, 0)",
        f"{IMPORT}('sql' + 'ite3').connect('/tmp/checker.sqlite3')\n        return np.maximum(inputs, 0)"),
        {'relu': 'policy violation'}, 'opening a database'),
    Hostile('a module-level helper lists /proc for the server', at_import(
        "def _servers():\n    return [os.readlink(f'/proc/{pid}/cwd') for pid in os.listdir('/proc') if pid.isdigit()]")
        + in_section("return inputs.reshape(inputs.shape[0], -1)",
                     "raise RuntimeError(str(_servers()))\n        return inputs.reshape(inputs.shape[0], -1)"),
        {'flatten': 'policy violation'}, 'reading outside the sandbox', forbidden_in_report=('/work', '/tmp')),
    Hostile('imports torch in convolve_numpy', in_section("    p = padding\n", "    import torch\n    p = padding\n"),
            {'convolve': 'policy violation'}, 'torch'),
)


def apply(source, hostile):
    for old, new in hostile.edits:
        assert old in source, f"{hostile.name}: {old!r} is not in the reference"
        source = source.replace(old, new, 1)
    return source

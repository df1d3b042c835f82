"""Parsing uploads in child processes, so that a costly file cannot slow the server for others.

compile() of a 1 MiB file takes seconds of CPU (6.6 s for 524,288 lines of ``1``, 2 s for ``x = 1``
lines on the 2-core test machine) and hundreds of MB, and it holds the GIL all along: in a thread
of the server it would stall every request of every student. The server therefore parses in child
processes of its own (spawned on first use, so they share nothing with it; lower priority; address
space capped) and waits on a pipe in the request's worker thread, never on the event loop.

Bounded three ways: ``workers`` parses at once; at most ``waiting`` more uploads wait for a parser
(the next ones are told the checker is busy: 503, nothing recorded); a parse longer than ``timeout``
seconds is stopped (its child killed and replaced) and the upload refused. This module imports
nothing but the standard library: the children load it alone. Nothing uploaded is executed.

The same child also checks a file that parses against what the assignment asks for
(``missing_definitions``: the classes, their methods and the functions of the reference, read from
the file's syntax tree), so that a file the grader could only give zeros is refused before it is queued.
"""
import ast
import multiprocessing
import os
import queue
import re
import threading
from typing import Optional

PARSER_MEMORY = 1 << 30      # address space of a parser child (the worst 1 MiB file needs about 600 MB)


_AST_LOCK = threading.Lock()  # ast.parse in the server's threads (no parser processes), one at a time


class ParserBusy(Exception):
    """Every parser is busy and the waiting places are taken: try again shortly."""


def _compiled(name: str, text: str):
    """(the module's code object, None) when ``text`` compiles, else (None, why not: a message for the student)."""
    try:
        # compile() to bytecode parses without building ast objects: CPython 3.11's ast.parse is not safe
        # in several threads at once ("AST constructor recursion depth mismatch"). Nothing is executed.
        return compile(text, name, 'exec', dont_inherit=True), None
    except SyntaxError as error:
        return None, (f"'{name}' does not parse: SyntaxError: {error.msg} (line {error.lineno}); "
                      f"run it once yourself before uploading")
    except (RecursionError, MemoryError, ValueError, OverflowError) as error:
        return None, f"'{name}' cannot be parsed ({type(error).__name__})"


def parse_refusal(name: str, text: str) -> Optional[str]:
    """Why ``text`` is not acceptable Python source (a message for the student), None when it compiles."""
    return _compiled(name, text)[1]


TOP_DEFINITION = re.compile(r'(?:@|class[\s(:]|def\s|async\s+def\s)')
CONTINUED = re.compile(r'(?:[\s#)\]}]|$)')


def definition_source(text: str) -> str:
    """The file with only its top-level class and def blocks (decorators included) left, the other lines
    blanked: what ``missing_definitions`` parses, so that a 1 MiB file of other statements costs no
    more than its compile.  A block ends at the next line that starts in column 0 (neither blank, nor a
    comment, nor a closing bracket); one cut inside a string does not parse, and the whole file is parsed then."""
    kept, keeping = [], False
    for line in text.splitlines():
        if TOP_DEFINITION.match(line):
            keeping = True
        elif not CONTINUED.match(line):
            keeping = False
        kept.append(line if keeping else '')
    return '\n'.join(kept) + '\n'


def _statements(body):
    """The statements of a module's top level, those inside if / try / with / loops included (not in defs)."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for part in ('body', 'orelse', 'finalbody'):
            yield from _statements(getattr(node, part, None) or [])
        for handler in getattr(node, 'handlers', None) or []:
            yield from _statements(handler.body)


def _bound_names(node):
    """Names a statement other than a def binds (``Dense = MyDense``, ``from mine import Dense``)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(alias.asname or alias.name).split('.')[0] for alias in node.names if alias.name != '*']
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    return [name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)]


def signature(function) -> dict:
    """The positional parameters of a def's ast node: {'args': names, 'required': count, 'varargs': bool}."""
    arguments = function.args
    names = [arg.arg for arg in arguments.posonlyargs + arguments.args]
    return {'args': names, 'required': len(names) - len(arguments.defaults), 'varargs': arguments.vararg is not None}


def _describe(name, wanted) -> str:
    return f"{name}({', '.join(wanted['args'] + (['*args'] if wanted['varargs'] else []))})"


def _signature_problem(name, wanted, found, method) -> Optional[str]:
    """Why a def with ``found``'s parameters cannot stand for the reference's ``wanted`` (None when it can):
    it must take the reference's positional arguments, under the reference's names (``self`` aside)."""
    if not found['varargs'] and len(found['args']) < len(wanted['args']):
        why = f"takes {len(found['args'])} positional parameters"
    elif found['required'] > wanted['required']:
        why = f"requires {found['required']} positional parameters"
    else:
        start = 1 if method else 0
        differ = [(a, b) for a, b in zip(found['args'][start:], wanted['args'][start:]) if a != b]
        if not differ:
            return None
        why = f"names parameter '{differ[0][1]}' '{differ[0][0]}'"
    return f"{_describe(name, wanted)} expected; yours {why}"


def missing_definitions(name: str, text: str, required, module_names=()) -> list:
    """What of ``required`` the file lacks: [message], empty when it has it all.

    ``required`` (plain data, from ``service.preflight``): [{'kind': 'class', 'name', 'methods': {name: signature}}
    or {'kind': 'function', 'name', 'signature'}].  A class must be defined in the file with each method
    (its own, or one of a base class of the file's) taking the reference's positional parameters; a
    function the same.  A name bound another way (assigned, imported: one of the compiled module's
    ``module_names``) counts as present, unchecked."""
    with _AST_LOCK:
        try:
            tree = ast.parse(definition_source(text), name)
        except SyntaxError:  # a block was cut short (a string with a line in column 0): the whole file then
            tree = ast.parse(text, name)
    defs, bound = {}, set(module_names)
    for node in _statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = node
            bound.discard(node.name)
        else:
            for bound_name in _bound_names(node):
                bound.add(bound_name)
                defs.pop(bound_name, None)

    def methods(cls, seen=()):
        found = {}
        for base in cls.bases:  # methods inherited from classes of the file
            base_node = defs.get(base.id) if isinstance(base, ast.Name) else None
            if isinstance(base_node, ast.ClassDef) and base_node.name not in seen:
                found.update(methods(base_node, seen + (cls.name,)))
        for item in _statements(cls.body):
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[item.name] = signature(item)
            else:
                found.update({bound_name: None for bound_name in _bound_names(item)})
        return found

    problems = []
    for wanted in required:
        node = defs.get(wanted['name'])
        if wanted['name'] in bound and node is None:
            continue
        if wanted['kind'] == 'class':
            if not isinstance(node, ast.ClassDef):
                problems.append(f"class {wanted['name']} is missing")
                continue
            own = methods(node)
            for method, expected in wanted['methods'].items():
                qualified = f"{wanted['name']}.{method}"
                if method not in own:
                    problems.append(f"method {_describe(qualified, expected)} is missing")
                elif own[method] is not None:
                    problem = _signature_problem(qualified, expected, own[method], True)
                    if problem:
                        problems.append(problem)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            problems.append(f"function {_describe(wanted['name'], wanted['signature'])} is missing")
        else:
            problem = _signature_problem(wanted['name'], wanted['signature'], signature(node), False)
            if problem:
                problems.append(problem)
    return problems


def check_source(name: str, text: str, required=None):
    """None when the file parses and has what ``required`` asks for; the parse's refusal (a message),
    or the list of what is missing."""
    code, refusal = _compiled(name, text)
    if refusal or not required:
        return refusal
    try:
        return missing_definitions(name, text, required, code.co_names) or None
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError) as error:
        return f"'{name}' cannot be parsed ({type(error).__name__})"


def _limit_child(memory: int) -> None:
    """The child gives way to the server (nice 10) and cannot take more than ``memory`` bytes."""
    try:
        os.nice(10)
    except OSError:
        pass
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ImportError, ValueError, OSError):
        pass


def _serve(connection, memory: int) -> None:
    """The child's loop: (name, text, required) in, the refusal (or None) out, until the pipe closes."""
    _limit_child(memory)
    while True:
        try:
            name, text, required = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = check_source(name, text, required)
        except MemoryError:
            answer = f"'{name}' cannot be parsed (MemoryError)"
        connection.send(answer)


class _Parser:
    """One parser child and the server's end of its pipe (started when first needed)."""

    def __init__(self, context, memory: int):
        self.context, self.memory = context, memory
        self.process = self.connection = None

    def start(self) -> None:
        ours, theirs = self.context.Pipe()
        self.process = self.context.Process(target=_serve, args=(theirs, self.memory), name='upload-parser',
                                            daemon=True)
        self.process.start()
        theirs.close()
        self.connection = ours

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join(5)
            self.connection.close()
        self.process = self.connection = None

    def parse(self, name: str, text: str, timeout: float, required=None):
        if self.process is None or not self.process.is_alive():
            self.stop()
            self.start()
        try:
            self.connection.send((name, text, required))
            if self.connection.poll(timeout):
                return self.connection.recv()
        except (EOFError, OSError):  # the child died (out of memory): a new one next time
            self.stop()
            return f"'{name}' cannot be parsed (it needs too much memory)"
        self.stop()
        return (f"'{name}' takes too long to parse (more than {timeout:g} s); a solution.py parses in "
                f"a fraction of a second")


class ParserPool:
    """Parse uploads in ``workers`` child processes (0: in the calling thread, for tests and tools)."""

    def __init__(self, workers: int = 1, waiting: int = 4, timeout: float = 10.0, memory: int = PARSER_MEMORY):
        context = multiprocessing.get_context('spawn')
        self.workers, self.waiting, self.timeout = workers, max(0, waiting), timeout
        self.parsers = [_Parser(context, memory) for _ in range(workers)]
        self.idle = queue.Queue()
        for parser in self.parsers:
            self.idle.put(parser)
        self.places = threading.BoundedSemaphore(workers + self.waiting) if workers else None
        self._busy, self._lock = 0, threading.Lock()

    @property
    def busy(self) -> int:
        """Uploads being parsed or waiting for a parser now."""
        return self._busy

    def refusal(self, name: str, text: str, required=None):
        """Why the upload cannot be accepted (None when it parses and has what ``required`` asks for: a
        list of what it lacks otherwise, see ``check_source``); raises ParserBusy when all places are taken."""
        if not self.workers:
            return check_source(name, text, required)
        if not self.places.acquire(blocking=False):
            raise ParserBusy()
        with self._lock:
            self._busy += 1
        try:
            try:
                parser = self.idle.get(timeout=self.timeout * (self.waiting + 1))  # each parse ends by then
            except queue.Empty:
                raise ParserBusy() from None
            try:
                return parser.parse(name, text, self.timeout, required)
            finally:
                self.idle.put(parser)
        finally:
            with self._lock:
                self._busy -= 1
            self.places.release()

    def close(self) -> None:
        """Stop the children (a later parse starts them again)."""
        for parser in self.parsers:
            parser.stop()

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
"""
import multiprocessing
import os
import queue
import threading
from typing import Optional

PARSER_MEMORY = 1 << 30      # address space of a parser child (the worst 1 MiB file needs about 600 MB)


class ParserBusy(Exception):
    """Every parser is busy and the waiting places are taken: try again shortly."""


def parse_refusal(name: str, text: str) -> Optional[str]:
    """Why ``text`` is not acceptable Python source (a message for the student), None when it compiles."""
    try:
        # compile() to bytecode parses without building ast objects: CPython 3.11's ast.parse is not safe
        # in several threads at once ("AST constructor recursion depth mismatch"). Nothing is executed.
        compile(text, name, 'exec', dont_inherit=True)
    except SyntaxError as error:
        return (f"'{name}' does not parse: SyntaxError: {error.msg} (line {error.lineno}); "
                f"run it once yourself before uploading")
    except (RecursionError, MemoryError, ValueError, OverflowError) as error:
        return f"'{name}' cannot be parsed ({type(error).__name__})"
    return None


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
    """The child's loop: (name, text) in, the refusal (or None) out, until the pipe closes."""
    _limit_child(memory)
    while True:
        try:
            name, text = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = parse_refusal(name, text)
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

    def parse(self, name: str, text: str, timeout: float) -> Optional[str]:
        if self.process is None or not self.process.is_alive():
            self.stop()
            self.start()
        try:
            self.connection.send((name, text))
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

    def refusal(self, name: str, text: str) -> Optional[str]:
        """Why the upload cannot be accepted (None when it parses); raises ParserBusy when all places are taken."""
        if not self.workers:
            return parse_refusal(name, text)
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
                return parser.parse(name, text, self.timeout)
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

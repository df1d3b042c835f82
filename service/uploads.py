"""What an upload must be before it is stored and queued: one ``.py`` file, UTF-8, at most
1 MiB, that parses. The check only compiles the file (never runs it); nothing uploaded is executed
in the server's process.
"""
import hashlib
from dataclasses import dataclass
from typing import Optional

from service.config import MAX_UPLOAD_BYTES


class UploadRefused(Exception):
    """Why an upload was not accepted (shown to the student as is); ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content: bytes
    sha256: str


def check_upload(filename: Optional[str], content: bytes) -> CheckedUpload:
    """The upload if it is acceptable; raises UploadRefused with a clear message otherwise."""
    name = (filename or '').replace('\\', '/').rsplit('/', 1)[-1]
    if not name:
        raise UploadRefused("no file was chosen: upload your solution.py")
    if not name.endswith('.py'):
        raise UploadRefused(f"'{name}' is not a Python file: upload your solution.py")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"'{name}' has {len(content):,} bytes; at most {MAX_UPLOAD_BYTES:,} (1 MiB) are accepted",
                            413)
    if not content.strip():
        raise UploadRefused(f"'{name}' is empty")
    if b'\0' in content:
        raise UploadRefused(f"'{name}' is a binary file, not Python source")
    try:
        text = content.decode('utf-8')
    except UnicodeDecodeError as error:
        raise UploadRefused(f"'{name}' is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    try:
        # compile() to bytecode parses without building ast objects: CPython 3.11's ast.parse is not safe
        # in several threads at once ("AST constructor recursion depth mismatch"). Nothing is executed.
        compile(text, name, 'exec', dont_inherit=True)
    except SyntaxError as error:
        raise UploadRefused(f"'{name}' does not parse: SyntaxError: {error.msg} (line {error.lineno}); "
                            f"run it once yourself before uploading") from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise UploadRefused(f"'{name}' cannot be parsed ({type(error).__name__})") from None
    return CheckedUpload(name, content, hashlib.sha256(content).hexdigest())

"""What an upload must be before it is stored and queued: one ``.py`` file, UTF-8 (a byte-order
mark is allowed and dropped, as Python itself allows it), at most 1 MiB, that parses.

The cheap checks (name, size, text) come first and need nothing but the bytes; the parse is costly
and runs after the per-student limits, in the server's parser processes (``service.parsing``). The
check only compiles the file (never runs it); nothing uploaded is executed in the server's process.

The file name is kept only in a safe form (letters, digits, ``.``, ``-``, ``_``, spaces), so it
can be shown on pages and in a download's ``Content-Disposition`` header as it is.
"""
import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Optional
from urllib.parse import quote

from service.config import MAX_UPLOAD_BYTES
from service.parsing import parse_refusal

MAX_NAME_LENGTH = 100


class UploadRefused(Exception):
    """Why an upload was not accepted (shown to the student as is); ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 422, missing: Optional[list] = None):
        super().__init__(message)
        self.message, self.status = message, status
        self.missing = missing  # what the file lacks of the assignment's interface (the pre-flight check)


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content: bytes      # as uploaded, without a UTF-8 byte-order mark
    sha256: str


@dataclass(frozen=True)
class UploadText:
    """An upload that passed the cheap checks: its safe name, its bytes (no BOM) and its text."""
    filename: str
    content: bytes
    text: str

    def checked(self) -> CheckedUpload:
        return CheckedUpload(self.filename, self.content, hashlib.sha256(self.content).hexdigest())


def safe_filename(name: Optional[str]) -> str:
    """The base name of an uploaded file as it is stored and shown: any character but a letter, a
    digit, ``.``, ``-``, ``_`` or a space becomes ``_`` (quotes, ``;``, ``%``, line breaks, controls),
    no leading dots or spaces, at most 100 characters with the extension kept."""
    base = unicodedata.normalize('NFC', (name or '').replace('\\', '/').rsplit('/', 1)[-1])
    cleaned = ''.join(c if c.isalnum() or c in '.-_ ' else '_' for c in base).strip(' .')
    if len(cleaned) > MAX_NAME_LENGTH:
        stem, dot, extension = cleaned.rpartition('.')
        extension = extension[:10] if dot else ''
        cleaned = stem[:MAX_NAME_LENGTH - len(extension) - 1] + '.' + extension if dot else cleaned[:MAX_NAME_LENGTH]
    return cleaned


def attachment_header(name: str) -> str:
    """``Content-Disposition`` of a download named ``name`` (RFC 6266): an ASCII fallback ``filename``
    and the name itself as ``filename*=UTF-8''...`` (RFC 5987 percent-encoding)."""
    fallback = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode('ascii')
    fallback = re.sub(r'[^A-Za-z0-9._-]', '_', fallback).strip('.') or 'download'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def precheck_upload(filename: Optional[str], content: bytes) -> UploadText:
    """The cheap checks (no parse); raises UploadRefused with a clear message."""
    name = safe_filename(filename)
    if not name:
        raise UploadRefused("no file was chosen: upload your solution.py")
    if not name.endswith('.py'):
        raise UploadRefused(f"'{name}' is not a Python file: upload your solution.py")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"'{name}' has {len(content):,} bytes; at most {MAX_UPLOAD_BYTES:,} (1 MiB) are accepted",
                            413)
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8):]  # Python runs such a file; the grader gets it without the mark
    if not content.strip():
        raise UploadRefused(f"'{name}' is empty")
    if b'\0' in content:
        raise UploadRefused(f"'{name}' is a binary file, not Python source")
    try:
        text = content.decode('utf-8')
    except UnicodeDecodeError as error:
        raise UploadRefused(f"'{name}' is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    return UploadText(name, content, text)


def check_upload(filename: Optional[str], content: bytes, parse=parse_refusal) -> CheckedUpload:
    """The upload if it is acceptable (parsed in this thread unless ``parse`` says otherwise);
    raises UploadRefused with a clear message otherwise."""
    upload = precheck_upload(filename, content)
    refusal = parse(upload.filename, upload.text)
    if refusal:
        raise UploadRefused(refusal)
    return upload.checked()

"""The library's status codes as exceptions, each carrying its one-line message."""


class Error(Exception):
    """A shardload call failed: .code (the sl_status value), .status (its
    name, "SL_EFORMAT") and the library's one-line message naming the file."""

    code = -1
    status = "SL_E?"

    def __init__(self, message, code=None, status=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    """SL_EINVAL: an argument or option the library refused."""


class OutOfMemoryError(Error, MemoryError):
    """SL_ENOMEM."""


class IOFailedError(Error, OSError):
    """SL_EIO: a read or write failed (the message names the file)."""

    def __init__(self, message, code=None, status=None):
        Error.__init__(self, message, code, status)
        self.args = (message,)

    def __str__(self):
        return self.message


class FormatError(Error):
    """SL_EFORMAT: a bad or unsupported file."""


class LayoutError(Error):
    """SL_ELAYOUT: shards that do not agree (dtype, trailing shape)."""


class NotSupportedError(Error, NotImplementedError):
    """SL_ENOTSUP: not in this build (the message says which option adds it)."""


class PeerError(Error):
    """SL_EPEER: ranks disagree."""


class NotFoundError(IOFailedError):
    """SL_ENOENT: no such file or directory."""


class VerifyError(Error):
    """SL_EVERIFY: verification found a wrong row."""


class ChangedError(Error):
    """SL_ECHANGED: a file changed since the dataset was opened."""


BY_CODE = {1: InvalidArgumentError, 2: OutOfMemoryError, 3: IOFailedError, 4: FormatError,
           5: LayoutError, 6: NotSupportedError, 7: PeerError, 8: NotFoundError,
           9: VerifyError, 10: ChangedError}


def raise_for(code, err):
    """Raises the exception of a non-zero status with the sl_error's message."""
    from ._lib import lib
    status = lib.sl_status_name(code).decode()
    msg = err.message.decode(errors="replace") or lib.sl_strerror(code).decode()
    raise BY_CODE.get(code, Error)(msg, code, status)

"""SCPI errors: the exception handlers raise and the standard codes of SCPI-99 / IEEE 488.2."""

from __future__ import annotations

#: Standard messages of the codes the framework and the mocks use.
STANDARD_MESSAGES: dict[int, str] = {
    0: "No error",
    -100: "Command error",
    -101: "Invalid character",
    -102: "Syntax error",
    -103: "Invalid separator",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -114: "Header suffix out of range",
    -120: "Numeric data error",
    -121: "Invalid character in number",
    -131: "Invalid suffix",
    -151: "Invalid string data",
    -160: "Block data error",
    -161: "Invalid block data",
    -200: "Execution error",
    -221: "Settings conflict",
    -222: "Data out of range",
    -223: "Too much data",
    -224: "Illegal parameter value",
    -300: "Device-specific error",
    -350: "Queue overflow",
    -400: "Query error",
    -410: "Query INTERRUPTED",
    -420: "Query UNTERMINATED",
}


class ScpiError(Exception):
    """An SCPI error: ``code`` (negative for standard errors) and a short ``message``.

    ``detail`` (optional) is appended after a ';' in the error queue, as SCPI allows.
    """

    def __init__(self, code: int, message: str | None = None, detail: str | None = None) -> None:
        if message is None:
            message = STANDARD_MESSAGES.get(code, "Error")
        self.code = code
        self.message = message
        self.detail = _printable(detail) if detail else detail
        super().__init__(self.queue_text())

    def queue_text(self) -> str:
        """The text stored in the error queue: message plus optional ';detail'."""
        return f"{self.message};{self.detail}" if self.detail else self.message

    def __str__(self) -> str:
        return f'{self.code},"{self.queue_text()}"'

    # Standard constructors -------------------------------------------------------------
    @classmethod
    def standard(cls, code: int, detail: str | None = None) -> ScpiError:
        """The error ``code`` with its standard message."""
        return cls(code, STANDARD_MESSAGES[code], detail)

    @classmethod
    def command_error(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-100, detail)

    @classmethod
    def syntax_error(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-102, detail)

    @classmethod
    def data_type_error(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-104, detail)

    @classmethod
    def parameter_not_allowed(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-108, detail)

    @classmethod
    def missing_parameter(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-109, detail)

    @classmethod
    def undefined_header(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-113, detail)

    @classmethod
    def suffix_out_of_range(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-114, detail)

    @classmethod
    def numeric_data_error(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-120, detail)

    @classmethod
    def invalid_suffix(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-131, detail)

    @classmethod
    def invalid_string(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-151, detail)

    @classmethod
    def invalid_block(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-161, detail)

    @classmethod
    def execution_error(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-200, detail)

    @classmethod
    def settings_conflict(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-221, detail)

    @classmethod
    def out_of_range(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-222, detail)

    @classmethod
    def too_much_data(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-223, detail)

    @classmethod
    def illegal_value(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-224, detail)

    @classmethod
    def device_error(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-300, detail)

    @classmethod
    def queue_overflow(cls) -> ScpiError:
        return cls.standard(-350)

    @classmethod
    def query_interrupted(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-410, detail)

    @classmethod
    def query_unterminated(cls, detail: str | None = None) -> ScpiError:
        return cls.standard(-420, detail)


def esr_bit(code: int) -> int:
    """The *ESR bit an error sets: command 5, execution 4, device-specific 3, query 2."""
    if -199 <= code <= -100:
        return 1 << 5
    if -299 <= code <= -200:
        return 1 << 4
    if -499 <= code <= -400:
        return 1 << 2
    if code == 0:
        return 0
    return 1 << 3  # -300..-399 and positive (device-defined) codes


_DETAIL_MAX = 48


def _printable(text: str) -> str:
    """Error-queue detail as the instrument would show it: printable ASCII, no quotes, short."""
    text = text[: _DETAIL_MAX + 1]  # never walk a long text (a header can be ~1 MB)
    clean = "".join(c if " " <= c <= "~" and c != '"' else "?" for c in text)
    return clean if len(clean) <= _DETAIL_MAX else clean[: _DETAIL_MAX - 3] + "..."

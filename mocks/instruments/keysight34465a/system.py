"""Display and system commands of the 34465A mock (DISPlay..., SYSTem:..., *OPT?)."""

from __future__ import annotations

from dotstack.mocks.instruments.keysight34465a.base import DmmBase
from dotstack.mocks.instruments.keysight34465a.functions import nr1
from dotstack.mocks.scpi import Call, ScpiError, command
from dotstack.mocks.scpi.handlers import commands, format_bool

_DISPLAY_TEXT_MAX = 40  # characters


class SystemCommands(DmmBase):
    """Front-panel display state and text, line frequency, installed options and licenses."""

    @commands(["DISPlay[:STATe]", "DISPlay[:STATe]?"])
    def _display(self, call: Call) -> str | None:
        if call.is_query:
            return format_bool(self.display_on)
        self.display_on = call.bool(0)
        return None

    @commands(["DISPlay:TEXT[:DATA]", "DISPlay:TEXT[:DATA]?"])
    def _text(self, call: Call) -> str | None:
        if call.is_query:
            return '"' + self.display_text.replace('"', '""') + '"'
        text = call.string(0)
        if len(text) > _DISPLAY_TEXT_MAX:
            raise ScpiError.too_much_data(
                f"display text of {len(text)} characters (max {_DISPLAY_TEXT_MAX})")
        self.display_text = text
        return None

    @command("DISPlay:TEXT:CLEar")
    def _clear_text(self, call: Call) -> None:
        self.display_text = ""

    @command("SYSTem:LFRequency?")
    def _get_lfr(self, call: Call) -> str:
        return nr1(round(self.line_frequency))

    @command("*OPT?")
    def _get_options(self, call: Call) -> str:
        call.allow(0)
        return ",".join(self.installed_options) or "0"

    @command("SYSTem:LICense:CATalog?")
    def _get_licenses(self, call: Call) -> str:
        return ",".join(f'"{o}"' for o in self.installed_options) or '""'

"""Pulse language and compiler: schedules in gate names, volts and seconds -> per-instrument programs. Pure: no I/O."""

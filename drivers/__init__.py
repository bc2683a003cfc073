"""Instrument drivers: DACs, AWGs, digitizers and DC readout, each filling a small role protocol."""

"""Fits of the standard DC experiments: pure functions of numpy arrays, SI units."""

from dotstack.experiments.fits.coulomb import SensorFit, fit_sensor_peaks
from dotstack.experiments.fits.peakshift import PeakShiftFit, fit_peak_shift, track_peak
from dotstack.experiments.fits.pinchoff import PinchOffFit, fit_pinchoff
from dotstack.experiments.fits.stability import StabilityFit, fit_charge_stability

__all__ = [
    "PeakShiftFit",
    "PinchOffFit",
    "SensorFit",
    "StabilityFit",
    "fit_charge_stability",
    "fit_peak_shift",
    "fit_pinchoff",
    "fit_sensor_peaks",
    "track_peak",
]

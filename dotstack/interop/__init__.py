"""Interoperability with other lab software.  QCoDeS: runs to and from QCoDeS datasets.

`to_qcodes` (a run into a QCoDeS sqlite database), `qcodes_xarray` / `to_qcodes_netcdf` (a run
as QCoDeS's netcdf export layout, loadable by `qcodes.dataset.load_from_netcdf`) and
`from_qcodes` (a QCoDeS dataset into a new run store).  Gates and readouts as QCoDeS
Parameters, for ``dond``: `dotstack.qcodes_params`.
"""

from dotstack.interop.qcodes_export import qcodes_xarray, to_qcodes, to_qcodes_netcdf
from dotstack.interop.qcodes_import import from_qcodes

__all__ = ["from_qcodes", "qcodes_xarray", "to_qcodes", "to_qcodes_netcdf"]

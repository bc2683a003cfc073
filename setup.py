"""Package layout: the import package `dotstack` maps its subpackages to top-level folders.

`dotstack.drivers` lives in `drivers/`, `dotstack.sequencer` in `sequencer/`, and so on, so a
user's own folder named `experiments/` never shadows ours.  setuptools' `find` cannot follow a
`package-dir` mapping, so the package list is computed here from the folders.
"""

from setuptools import find_packages, setup

ROOTS = {
    "dotstack": "dotstack",
    "dotstack.drivers": "drivers",
    "dotstack.sequencer": "sequencer",
    "dotstack.experiments": "experiments",
    "dotstack.mocks": "mocks",
}

packages = []
for package, folder in ROOTS.items():
    packages.append(package)
    packages.extend(f"{package}.{sub}" for sub in find_packages(folder))

setup(packages=packages, package_dir=ROOTS)

"""pip install . (offline: pip install --no-build-isolation . inside a venv made
with --system-site-packages, as `make python` does).

The extension seqnet._seqnet is built by CMake (python/CMakeLists.txt) in
the build directory SEQNET_BUILD_DIR (default: build/ beside this file, the
one `make` uses, so that an existing build is reused); the pure-Python
package is python/seqnet.
"""

import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
# setuptools' own build files (setup.cfg) go under build/, beside CMake's.
os.makedirs(os.path.join(ROOT, "build", "setuptools"), exist_ok=True)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.abspath(os.environ.get("SEQNET_BUILD_DIR", os.path.join(ROOT, "build")))
        jobs = os.environ.get("SEQNET_JOBS", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                               "-DSEQNET_BUILD_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}"],
                              stdout=subprocess.DEVNULL)
        subprocess.check_call(["cmake", "--build", build_dir, "-j", jobs, "--target", "_seqnet"])
        built = glob.glob(os.path.join(build_dir, "python", "seqnet", "_seqnet*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one built _seqnet module in {build_dir}/python/seqnet, found {built}")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built[0], target)


setup(
    name="seqnet",
    version="0.1.0",
    description="Recurrent sequence models (LSTM, GRU, SimpleRNN) with a Keras API on a C++ core",
    package_dir={"": "python"},
    packages=["seqnet", "seqnet.keras", "seqnet.keras.datasets", "seqnet.keras.preprocessing"],
    ext_modules=[Extension("seqnet._seqnet", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    install_requires=["numpy"],
    zip_safe=False,
)

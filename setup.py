"""pip packaging: `pip install .` builds the op library with Bazel and ships it.

There is one build path for the C++ library: Bazel (see BUILD files and .bazelrc). This
file only runs it and copies `_compression_ops.so` and the TensorFlow version it was
compiled against into the package. TensorFlow itself is pinned in requirements.txt.
"""

import os
import shutil
import subprocess

from setuptools import find_packages
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))
LIBRARY_FILES = ("_compression_ops.so", "_compression_ops.tf_version")


class BuildPyWithBazel(build_py):
  """Builds //compression:all with Bazel, then adds the op library to the package."""

  def run(self):
    super().run()
    subprocess.check_call(["bazel", "build", "//compression:all"], cwd=ROOT)
    target = os.path.join(self.build_lib, "compression")
    os.makedirs(target, exist_ok=True)
    for name in LIBRARY_FILES:
      shutil.copyfile(os.path.join(ROOT, "bazel-bin", "compression", name),
                      os.path.join(target, name))


setup(
    name="learned-compression",
    version="0.1.0",
    description="Range coding ops and learned entropy models for TensorFlow graphs.",
    packages=find_packages(include=["compression", "compression.*"]),
    package_data={"compression": list(LIBRARY_FILES)},
    python_requires=">=3.10",
    install_requires=["numpy", "scipy", "absl-py"],
    extras_require={"examples": ["pillow", "matplotlib"]},
    cmdclass={"build_py": BuildPyWithBazel},
    entry_points={
        "console_scripts": ["mnist-compression=compression.examples.mnist.commands:main"],
    },
)

"""Repository rule that finds the installed TensorFlow through $PYTHON_BIN_PATH, or
else the `python3` on PATH (setup.py sets PYTHON_BIN_PATH to the interpreter pip runs
it with, so `pip install .` needs no activated environment).

It asks `tf.sysconfig` for the header directory, the library directory, the compile
flags and the version, then exposes:

  @local_tensorflow//:tf_headers     headers plus TensorFlow's compile defines
  @local_tensorflow//:tf_framework   libtensorflow_framework.so.2 to link against
  @local_tensorflow//:tf_version.txt the "major.minor.patch" version compiled against

The TensorFlow found must have the major.minor version pinned in requirements.txt;
the build fails otherwise. Nothing is fetched and no path is fixed: another
PYTHON_BIN_PATH or another virtual environment first on PATH gives another repository
(Bazel re-runs this rule when either changes).
"""

_QUERY = """
import json, tensorflow as tf
print(json.dumps({
    "include": tf.sysconfig.get_include(),
    "lib": tf.sysconfig.get_lib(),
    "cflags": tf.sysconfig.get_compile_flags(),
    "lflags": tf.sysconfig.get_link_flags(),
    "version": tf.__version__,
}))
"""

def _pinned_minor_version(ctx):
    """The "major.minor" of the tensorflow pin in //:requirements.txt, or None."""
    for line in ctx.read(ctx.attr.requirements).splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("tensorflow") and "==" in line:
            return ".".join(line.split("==")[1].split(".")[:2])
    return None

def _check_pinned_version(ctx, version, python):
    pinned = _pinned_minor_version(ctx)
    found = ".".join(version.split(".")[:2])
    if pinned != None and pinned != found:
        fail(("`%s` has TensorFlow %s, but requirements.txt pins %s.*: the op library " +
              "must be built against the TensorFlow that will load it. Install the " +
              "pinned version (pip install -r requirements.txt) or change the pin.") %
             (python, version, pinned))

def _tf_configure_impl(ctx):
    python = ctx.os.environ.get("PYTHON_BIN_PATH", "")
    if python == "":
        python = ctx.which("python3")
    if python == None:
        fail("No python3 on PATH and no PYTHON_BIN_PATH: activate the virtual " +
             "environment that has TensorFlow (scripts/setup.sh creates .venv), or " +
             "set PYTHON_BIN_PATH to its python.")
    result = ctx.execute(
        [python, "-c", _QUERY],
        environment = {"TF_CPP_MIN_LOG_LEVEL": "3"},
        quiet = True,
    )
    if result.return_code != 0:
        lines = [l for l in result.stderr.strip().splitlines() if l.strip()]
        fail(("`%s` cannot import tensorflow (%s). Bazel compiles against the " +
              "TensorFlow of $PYTHON_BIN_PATH, else of the python3 first on PATH: " +
              "activate the virtual environment that has TensorFlow (scripts/setup.sh " +
              "creates .venv), set PYTHON_BIN_PATH to its python, or install the " +
              "pinned TensorFlow there (`%s -m pip install -r requirements.txt`).") %
             (python, lines[-1] if lines else "exit status %d" % result.return_code,
              python))
    info = json.decode(result.stdout.strip().splitlines()[-1])
    _check_pinned_version(ctx, info["version"], python)
    ctx.symlink(info["include"], "include")
    library = None
    for flag in info["lflags"]:
        if flag.startswith("-l:"):
            library = flag[3:]
    if library == None:
        fail("tf.sysconfig.get_link_flags() names no framework library: %s" % info["lflags"])
    ctx.symlink(info["lib"] + "/" + library, library)
    defines = [f[2:] for f in info["cflags"] if f.startswith("-D")]
    ctx.file("tf_version.txt", info["version"] + "\n")
    ctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "tf_headers",
    hdrs = glob(["include/**/*.h", "include/**/*.inc", "include/**"], exclude = ["include/**/*.py"]),
    includes = ["include"],
    defines = {defines},
)

cc_library(
    name = "tf_framework",
    srcs = ["{library}"],
)

exports_files(["tf_version.txt"])
""".format(defines = repr(defines), library = library))

tf_configure = repository_rule(
    implementation = _tf_configure_impl,
    attrs = {"requirements": attr.label(default = "//:requirements.txt")},
    environ = ["PATH", "VIRTUAL_ENV", "PYTHON_BIN_PATH"],
    local = True,
)

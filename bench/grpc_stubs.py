"""Python stubs of proto/*.proto for the bench scripts that talk to
`fleetsim serve`: generated into a scratch folder with Debian's protoc and
grpc_python_plugin, which is put on sys.path (`from proto import ...`)."""

import glob
import os
import subprocess
import sys
import tempfile


def generate(root):
    """Generates the stubs of root/proto/*.proto; returns the folder."""
    out = tempfile.mkdtemp(prefix="fleetsim_stubs_")
    subprocess.run(
        ["protoc", "-I", root, f"--python_out={out}", f"--grpc_python_out={out}",
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] +
        [os.path.relpath(p, root) for p in glob.glob(f"{root}/proto/*.proto")],
        check=True, cwd=root)
    sys.path.insert(0, out)
    return out

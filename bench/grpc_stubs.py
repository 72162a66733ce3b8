"""Python stubs of proto/fleetsim/v1/*.proto for the bench scripts that talk
to `fleetsim serve`: fleetsim's client package (clients/python, its
generate_stubs.py: Debian's protoc and grpc_python_plugin) generated into a
scratch folder, which is put on sys.path (`from fleetsim.v1 import ...`)."""

import os
import sys
import tempfile


def generate(root):
    """Generates the package from root/proto (fleetsim/v1/*.proto); returns
    the folder."""
    sys.path.insert(0, os.path.join(root, "clients", "python"))
    sys.dont_write_bytecode = True  # nothing written into the source tree
    import generate_stubs
    sys.dont_write_bytecode = False
    sys.path.pop(0)
    out = tempfile.mkdtemp(prefix="fleetsim_stubs_")
    generate_stubs.generate(os.path.join(root, "proto"), out)
    sys.path.insert(0, out)
    return out

"""Build hook for whippet-client: generates the whippet.v1 gRPC stubs.

The stubs are compiled with grpc_tools.protoc from the repository's
``proto/whippet/v1/*.proto`` (two levels above this file) every time the
package is built, and are never committed. They go to
``whippet_client/_proto/whippet/v1/`` -- in the build directory for a normal
install, in ``src/`` for an editable one -- and their imports are rewritten
from ``from whippet.v1 import records_pb2`` (protoc's import by proto path)
to ``from whippet_client._proto.whippet.v1 import records_pb2``, so that no
top-level ``whippet`` package is installed. The descriptors keep their
canonical file names (``whippet/v1/records.proto``) and the services their
full names (``/whippet.v1.ProducerService/...``).

Set WHIPPET_PROTO_DIR to a directory holding ``whippet/v1/*.proto`` to build
from elsewhere than a Whippet checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
PROTO_SUBDIR = Path("whippet") / "v1"
GENERATED_PACKAGE = "whippet_client._proto"
GENERATED_DIR = Path("whippet_client") / "_proto"
# protoc imports a dependency by its proto path; these are the proto path's
# top-level names that must be moved under GENERATED_PACKAGE.
PROTO_TOP_LEVEL = "whippet"

_IMPORT = re.compile(rf"^(\s*)(from|import)(\s+){PROTO_TOP_LEVEL}(?=[.\s])", re.MULTILINE)


def find_protos() -> tuple[Path, list[Path]]:
    """The include root and the .proto files under it, or a clear error."""
    override = os.environ.get("WHIPPET_PROTO_DIR")
    root = Path(override).resolve() if override else (HERE / ".." / ".." / "proto").resolve()
    protos = sorted((root / PROTO_SUBDIR).glob("*.proto"))
    if not protos:
        raise RuntimeError(
            f"whippet-client: no .proto files in {root / PROTO_SUBDIR}. The stubs are generated "
            "at build time from the Whippet repository's proto/whippet/v1/*.proto, two levels "
            "above clients/python: build from a Whippet checkout (pip install clients/python), "
            "or set WHIPPET_PROTO_DIR to a directory that holds whippet/v1/*.proto."
        )
    return root, protos


def rewrite_imports(source: str) -> str:
    """``from whippet.v1 import x`` -> ``from whippet_client._proto.whippet.v1 import x``."""
    return _IMPORT.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{GENERATED_PACKAGE}.{PROTO_TOP_LEVEL}", source
    )


def generate_stubs(target: Path) -> list[Path]:
    """Compiles the protos into ``target`` (wiped first); returns the files written."""
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError as error:  # pragma: no cover - build isolation installs it
        raise RuntimeError(
            "whippet-client: grpcio-tools is needed to build (it is in pyproject.toml's "
            "build-system.requires; with --no-build-isolation install it first)"
        ) from error

    root, protos = find_protos()
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    with tempfile.TemporaryDirectory(prefix="whippet-protoc-") as scratch:
        arguments = [
            "grpc_tools.protoc",
            f"--proto_path={root}",
            f"--proto_path={well_known}",
            f"--python_out={scratch}",
            f"--pyi_out={scratch}",
            f"--grpc_python_out={scratch}",
            *[str(proto) for proto in protos],
        ]
        if protoc.main(arguments) != 0:
            raise RuntimeError(f"whippet-client: grpc_tools.protoc failed on {root / PROTO_SUBDIR}")

        if target.exists():
            shutil.rmtree(target)
        written: list[Path] = []
        generated_root = Path(scratch)
        for source in sorted(generated_root.rglob("*")):
            if source.is_dir() or source.suffix not in (".py", ".pyi"):
                continue
            destination = target / source.relative_to(generated_root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            text = rewrite_imports(source.read_text(encoding="utf-8"))
            leftover = re.search(rf"^\s*(from|import)\s+{PROTO_TOP_LEVEL}[.\s]", text, re.MULTILINE)
            if leftover:
                raise RuntimeError(
                    f"whippet-client: {source.name} still imports {leftover.group(0).strip()!r} "
                    "after rewriting; the generated code's import form changed"
                )
            destination.write_text(text, encoding="utf-8")
            written.append(destination)
        if not written:
            raise RuntimeError("whippet-client: grpc_tools.protoc produced no Python modules")

    # Packages all the way down, each marked as generated.
    for directory in [target, *sorted({p.parent for p in written})]:
        while True:
            init = directory / "__init__.py"
            if not init.exists():
                init.write_text('"""Generated by setup.py from proto/; do not edit."""\n', encoding="utf-8")
                written.append(init)
            if directory == target:
                break
            directory = directory.parent
    return written


class BuildPyWithStubs(build_py):
    """build_py that also generates the gRPC stubs (see the module docstring)."""

    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            # An in-tree build reuses build/lib: start clean so that a module
            # deleted from src/ does not linger in the wheel.
            shutil.rmtree(Path(self.build_lib) / "whippet_client", ignore_errors=True)
        super().run()  # returns at once in editable mode
        if getattr(self, "editable_mode", False):
            # The editable install imports straight from src/.
            generate_stubs(HERE / "src" / GENERATED_DIR)
            self._generated: list[str] = []
        else:
            self._generated = [str(p) for p in generate_stubs(Path(self.build_lib) / GENERATED_DIR)]

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return super().get_outputs(include_bytecode) + list(getattr(self, "_generated", []))


def runtime_requirements() -> list[str]:
    """grpcio and protobuf new enough for the stubs this build generates.

    Stubs from grpcio-tools X refuse to load under grpcio older than X, and
    protobuf's generated code needs a runtime at least as new as protoc's
    (grpcio-tools' own protobuf requirement says which).
    """
    try:
        tools_version = metadata.version("grpcio-tools")
        requires = metadata.requires("grpcio-tools") or []
    except metadata.PackageNotFoundError:
        return ["grpcio", "protobuf"]
    protobuf = next(
        (r.split(";")[0].strip() for r in requires if re.match(r"protobuf\b", r) and ";" not in r),
        "protobuf",
    )
    return [f"grpcio>={tools_version}", protobuf]


setup(
    cmdclass={"build_py": BuildPyWithStubs},
    install_requires=runtime_requirements(),
)

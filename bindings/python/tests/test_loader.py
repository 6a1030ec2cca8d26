"""Finding and checking the library, and the ctypes declarations against include/odp.h."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import libodp
from libodp import _native

from conftest import REPO

HEADER = REPO / "include" / "odp.h"
PACKAGE = Path(libodp.__file__).resolve().parent
LIBRARY = Path(libodp.library_path()).resolve()

needs_header = pytest.mark.skipif(not HEADER.is_file(), reason="include/odp.h not found")


def header_functions() -> Dict[str, Tuple[str, List[str]]]:
    """name -> (return type, parameter types), for every function declared in odp.h."""
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    found = {}
    pattern = r"^([A-Za-z_][\w \*]*?)\s*\b(odp_\w+)\(([^)]*)\);"
    for returns, name, params in re.findall(pattern, text, flags=re.M):
        params = " ".join(params.split())
        types = [] if params == "void" else [strip_name(p) for p in params.split(",")]
        found[name] = (" ".join(returns.split()), types)
    return found


def strip_name(param: str) -> str:
    """``"const char *config_json"`` -> ``"const char *"``."""
    param = param.strip()
    return re.sub(r"\s*\b\w+$", "", param).replace(" *", "*").replace("*", " *").strip()


C = ctypes
C_TYPES = {
    "int": C.c_int,
    "uint32_t": C.c_uint32,
    "size_t": C.c_size_t,
    "const char *": C.c_char_p,
    "char *": C.c_char_p,
    "void *": C.c_void_p,
    "struct OdpClient *": C.c_void_p,
    "struct OdpClient * *": C.POINTER(C.c_void_p),
    "struct OdpStats *": C.POINTER(_native.OdpStats),
    "OdpLogCallback": _native.LOG_CALLBACK,
}


@needs_header
def test_every_function_of_the_header_is_declared():
    functions = header_functions()
    assert len(functions) == 14
    assert set(functions) == set(_native.SIGNATURES)
    for name, (returns, params) in functions.items():
        function = getattr(_native.lib, name)
        assert function.restype is C_TYPES[returns], name
        assert function.argtypes == [C_TYPES[p] for p in params], name


@needs_header
def test_stats_structure_matches_the_header():
    text = HEADER.read_text()
    body = re.search(r"typedef struct OdpStats \{(.*?)\} OdpStats;", text, flags=re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    fields = re.findall(r"uint64_t (\w+);", body)
    assert [name for name, _ in _native.OdpStats._fields_] == fields
    assert ctypes.sizeof(_native.OdpStats) == 8 * len(fields)


@needs_header
def test_result_codes_match_the_header():
    text = HEADER.read_text()
    codes = dict(re.findall(r"^\s*(ODP_(?:OK|ERR_\w+)) = (\d+),", text, flags=re.M))
    assert len(codes) == 17
    for name, number in codes.items():
        assert getattr(_native, name) == int(number), name
        assert _native.result_name(int(number)) == name


def run_python(
    code: str, *, pythonpath: Path, library: Optional[str] = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ODP_LIBRARY_PATH", "PYTHONPATH")}
    env["PYTHONPATH"] = str(pythonpath)
    if library is not None:
        env["ODP_LIBRARY_PATH"] = library
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=str(pythonpath),
    )


def copy_package(site: Path) -> Path:
    """A copy of the package (without any bundled library) under ``site``."""
    target = site / "libodp"
    shutil.copytree(
        PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.dylib", "*.dll")
    )
    return target


PRINT_PATH = "import libodp; print(libodp.library_path())"


def test_odp_library_path_wins(tmp_path):
    site = tmp_path / "site"
    copy_package(site)
    link = tmp_path / "elsewhere" / "libodp-custom.so"
    link.parent.mkdir()
    link.symlink_to(LIBRARY)
    done = run_python(PRINT_PATH, pythonpath=site, library=str(link))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(link)


def test_missing_odp_library_path_is_an_import_error(tmp_path):
    site = tmp_path / "site"
    copy_package(site)
    done = run_python(PRINT_PATH, pythonpath=site, library=str(tmp_path / "nope.so"))
    assert done.returncode != 0
    assert "ImportError: libodp: ODP_LIBRARY_PATH=" in done.stderr
    assert "nope.so" in done.stderr


def test_a_file_that_is_not_a_library(tmp_path):
    site = tmp_path / "site"
    copy_package(site)
    bogus = tmp_path / "libodp.so"
    bogus.write_text("not a shared library")
    done = run_python(PRINT_PATH, pythonpath=site, library=str(bogus))
    assert done.returncode != 0
    assert f"ImportError: libodp: cannot load {bogus}" in done.stderr


def test_bundled_copy_comes_before_the_build_tree(tmp_path):
    site = tmp_path / "site"
    package = copy_package(site)
    (package / LIBRARY.name).symlink_to(LIBRARY)
    (tmp_path / "target" / "release").mkdir(parents=True)
    (tmp_path / "target" / "release" / LIBRARY.name).symlink_to(LIBRARY)
    done = run_python(PRINT_PATH, pythonpath=site)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(package.resolve() / LIBRARY.name)


def test_build_tree_release_then_debug(tmp_path):
    site = tmp_path / "bindings" / "python" / "src"
    copy_package(site)
    debug = tmp_path / "target" / "debug" / LIBRARY.name
    debug.parent.mkdir(parents=True)
    debug.symlink_to(LIBRARY)
    done = run_python(PRINT_PATH, pythonpath=site)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path.resolve() / "target" / "debug" / LIBRARY.name)
    release = tmp_path / "target" / "release" / LIBRARY.name
    release.parent.mkdir()
    release.symlink_to(LIBRARY)
    done = run_python(PRINT_PATH, pythonpath=site)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path.resolve() / "target" / "release" / LIBRARY.name)


def test_not_found_anywhere(tmp_path):
    site = tmp_path / "site"
    copy_package(site)
    done = run_python(PRINT_PATH, pythonpath=site)
    assert done.returncode != 0
    assert "ImportError: libodp: cannot find the shared library" in done.stderr
    assert "ODP_LIBRARY_PATH" in done.stderr
    assert str(site.resolve() / "libodp" / LIBRARY.name) in done.stderr


def compile_fake(tmp_path: Path, source: str) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    c_file = tmp_path / "fake.c"
    c_file.write_text(source)
    library = tmp_path / "fake" / "libodp.so"
    library.parent.mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(library), str(c_file)], check=True)
    return library


def test_another_abi_version_is_refused(tmp_path):
    fake = compile_fake(
        tmp_path,
        "unsigned int odp_abi_version(void) { return 2; }\n"
        'const char *odp_version(void) { return "9.0.0"; }\n',
    )
    site = tmp_path / "site"
    copy_package(site)
    done = run_python(PRINT_PATH, pythonpath=site, library=str(fake))
    assert done.returncode != 0
    assert "has ABI version 2, but this binding was written for ABI version 1" in done.stderr


def test_a_library_missing_functions_is_refused(tmp_path):
    fake = compile_fake(tmp_path, "unsigned int odp_abi_version(void) { return 1; }\n")
    site = tmp_path / "site"
    copy_package(site)
    done = run_python(PRINT_PATH, pythonpath=site, library=str(fake))
    assert done.returncode != 0
    assert "does not export odp_client_new" in done.stderr

"""The distribution installs exactly one import package, ``framegate``, and all of it.

``pyproject.toml`` maps the repository's folders onto ``framegate`` with ``package-dir`` and
lists every package by hand; the fast tests check that list against the folders on disk (a
new subpackage cannot be forgotten), the slow one builds the wheel, installs it into a fresh
virtual environment and runs the command from there.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Where each top-level part of ``framegate`` lives (tests/architecture/sources.py uses the same).
ROOTS = {
    "framegate": "framegate",
    "framegate.schemas": "schemas",
    "framegate.detectors": "detectors",
    "framegate.streams": "streams",
}
COMMANDS = {"worker", "demo", "replay", "tail", "status", "schema", "calibrate", "broker"}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _setuptools() -> dict:
    return _pyproject()["tool"]["setuptools"]


def _folder(package: str, package_dir: dict[str, str]) -> Path:
    """The folder setuptools takes ``package`` from (longest ``package-dir`` prefix wins)."""
    parts = package.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in package_dir:
            return REPO.joinpath(package_dir[prefix], *parts[n:])
    return REPO.joinpath(package_dir.get("", ""), *parts)


def _package_name(folder: Path) -> str:
    for package, root in ROOTS.items():
        if folder.is_relative_to(REPO / root):
            return ".".join([package, *folder.relative_to(REPO / root).parts])
    raise AssertionError(f"{folder} is outside {sorted(ROOTS.values())}")


def _tree(root: Path) -> list[Path]:
    """Folders under ``root``, without caches and hidden ones."""
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        found.append(Path(dirpath))
    return sorted(found)


def _files(root: Path) -> list[Path]:
    return sorted(
        f
        for folder in _tree(root)
        for f in folder.iterdir()
        if f.is_file() and not f.name.startswith(".") and f.suffix not in {".pyc", ".pyo"}
    )


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


# ----------------------------------------------------------------------------- fast


def test_package_dir_maps_the_folders() -> None:
    package_dir = _setuptools().get("package-dir", {})
    for package, root in ROOTS.items():
        assert _folder(package, package_dir) == REPO / root, (
            f"package-dir must map {package!r} to {root!r}, it maps it to "
            f"{_rel(_folder(package, package_dir))!r}"
        )


def test_packages_list_matches_the_folders() -> None:
    """``[tool.setuptools] packages`` lists exactly the folders that hold an __init__.py."""
    settings = _setuptools()
    declared = {_folder(p, settings.get("package-dir", {})): p for p in settings["packages"]}
    on_disk = {
        folder
        for root in ROOTS.values()
        for folder in _tree(REPO / root)
        if (folder / "__init__.py").is_file()
    }
    problems = [
        f"{_rel(f)}/ holds a package missing from the list: add {_package_name(f)!r}"
        for f in sorted(on_disk - declared.keys())
    ] + [
        f"{declared[f]!r} is listed but {_rel(f)}/ holds no __init__.py"
        for f in sorted(declared.keys() - on_disk)
    ]
    assert not problems, "pyproject's packages and the folders differ:\n  " + "\n  ".join(problems)
    assert len(settings["packages"]) == len(declared), "a package is listed twice"


def test_no_namespace_packages() -> None:
    """A folder of modules without __init__.py would be importable here but not shipped."""
    bare = [
        _rel(folder) + "/"
        for root in ROOTS.values()
        for folder in _tree(REPO / root)
        if any(folder.glob("*.py")) and not (folder / "__init__.py").is_file()
    ]
    assert not bare, "folders of modules without __init__.py:\n  " + "\n  ".join(bare)


def test_package_data_covers_every_data_file() -> None:
    """Every file beside the modules (JSON schemas, dashboard) is matched by package-data."""
    settings = _setuptools()
    package_dir = settings.get("package-dir", {})
    matched: set[Path] = set()
    for package, patterns in settings.get("package-data", {}).items():
        assert package in settings["packages"], f"package-data names {package!r}, not a package"
        for pattern in patterns:
            hits = {f for f in _folder(package, package_dir).glob(pattern) if f.is_file()}
            assert hits, f"package-data {package!r}: {pattern!r} matches no file"
            matched |= hits
    data = {f for root in ROOTS.values() for f in _files(REPO / root) if f.suffix != ".py"}
    missing = sorted(_rel(f) for f in data - matched)
    assert not missing, "data files no package-data pattern ships:\n  " + "\n  ".join(missing)


# ----------------------------------------------------------------------------- slow

NETWORK_ERRORS = re.compile(
    r"No matching distribution|Could not find a version|NewConnectionError|"
    r"Temporary failure in name resolution|Network is unreachable|ProxyError"
)


def _backend_installed(requires: list[str]) -> bool:
    """Whether this interpreter already has what [build-system] requires."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - packaging comes with pip's dependencies
        Requirement = None
    for line in requires:
        name = re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]
        if importlib.util.find_spec(name.replace("-", "_")) is None:
            return False
        if Requirement is not None:
            try:
                installed = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                return False
            if not Requirement(line).specifier.contains(installed, prereleases=True):
                return False
    return True


def _run(*command: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def _copy_source(dest: Path) -> Path:
    """What the build reads, copied so that a stale build/ in the repository cannot leak in
    and the build writes nothing into the working tree."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.py", "setup.cfg", "MANIFEST.in"):
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, dest / name)
    for root in ROOTS.values():
        shutil.copytree(REPO / root, dest / root, ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = _copy_source(tmp_path_factory.mktemp("source"))
    requires = _pyproject()["build-system"]["requires"]
    # This interpreter's setuptools when it has one that fits: nothing to download. Else
    # pip's isolated build, which fetches the backend (through pip's cache when offline).
    backend_here = _backend_installed(requires)
    isolation = ["--no-build-isolation"] if backend_here else []
    build = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        *isolation,
        "-w",
        tmp / "dist",
        source,
        cwd=tmp,
    )
    if (
        build.returncode != 0
        and not backend_here
        and NETWORK_ERRORS.search(build.stdout + build.stderr)
    ):
        pytest.skip(f"no {requires} installed here and none could be downloaded for the build")
    assert build.returncode == 0, (
        f"pip wheel failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    )
    (built,) = (tmp / "dist").glob("framegate-*.whl")
    return built


def test_wheel_holds_one_package_and_all_of_it(wheel: Path) -> None:
    names = [n for n in zipfile.ZipFile(wheel).namelist() if not n.endswith("/")]
    top = {n.split("/")[0] for n in names}
    dist_info = {t for t in top if re.fullmatch(r"framegate-[^/]+\.dist-info", t)}
    assert top - dist_info == {"framegate"} and len(dist_info) == 1, (
        f"the wheel must hold framegate/ and its .dist-info only, it holds {sorted(top)}"
    )

    expected = {
        "/".join([*package.split("."), *f.relative_to(REPO / root).parts])
        for package, root in ROOTS.items()
        for f in _files(REPO / root)
    }
    shipped = {n for n in names if n.startswith("framegate/")}
    missing, extra = sorted(expected - shipped), sorted(shipped - expected)
    assert not missing, "files on disk missing from the wheel:\n  " + "\n  ".join(missing)
    assert not extra, "files in the wheel that are not on disk:\n  " + "\n  ".join(extra)
    assert any(re.fullmatch(r"framegate/schemas/json/\w+\.schema\.json", n) for n in shipped)
    assert any(re.fullmatch(r"framegate/streams/(.+/)?dashboard/index\.html", n) for n in shipped)


def test_wheel_installs_and_runs(wheel: Path, tmp_path: Path) -> None:
    """Installed alone (no editable source tree on the path), the command works."""
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    assert made.returncode == 0, f"python -m venv failed:\n{made.stderr}"
    python = venv / "bin" / "python"
    install = _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--quiet",
        wheel,
        cwd=tmp_path,
    )
    assert install.returncode == 0, f"installing the wheel failed:\n{install.stderr[-3000:]}"

    # The dependencies come from this interpreter's site-packages, added as a plain path: a
    # path line in a .pth file does not process that folder's own .pth files, so the
    # editable install of the source tree stays out.
    site = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
    )
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (Path(site.stdout.strip()) / "_framegate_test_deps.pth").write_text("\n".join(ours) + "\n")

    where = _run(
        python,
        "-P",
        "-c",
        "import framegate, importlib.util as u; print(framegate.__file__);"
        "print([m for m in ('schemas', 'detectors', 'streams') if u.find_spec(m)])",
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    location, bare = where.stdout.split("\n")[:2]
    assert Path(location).is_relative_to(venv), f"framegate imported from {location}, not {venv}"
    assert bare == "[]", f"the bare folder names are importable: {bare}"

    for command in ([venv / "bin" / "framegate", "--help"], [python, "-m", "framegate", "--help"]):
        result = _run(*command, cwd=tmp_path)
        shown = " ".join(str(c) for c in command)
        assert result.returncode == 0, f"{shown} exited {result.returncode}:\n{result.stderr}"
        listed = set(re.findall(r"^  (\w[\w-]*)", result.stdout.split("Commands:")[-1], re.M))
        assert listed >= COMMANDS, f"{shown} does not list {sorted(COMMANDS - listed)}"

"""One name per module, checked in the source and at runtime.

Nothing imports the bare ``schemas``, ``detectors`` or ``streams``; and importing every
module of framegate, in a fresh interpreter, fails nowhere, loads no module under a bare
name, loads no model, starts no thread or process and reads no file but its own code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.architecture.sources import (
    BARE_NAMES,
    ROOTS,
    _report,
    _within,
    imports_of,
    package_sources,
    repository_sources,
)


def test_no_bare_top_level_imports() -> None:
    """Nothing in the repository imports schemas/detectors/streams by their folder name."""
    offenders = [
        imp.describe() + ("" if imp.kind == "import" else f" ({imp.kind})")
        for source in repository_sources()
        for imp in imports_of(source)
        if _within(imp.target, BARE_NAMES)
    ]
    assert not offenders, _report(
        "bare imports (the module would load twice: as framegate.X and as X)", offenders
    )


# Imports every module of framegate in a fresh interpreter and reports what happened: the
# modules that failed, any module loaded under a bare name, threads, processes and sockets
# started, files read by framegate's own code, and models built or model files opened.
_PROBE = r"""
import gc, importlib, importlib.machinery, json, os, pkgutil, sys, threading
import traceback, warnings

payload = json.loads(sys.argv[1])
CODE = tuple(importlib.machinery.all_suffixes()) + (".pyc",)
MODEL = (".pt", ".pth", ".ckpt", ".onnx", ".safetensors", ".tflite", ".h5")
EFFECTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork",
           "os.forkpty", "socket.connect", "socket.bind", "_thread.start_new_thread"}
report = {"failed": {}, "effects": [], "model_files": []}


def culprit():
    # The framegate line that caused the event, or None when the event happened while some
    # other module was being imported (the import machinery comes first going outwards).
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(("<frozen importlib", "<frozen zipimport")):
            return None
        module = frame.f_globals.get("__name__") or ""
        if module == "framegate" or module.startswith("framegate."):
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def allowed(path):
    path = os.fsdecode(path)
    # code, the import path probed, and installed packages' metadata (importlib.metadata)
    return path.endswith(CODE) or path in sys.path or ".dist-info" + os.sep in path


def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        if os.fsdecode(args[0]).endswith(MODEL):
            report["model_files"].append(os.fsdecode(args[0]))
        if not allowed(args[0]) and (where := culprit()):
            report["effects"].append(f"{where}: opens {os.fsdecode(args[0])!r}")
    elif event in EFFECTS and (where := culprit()):
        report["effects"].append(f"{where}: {event} {str(args[:2])[:200]}")


threads = threading.active_count()
sys.addaudithook(hook)


def load(name):
    try:
        importlib.import_module(name)
    except BaseException:
        report["failed"][name] = traceback.format_exc(limit=-3)


for name in ["framegate", "framegate.__main__", *payload["packages"]]:
    load(name)
for name in payload["packages"]:
    package = sys.modules.get(name)
    if package is not None:
        onerror = lambda n: report["failed"].setdefault(n, traceback.format_exc(limit=-3))
        for info in pkgutil.walk_packages(package.__path__, name + ".", onerror=onerror):
            load(info.name)
for name in payload["on_disk"]:
    load(name)

report["bare"] = sorted(m for m in sys.modules if m.split(".")[0] in payload["bare"])
report["imported"] = sorted(m for m in sys.modules if m.split(".")[0] == "framegate")
report["threads"] = [threads, threading.active_count(), [t.name for t in threading.enumerate()]]
report["model_modules"] = sorted(m for m in sys.modules if m.startswith("efficientnet"))
torch = sys.modules.get("torch")
warnings.simplefilter("ignore")  # isinstance() on deprecated torch aliases warns
report["models"] = sorted(
    {type(o).__qualname__ for o in gc.get_objects() if isinstance(o, torch.nn.Module)}
) if torch is not None and hasattr(torch, "nn") else []
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def runtime_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What importing every framegate module did, measured in a fresh interpreter.

    It runs from an empty folder with ``-P`` and no PYTHONPATH, so the repository root is
    not on ``sys.path`` (as it is in pytest's own process): a bare ``import schemas`` fails
    there exactly as it would for a user of the installed package.
    """
    payload = {
        "packages": list(ROOTS)[1:],
        "on_disk": sorted({s.module for s in package_sources()}),
        "bare": list(BARE_NAMES),
    }
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONSTARTUP"}}
    result = subprocess.run(
        [sys.executable, "-P", "-c", _PROBE, json.dumps(payload)],
        cwd=tmp_path_factory.mktemp("import-probe"),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"the import probe crashed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_module_imports(runtime_report: dict) -> None:
    failed = runtime_report["failed"]
    assert not failed, _report(
        "modules that fail to import", [f"{name}:\n{tb}" for name, tb in sorted(failed.items())]
    )


def test_import_loads_no_bare_names(runtime_report: dict) -> None:
    assert not runtime_report["bare"], _report(
        "sys.modules holds modules under a bare folder name", runtime_report["bare"]
    )


def test_import_starts_no_thread(runtime_report: dict) -> None:
    before, after, names = runtime_report["threads"]
    assert after == before, f"importing framegate left {after - before} thread(s): {names}"


def test_import_loads_no_model(runtime_report: dict) -> None:
    assert not runtime_report["models"], f"torch modules built: {runtime_report['models']}"
    assert not runtime_report["model_modules"], (
        f"model packages imported: {runtime_report['model_modules']}"
    )
    assert not runtime_report["model_files"], f"model files opened: {runtime_report['model_files']}"


def test_import_reads_no_file_and_starts_nothing(runtime_report: dict) -> None:
    assert not runtime_report["effects"], _report(
        "framegate code run at import reads files or starts processes/sockets/threads",
        runtime_report["effects"],
    )

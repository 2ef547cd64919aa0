"""The package's import structure: model families are leaves, layers are below them.

Read from the source with ``ast`` (nothing is imported), so a violation fails with
the file and line that makes it, even when the import hides inside a function.
"""

import ast
import pathlib

import keras_vgan

PACKAGE = pathlib.Path(keras_vgan.__file__).parent
# A model file may import these modules of keras_vgan.models besides its own.
SHARED_MODEL_MODULES = ("common",)


def imported_modules(path):
    """``(line, module)`` for every import in ``path``, at any depth.

    ``from a.b import c`` gives both ``a.b`` and ``a.b.c`` (``c`` may be a module);
    relative imports are resolved against the file's package.
    """
    package = ".".join(("keras_vgan", *path.parent.relative_to(PACKAGE).parts))
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{module}" if module else base
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def family_files():
    return sorted(
        p
        for p in (PACKAGE / "models").glob("*.py")
        if p.stem != "__init__" and p.stem not in SHARED_MODEL_MODULES
    )


def test_no_model_file_imports_another_family():
    files = family_files()
    assert len(files) >= 8  # the glob did find the families
    offences = {}
    for path in files:
        allowed = (path.stem, *SHARED_MODEL_MODULES)
        for line, module in imported_modules(path):
            parts = module.split(".")
            if parts[:2] != ["keras_vgan", "models"]:
                continue
            # The bare package would import every family (its __init__ does).
            if len(parts) == 2 or parts[2] not in allowed:
                offences.setdefault(f"{path.relative_to(PACKAGE.parent)}:{line}", module)
    assert not offences, "\n".join(f"{at} imports {module}" for at, module in offences.items())


def test_layers_import_only_layers():
    files = sorted((PACKAGE / "layers").glob("*.py"))
    assert len(files) >= 5
    offences = {}
    for path in files:
        for line, module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "keras_vgan" and parts[1:2] != ["layers"]:
                offences.setdefault(f"{path.relative_to(PACKAGE.parent)}:{line}", module)
    assert not offences, "\n".join(f"{at} imports {module}" for at, module in offences.items())

"""Every serialisable class of the package has its own registered name."""

import collections
import importlib
import inspect
import pkgutil

import keras

import keras_vgan


def test_registered_names_are_unique_and_resolve_to_their_class():
    by_name = collections.defaultdict(set)
    for info in pkgutil.walk_packages(keras_vgan.__path__, "keras_vgan."):
        if info.name.endswith("train_offline_encoder"):
            continue  # a program; its module body is only an entry point
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, keras.layers.Layer):
                name = keras.saving.get_registered_name(cls)
                if name.startswith("keras_vgan>"):
                    by_name[name].add(f"{cls.__module__}.{cls.__qualname__}")
    assert len(by_name) > 20  # the walk did find the package's layers and models
    clashes = {name: sorted(v) for name, v in by_name.items() if len(v) > 1}
    assert not clashes, clashes
    for name, (qualified,) in by_name.items():
        obj = keras.saving.get_registered_object(name)
        assert f"{obj.__module__}.{obj.__qualname__}" == qualified

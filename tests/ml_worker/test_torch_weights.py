"""The torch weights reader refuses pickled code anywhere in a weights file."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from ml_worker.training.torch_weights import _LEGACY_MAGIC, load_state_dict

CALLED: list[str] = []


def _side_effect(what: str) -> None:
    CALLED.append(what)


class _Payload:
    """Unpickling this calls _side_effect: what a malicious file would do with os.system."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_side_effect, ("ran",))


@pytest.mark.parametrize("record", ["magic", "protocol", "sys_info"])
def test_it_refuses_code_in_the_legacy_header_records(tmp_path: Path, record: str) -> None:
    records: dict[str, Any] = {"magic": _LEGACY_MAGIC, "protocol": 1001, "sys_info": {}}
    records[record] = _Payload()
    path = tmp_path / "weights.pth"
    path.write_bytes(b"".join(pickle.dumps(records[k], protocol=2) for k in records))
    CALLED.clear()
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_state_dict(path)
    assert CALLED == []


def test_it_refuses_code_in_the_legacy_storage_keys(tmp_path: Path) -> None:
    path = tmp_path / "weights.pth"
    records: tuple[Any, ...] = (_LEGACY_MAGIC, 1001, {}, {}, [_Payload()])  # no tensors, keys
    path.write_bytes(b"".join(pickle.dumps(x, protocol=2) for x in records))
    CALLED.clear()
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_state_dict(path)
    assert CALLED == []

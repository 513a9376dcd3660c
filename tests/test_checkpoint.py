import pytest
import torch

import kandiscover as kd
from conftest import exp_sin, make_dataset


@pytest.fixture
def trained():
    ds = make_dataset(exp_sin, 2, n=200)
    model = kd.KAN([2, [2, 1], 1], grid=5, seed=3)
    model.fit(ds, steps=3, progress=False)
    return model.refine(8), ds


def test_round_trip_is_bitwise(trained, tmp_path):
    model, ds = trained
    model.save(tmp_path / "sub" / "m.pt")
    back = kd.KAN.load(tmp_path / "sub" / "m.pt")
    assert back.width == model.width and back.grid == 8
    assert torch.equal(back.predict(ds["test_input"]), model.predict(ds["test_input"]))


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_payload_is_refused(trained, tmp_path, capsys):
    model, _ = trained
    path = tmp_path / "evil.pt"
    torch.save({"format": "kandiscover.KAN", "state": Evil()}, path)
    with pytest.raises(ValueError, match="execute code"):
        kd.KAN.load(path)
    assert "pwned" not in capsys.readouterr().out


def test_truncated_and_tampered_files_are_refused(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "m.pt"
    model.save(path)
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        kd.KAN.load(tmp_path / "cut.pt")
    payload = torch.load(path, weights_only=True)
    payload["state"]["layers.0.coef"] = payload["state"]["layers.0.coef"][:, :1]
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(ValueError, match="damaged or was edited"):
        kd.KAN.load(tmp_path / "edited.pt")
    with pytest.raises(ValueError, match="no checkpoint"):
        kd.KAN.load(tmp_path / "missing.pt")

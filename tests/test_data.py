"The data layer against real files: MNIST from the shared folder, download failures, error messages."
import os
from pathlib import Path
import pytest, torch
from lpc_book.data import (load_dataset, DatasetNotFoundError, DatasetDownloadError, UnknownDatasetError, DATASETS)

def test_digits_default_is_offline_and_deterministic():
    a = load_dataset("digits", n_train=200, n_test=50, seed=7)
    b = load_dataset("digits", n_train=200, n_test=50, seed=7)
    assert torch.equal(a.u8_train, b.u8_train) and torch.equal(a.y_test, b.y_test)
    assert a.x_train.shape == (200, 1, 8, 8) and a.x_train.min() >= -1 and a.x_train.max() <= 1

def test_unknown_name_lists_known():
    with pytest.raises(UnknownDatasetError) as e: load_dataset("imagenet")
    for name in DATASETS: assert name in str(e.value)

def test_mnist_from_shared_data(mnist_root):
    d = load_dataset("mnist", root=mnist_root)
    assert (len(d.u8_train), len(d.u8_test)) == (8000, 2000) and d.shape == (1, 28, 28)
    assert d.u8_train.dtype == torch.uint8 and 0 <= int(d.y_train.min()) and int(d.y_train.max()) == 9
    s = load_dataset("mnist", root=mnist_root, n_train=500, n_test=100, seed=1, scale="unit")
    assert s.x_train.shape == (500, 1, 28, 28) and float(s.x_train.max()) <= 1 and float(s.x_train.min()) >= 0

@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "svhn"])
def test_missing_files_name_the_folder(tmp_path, name):
    with pytest.raises(DatasetNotFoundError) as e: load_dataset(name, root=tmp_path)
    assert str(tmp_path) in str(e.value) and "download=True" in str(e.value)

def test_failed_download_is_plain_and_leaves_nothing(tmp_path, monkeypatch):
    import torchvision.datasets as tvd
    monkeypatch.setattr(tvd.MNIST, "mirrors", ["http://127.0.0.1:9/"])  # refused at once, no network needed
    with pytest.raises(DatasetDownloadError) as e: load_dataset("mnist", root=tmp_path, download=True)
    assert "download of 'mnist'" in str(e.value) and "failed" in str(e.value)
    assert list(tmp_path.iterdir()) == []

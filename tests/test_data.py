import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_es as tg
from tinygrad_es import data


def test_load_digits_shapes_dtypes_and_range():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 1
    assert np.array_equal(np.unique(X * 16), np.arange(17))  # the 17 pixel levels 0..16
    assert np.array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_load_digits_equals_scikit_learn_copy():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = data.load_digits()
    reference = datasets.load_digits()
    np.testing.assert_array_equal(X * 16, reference.data)
    np.testing.assert_array_equal(y, reference.target)


def test_split_sizes_disjoint_and_complete():
    X, y = np.arange(100)[:, None] * 1.0, np.arange(100) % 4
    X_tr, y_tr, X_va, y_va, X_te, y_te = data.train_val_test_split(X, y, (0.6, 0.2, 0.2), seed=1)
    assert (len(X_tr), len(X_va), len(X_te)) == (60, 20, 20)
    ids = np.concatenate([X_tr[:, 0], X_va[:, 0], X_te[:, 0]]).astype(int)
    assert sorted(ids) == list(range(100))
    np.testing.assert_array_equal(np.concatenate([y_tr, y_va, y_te]), ids % 4)  # rows stay paired with their labels
    again = data.train_val_test_split(X, y, (0.6, 0.2, 0.2), seed=1)
    np.testing.assert_array_equal(again[0], X_tr)
    assert not np.array_equal(data.train_val_test_split(X, y, seed=2)[0], X_tr)


def test_stratified_split_keeps_class_proportions():
    X, y = data.load_digits()
    parts = data.train_val_test_split(X, y, (0.5, 0.5), seed=0, stratify=True)
    counts_train, counts_test = np.bincount(parts[1], minlength=10), np.bincount(parts[3], minlength=10)
    assert np.all(np.abs(counts_train - counts_test) <= 1)
    assert len(parts[0]) + len(parts[2]) == 1797


def test_stratified_split_has_the_sizes_of_the_unstratified_split():
    X, y = np.arange(50), np.arange(50) % 10  # ten classes of 5: cut on its own, each would give 3.5 -> 4 + 1
    X_tr, y_tr, X_te, y_te = data.train_val_test_split(X, y, (0.7, 0.3), seed=0, stratify=True)
    assert (len(X_tr), len(X_te)) == (35, 15) == tuple(map(len, data.train_val_test_split(X, y, (0.7, 0.3))[::2]))
    assert sorted(np.bincount(y_tr)) == [3] * 5 + [4] * 5 and sorted(np.bincount(y_te)) == [1] * 5 + [2] * 5
    np.testing.assert_array_equal(y_tr, X_tr % 10)


@given(st.lists(st.integers(0, 7), max_size=60), st.lists(st.integers(1, 8), min_size=2, max_size=3), st.integers(0, 9))
@example([0, 0, 0, 0], [3, 2, 3], 0)
def test_stratified_split_sizes_and_class_counts_for_any_data(labels, weights, seed):
    y, fractions = np.array(labels, dtype=np.int64), [w / sum(weights) for w in weights]
    X = np.arange(len(y))
    parts = data.train_val_test_split(X, y, fractions, seed=seed, stratify=True)
    unstratified = data.train_val_test_split(X, y, fractions, seed=seed)
    assert [len(part) for part in parts[::2]] == [len(part) for part in unstratified[::2]]
    assert sorted(np.concatenate(parts[::2])) == list(range(len(y)))  # every sample exactly once
    for X_part, y_part, fraction in zip(parts[::2], parts[1::2], fractions):
        np.testing.assert_array_equal(y_part, y[X_part])
        for c in np.unique(y):
            # Within 1, and no tighter bound holds: 4 samples of one class cut (3/8, 2/8, 3/8) give parts
            # of 2, 0, 2 as without stratify (1.5 and 2.5 both round to 2), 0 where the share is 1.
            assert abs(np.sum(y_part == c) - np.sum(y == c) * fraction) <= 1 + 1e-9
    again = data.train_val_test_split(X, y, fractions, seed=seed, stratify=True)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))


def test_split_fractions_must_sum_to_one():
    with pytest.raises(ValueError, match=r"fractions must be .* summing to 1, got \(0.6, 0.3, 0.3\)"):
        data.train_val_test_split(np.zeros((10, 2)), np.zeros(10), (0.6, 0.3, 0.3))
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        data.train_val_test_split(np.zeros((10, 2)), np.zeros(9))


def test_dataloader_batches_cover_the_data_in_order():
    X, y = np.arange(10, dtype=np.float32)[:, None], np.arange(10)
    loader = data.DataLoader(X, y, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0][0], tg.Tensor) and not batches[0][0].requires_grad
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y)
    dropped = data.DataLoader(X, y, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(b[0]) for b in dropped] == [4, 4]


def test_dataloader_makes_python_lists_float32_and_keeps_integer_labels():
    xb, yb = next(iter(data.DataLoader([[1.0, 2.0], [3.0, 4.0]], [0, 1])))
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(yb.data, [0, 1])
    xb, yb = next(iter(data.DataLoader([[1, 2]], [0.5])))  # integer features too, as Tensor([[1, 2]]); float targets
    assert xb.dtype == np.float32 and yb.dtype == np.float32
    X_tr, y_tr, X_te, y_te = data.train_val_test_split([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], (0.5, 0.5))
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64


def test_dataloader_keeps_the_dtype_of_numpy_arrays():
    X, y = np.array([[1.0, 2.0]]), np.array([0], dtype=np.int32)
    xb, yb = next(iter(data.DataLoader(X, y)))
    assert xb.dtype == np.float64 and yb.dtype == np.int32
    xb, yb = next(iter(data.DataLoader(X, np.array([0.5]))))
    assert yb.dtype == np.float64


@given(st.integers(0, 40), st.integers(1, 12), st.booleans(), st.booleans())
def test_dataloader_len_matches_its_batches_for_any_size(n, batch_size, shuffle, drop_last):
    X, y = np.zeros((n, 2), np.float32), np.arange(n)
    loader = data.DataLoader(X, y, batch_size, shuffle, seed=0, drop_last=drop_last)
    sizes = [len(yb) for _, yb in loader]
    assert len(sizes) == len(loader)
    assert all(size == batch_size for size in sizes[:-1]) and (not sizes or 0 < sizes[-1] <= batch_size)
    assert sum(sizes) == (n // batch_size * batch_size if drop_last else n)


def test_dataloader_shuffles_anew_each_epoch_and_repeatably_with_a_seed():
    X, y = np.arange(50, dtype=np.float32)[:, None], np.arange(50)
    loader = data.DataLoader(X, y, batch_size=8, shuffle=True, seed=3)
    first, second = (np.concatenate([b.data for _, b in loader]) for _ in range(2))
    assert sorted(first) == list(range(50)) and not np.array_equal(first, second)
    again = np.concatenate([b.data for _, b in data.DataLoader(X, y, batch_size=8, shuffle=True, seed=3)])
    np.testing.assert_array_equal(again, first)
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.data[:, 0], yb.data)  # pairs stay together


def test_one_hot_and_its_errors():
    out = data.one_hot(np.array([2, 0, 1]), 4)
    np.testing.assert_array_equal(out.data, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    assert out.dtype == np.float32 and data.one_hot(np.array([0, 3])).shape == (2, 4)
    with pytest.raises(ValueError, match=r"one_hot: labels must be in \[0, 3\), got values in \[0, 3\]"):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot: labels must be integers, got float64"):
        data.one_hot(np.array([0.0, 1.0]))


def test_accuracy_from_logits_or_one_hot_labels():
    logits = tg.Tensor(np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [4.0, 0.0, 0.0]]))
    y = np.array([0, 1, 1, 0])
    assert data.accuracy(logits, y) == 0.75
    assert data.accuracy(logits, data.one_hot(y, 3)) == 0.75
    with pytest.raises(ValueError, match=r"accuracy: output must be \(N, C\)"):
        data.accuracy(logits, y[:3])

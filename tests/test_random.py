"""Creation functions: zeros, ones, randn, rand take a shape as PyTorch does."""

import numpy as np
import pytest

import tinygrad_es as tg

CREATORS = [tg.zeros, tg.ones, tg.randn, tg.rand]


@pytest.mark.parametrize("create", CREATORS)
def test_creation_functions_take_the_shape_as_sizes_a_tuple_or_a_list(create):
    assert create(2, 3).shape == (2, 3)
    assert create((2, 3)).shape == (2, 3)
    assert create([2, 3]).shape == (2, 3)
    assert create((4,)).shape == create(4).shape == (4,)
    assert create(np.int64(2), 3).shape == (2, 3)


@pytest.mark.parametrize("create", CREATORS)
def test_creation_functions_with_no_sizes_or_an_empty_tuple_are_0d(create):
    # PyTorch wants the sizes (torch.zeros() is an error); here no sizes means 0-d, as np.zeros(()).
    assert create().shape == () and create(()).shape == () and create([]).shape == ()
    assert create(0, 3).shape == create((0, 3)).shape == (0, 3)


@pytest.mark.parametrize("create", CREATORS)
def test_creation_functions_keep_their_dtype_and_requires_grad_keywords(create):
    t = create((2, 3), dtype=np.float64, requires_grad=True)
    assert t.shape == (2, 3) and t.dtype == np.float64 and t.requires_grad
    assert create([2, 3]).dtype == np.float32 and not create([2, 3]).requires_grad


@pytest.mark.parametrize("create", CREATORS)
def test_a_tuple_followed_by_more_sizes_is_an_error_as_in_pytorch(create):
    with pytest.raises(TypeError):
        create((2, 3), 4)


def test_zeros_and_ones_values_do_not_depend_on_the_shape_form():
    np.testing.assert_array_equal(tg.zeros((2, 3)).data, np.zeros((2, 3)))
    np.testing.assert_array_equal(tg.ones([2, 3]).data, np.ones((2, 3)))


@pytest.mark.parametrize("create", [tg.randn, tg.rand])
def test_random_draws_are_the_same_for_either_shape_form_from_one_seed(create):
    a = create(2, 3, generator=np.random.default_rng(3))
    b = create((2, 3), generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a.data, b.data)
    tg.manual_seed(4)
    c = create([2, 3])
    tg.manual_seed(4)
    np.testing.assert_array_equal(create(2, 3).data, c.data)


@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
def test_creation_shapes_match_torch(name):
    torch = pytest.importorskip("torch")
    for args in [(2, 3), ((2, 3),), ([2, 3],), ((),), (5,), ((5,),), ((0, 3),)]:
        assert getattr(tg, name)(*args).shape == tuple(getattr(torch, name)(*args).shape), args

"""keras.ops image group against Keras 3's own `keras.ops.image` (JAX backend).

The table `CASES` is the list of supported image ops (every Keras name appears in it). Rows
compare values and dtypes, and gradients on each op's first row unless it says `grad=False`; those
ops' gradients are compared in `test_gradients_match_keras_compiled`. Both libraries run each row
compiled (`run_case_compiled`): Keras's image ops evaluated eagerly compile op by op and would
dominate the test time. kerasish's eager path is checked against its compiled one on a sample
(`test_under_jit`); `elastic_transform` (which Keras cannot compile) runs eagerly. Where Keras
3.15's JAX backend departs from Keras's documentation (projective `affine_transform`
coefficients, `gaussian_blur`'s default data_format, one set of perspective points for a batch),
the documented behaviour is checked against SciPy or kerasish's own documented equivalent.
"""

import warnings

import jax
import jax.numpy as jnp
import keras as keras_ref
import numpy as np
import pytest
import scipy.ndimage
from flax import nnx
from harness import (Case, assert_group_covered, assert_jit_matches_eager, compiled_gradient, ids, keras_op_names,
                     rand, run_case, run_case_compiled)

import kerasish

F32, BF16 = "float32", "bfloat16"

# Keras's image names that kerasish leaves out, with the reason. Empty: all are implemented.
LEFT_OUT: dict[str, str] = {}

IMAGES = rand(2, 9, 7, 3, low=0, high=1)
IMAGES_CF = np.ascontiguousarray(IMAGES.transpose(0, 3, 1, 2))
IMAGE = IMAGES[0]
TRANSFORMS = np.array([[1.1, 0.1, -1.0, 0.2, 0.9, 0.5, 0, 0],
                       [0.9, -0.2, 1.0, 0.1, 1.2, -0.5, 0, 0]], "float32")
START = np.array([[0, 0], [6, 0], [0, 8], [6, 8]], "float32")
END = np.array([[1, 0], [5, 1], [0, 7], [6, 8]], "float32")


def _colour_cases():
    uint8 = (IMAGES * 255).astype("uint8")
    cases = [
        Case("rgb_to_grayscale", (IMAGES,)),
        Case("rgb_to_grayscale", (uint8,), label="uint8"),
        Case("rgb_to_grayscale", (IMAGES_CF,), {"data_format": "channels_first"}, label="cf", grad=False),
        Case("rgb_to_grayscale", (IMAGES[..., :1],), label="gray", grad=False),
        Case("rgb_to_grayscale", (rand(4, 5, 3, dtype=BF16, low=0, high=1),), label="bf16", grad=False),
    ]
    for name in ("rgb_to_hsv", "hsv_to_rgb"):
        cases += [Case(name, (IMAGES,), grad=False),
                  Case(name, (IMAGES_CF,), {"data_format": "channels_first"}, label="cf", grad=False),
                  Case(name, (rand(4, 5, 3, dtype="float16", low=0, high=1),), label="f16", grad=False)]
    return cases


def _resize_cases():
    return [
        Case("resize", (IMAGES, (5, 11))),
        Case("resize", (IMAGES, (5, 11)), {"interpolation": "nearest"}, label="nearest", grad=False),
        Case("resize", (IMAGES, (12, 4)), {"interpolation": "bicubic"}, label="bicubic", grad=False),
        Case("resize", (IMAGES, (4, 3)), {"antialias": True}, label="antialias", grad=False),
        Case("resize", ((IMAGES * 255).astype("uint8"), (5, 6)), label="uint8"),
        Case("resize", (IMAGES, (4, 8)), {"crop_to_aspect_ratio": True}, label="crop", grad=False),
        Case("resize", (IMAGES, (4, 8)), {"pad_to_aspect_ratio": True, "fill_value": 0.5},
             label="pad-h", grad=False),
        Case("resize", (IMAGES_CF, (8, 4)), {"pad_to_aspect_ratio": True,
                                             "data_format": "channels_first"}, label="pad-cf", grad=False),
        Case("resize", (IMAGE, (3, 3)), label="unbatched", grad=False),
        Case("scale_and_translate", (IMAGES, (2, 12, 9, 3), np.array([1.5, 1.2], F32),
                                     np.array([0.5, -1.0], F32), (1, 2), "bilinear"), grad=False),
        Case("scale_and_translate", (IMAGE, (4, 4, 3), np.array([0.5, 0.5], F32),
                                     np.array([0.0, 0.0], F32), (0, 1), "lanczos3", False),
             label="lanczos-noaa", grad=False),
    ]


def _warp_cases():
    coords = rand(3, 4, 5, low=-1, high=9, seed=4)
    return [
        # Transforms as lists: gradients are compared for the images only. Keras's JAX backend
        # uses c0/c1 differently (see the projective test), which shows in d/d(transform).
        Case("affine_transform", (IMAGES, TRANSFORMS.tolist())),
        *[Case("affine_transform", (IMAGES, TRANSFORMS), {"fill_mode": mode}, label=mode, grad=False)
          for mode in ("wrap", "reflect")],
        Case("affine_transform", (IMAGE, TRANSFORMS[0].tolist()), {"interpolation": "nearest"},
             label="nearest-interpolation", grad=False),
        Case("affine_transform", (IMAGES_CF, TRANSFORMS), {"data_format": "channels_first",
                                                           "fill_value": 0.3}, label="cf", grad=False),
        Case("map_coordinates", (IMAGE, coords, 1)),
        Case("map_coordinates", (IMAGE, coords, 0), {"fill_mode": "wrap"}, label="nearest-wrap",
             grad=False),
        Case("perspective_transform", (IMAGES, np.stack([START, START + 0.5]), np.stack([END, END * 0.9])),
             grad=False),
        Case("perspective_transform", (IMAGE, START, END), {"interpolation": "nearest",
                                                            "fill_value": 1.0}, label="nearest",
             grad=False),
        # Its image gradient is map_coordinates' (checked above); Keras cannot compile it.
        Case("elastic_transform", (IMAGES,), {"alpha": 2.0, "sigma": 1.0, "seed": 3}, grad=False),
        Case("gaussian_blur", (IMAGES, (3, 5), (1.0, 2.0)), {"data_format": "channels_last"}),
        Case("gaussian_blur", (IMAGES_CF,), {"data_format": "channels_first"}, label="cf", grad=False),
        Case("sobel_edges", (IMAGES,)),
        Case("sobel_edges", (IMAGES_CF,), {"data_format": "channels_first"}, label="cf", grad=False),
    ]


def _layout_cases():
    volumes = rand(2, 6, 5, 4, 2, seed=5)
    other = np.clip(rand(2, 16, 14, 3, low=0, high=1, seed=6), 0, 1)
    return [
        Case("pad_images", (IMAGES, 1, 2), {"target_height": 13, "right_padding": 1}),
        Case("pad_images", (IMAGE,), {"bottom_padding": 1, "target_height": 12, "left_padding": 2,
                                      "target_width": 10}, label="unbatched", grad=False),
        Case("pad_images", (IMAGES_CF, 0, 0, 2, 3), {"data_format": "channels_first"}, label="cf",
             grad=False),
        Case("crop_images", (IMAGES, 1, 2), {"target_height": 5, "right_cropping": 1}),
        Case("crop_images", (IMAGE,), {"bottom_cropping": 2, "target_height": 4, "left_cropping": 1,
                                       "right_cropping": 3}, label="unbatched", grad=False),
        Case("crop_images", (IMAGES_CF, 1, 1, 1, 1), {"data_format": "channels_first"}, label="cf",
             grad=False),
        Case("extract_patches", (IMAGES, 3)),
        Case("extract_patches", (IMAGES, (2, 3)), {"strides": 1, "dilation_rate": 2, "padding": "same"},
             label="dilated-same", grad=False),
        Case("extract_patches", (IMAGES_CF, (3, 2)), {"strides": (1, 2), "data_format": "channels_first"},
             label="cf", grad=False),
        Case("extract_patches", (volumes, (2, 2, 3)), {"strides": 1}, label="3d", grad=False),
        Case("extract_patches", ((IMAGES * 255).astype("int32"), 2), label="int32"),
        Case("extract_patches_3d", (volumes, 2), grad=False),
        Case("extract_patches_3d", (volumes[0], (3, 2, 2)), {"strides": (1, 2, 1), "padding": "same"},
             label="unbatched-same", grad=False),
        Case("ssim", (other, np.clip(other + 0.1, 0, 1)), grad=False),
        Case("ssim", (np.ascontiguousarray(other.transpose(0, 3, 1, 2)), other.transpose(0, 3, 1, 2) * 0.5),
             {"data_format": "channels_first"}, label="cf", grad=False),
    ]


CASES = _colour_cases() + _resize_cases() + _warp_cases() + _layout_cases()


EAGER_ONLY = {"elastic_transform"}  # Keras computes its blur size with int() on an array


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_against_keras(case, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.name in EAGER_ONLY:
            # The harness looks ops up on `keras.ops`, where Keras keeps no image ops.
            monkeypatch.setattr(keras_ref.ops, case.name, getattr(keras_ref.ops.image, case.name),
                                raising=False)
            run_case(case)
        else:
            run_case_compiled(case, keras_ref.ops.image)


JIT_SAMPLE = ["resize", "affine_transform-wrap", "elastic_transform", "extract_patches", "crop_images"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in JIT_SAMPLE], ids=lambda c: c.id)
def test_under_jit(case):
    assert_jit_matches_eager(case, rtol=1e-5)


# perspective_transform's image gradient is map_coordinates', as affine_transform's (table rows).
GRADIENT_ROWS = ["rgb_to_hsv", "hsv_to_rgb", "scale_and_translate", "ssim"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in GRADIENT_ROWS], ids=lambda c: c.id)
def test_gradients_match_keras_compiled(case):
    ours = compiled_gradient(getattr(kerasish.ops.image, case.name), case)
    ref = compiled_gradient(getattr(keras_ref.ops.image, case.name), case)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


def test_every_keras_image_op_is_implemented_and_in_the_table():
    assert_group_covered(kerasish.ops.image, keras_op_names(keras_ref.ops.image), CASES, LEFT_OUT)


def test_variables_are_images():
    images = nnx.Param(jnp.asarray(IMAGES))
    np.testing.assert_allclose(kerasish.ops.image.resize(images, (4, 4)),
                               keras_ref.ops.image.resize(IMAGES, (4, 4)), rtol=1e-6, atol=1e-6)
    assert isinstance(kerasish.ops.image.rgb_to_grayscale(images), jax.Array)


def test_projective_affine_transform_follows_the_documented_formula():
    # Keras 3.15's JAX backend multiplies c0/c1 by the channel index instead of dividing by
    # k = c0 x + c1 y + 1; its documentation (and TF backend) divide. SciPy is the reference here.
    transform = np.array([0.9, 0.1, 0.5, -0.1, 1.1, 0.3, 0.02, -0.03], "float32")
    ours = kerasish.ops.image.affine_transform(IMAGE, transform)
    a0, a1, a2, b0, b1, b2, c0, c1 = transform.astype(np.float64)
    y, x = np.meshgrid(np.arange(9), np.arange(7), indexing="ij")
    k = c0 * x + c1 * y + 1
    coords = [(b0 * x + b1 * y + b2) / k, (a0 * x + a1 * y + a2) / k]
    # SciPy's "grid-constant" is JAX's "constant": it interpolates towards cval past the edge.
    expected = np.stack([scipy.ndimage.map_coordinates(IMAGE[..., c].astype(np.float64), coords, order=1,
                                                       mode="grid-constant", cval=0.0)
                         for c in range(3)], -1)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_gaussian_blur_default_data_format_is_channels_last():
    # Keras 3.15's JAX backend treats data_format=None as channels_first (it never standardizes it);
    # Keras documents None as `image_data_format()` ("channels_last"), as its TF backend does. The
    # channels_last result itself is compared with Keras in the table.
    blur = kerasish.ops.image.gaussian_blur
    np.testing.assert_array_equal(blur(IMAGES), blur(IMAGES, data_format="channels_last"))


def test_perspective_points_for_one_image_apply_to_a_whole_batch():
    # Keras 3.15 needs one set of points per image; one set for the whole batch is broadcast here.
    warp = kerasish.ops.image.perspective_transform
    np.testing.assert_array_equal(warp(IMAGES, START, END),
                                  warp(IMAGES, np.stack([START] * 2), np.stack([END] * 2)))


def test_elastic_transform_seed_generator_advances_and_repeats():
    image_ops = kerasish.ops.image
    gen_a, gen_b = kerasish.random.SeedGenerator(7), kerasish.random.SeedGenerator(7)
    first, second = image_ops.elastic_transform(IMAGES, seed=gen_a), image_ops.elastic_transform(IMAGES, seed=gen_a)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(first, image_ops.elastic_transform(IMAGES, seed=gen_b))
    np.testing.assert_allclose(image_ops.elastic_transform(IMAGES, alpha=0.0, seed=1), IMAGES, atol=1e-6)
    unbatched = image_ops.elastic_transform(IMAGE, seed=5, fill_mode="constant", interpolation="nearest")
    assert unbatched.shape == IMAGE.shape and unbatched.dtype == IMAGE.dtype


@pytest.mark.parametrize("call, error, match", [
    (lambda o: o.resize(IMAGES, (4,)), ValueError, "tuple of 2"),
    (lambda o: o.resize(IMAGES, (0, 4)), ValueError, "positive"),
    (lambda o: o.resize(IMAGES[0, 0], (4, 4)), ValueError, "rank"),
    (lambda o: o.resize(IMAGES, (4, 4), interpolation="area"), ValueError, "interpolation"),
    (lambda o: o.resize(IMAGES, (4, 4), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
     ValueError, "Only one"),
    (lambda o: o.resize(IMAGES, (4, 4), fill_mode="reflect"), ValueError, "fill_mode"),
    (lambda o: o.rgb_to_grayscale(rand(2, 4, 4, 2)), ValueError, "channel size"),
    (lambda o: o.rgb_to_hsv((IMAGES * 255).astype("uint8")), ValueError, "float"),
    (lambda o: o.affine_transform(IMAGES, TRANSFORMS, fill_mode="edge"), ValueError, "fill_mode"),
    (lambda o: o.affine_transform(IMAGES, TRANSFORMS, interpolation="cubic"), ValueError, "interpolation"),
    (lambda o: o.affine_transform(IMAGES, TRANSFORMS[None]), ValueError, "transform rank"),
    (lambda o: o.map_coordinates(IMAGE, rand(2, 4), 1), ValueError, "First dim"),
    (lambda o: o.map_coordinates(IMAGE, rand(3, 4), 3), ValueError, "order"),
    (lambda o: o.pad_images(IMAGES, 1, 1), ValueError, "exactly two"),
    (lambda o: o.pad_images(IMAGES, 1, 1, target_height=5, target_width=12), ValueError, "bottom_padding"),
    (lambda o: o.crop_images(IMAGES, -1, 0, 1, 1), ValueError, "top_cropping"),
    (lambda o: o.extract_patches(IMAGES, "3"), TypeError, "size"),
    (lambda o: o.extract_patches(IMAGES, (1, 2, 3, 4)), ValueError, "length 2 or 3"),
    (lambda o: o.perspective_transform(IMAGES, START[:3], END[:3]), ValueError, "start_points"),
    (lambda o: o.perspective_transform(IMAGES, START, np.stack([END] * 2)), ValueError, "same shape"),
    (lambda o: o.scale_and_translate(IMAGES, (2, 3, 3, 3), np.ones(2), np.zeros(2), (1, 2), "area"),
     ValueError, "method"),
    (lambda o: o.sobel_edges(IMAGE), ValueError, "rank 4"),
    (lambda o: o.ssim(IMAGES[0, 0], IMAGES[0, 0]), ValueError, "image1"),
    (lambda o: o.elastic_transform(IMAGES, seed="a"), ValueError, "seed"),
])
def test_errors_name_what_was_expected_and_received(call, error, match):
    with pytest.raises(error, match=match):
        call(kerasish.ops.image)

"""Data: sinc & co., digits, the 2-D checkerboard, MNIST and CIFAR-10 as Datasets; the IDX and
CIFAR file readers."""
from .datasets import (
    DATASETS,
    FUNCTIONS,
    Dataset,
    default_image_dataset,
    function_dataset,
    load_checkerboard,
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist,
)
from .files import DataError, DataNotFoundError, read_cifar_batch, read_idx, torchvision_installed

__all__ = [
    "DATASETS", "FUNCTIONS", "Dataset", "default_image_dataset", "function_dataset",
    "load_checkerboard", "load_cifar10", "load_dataset", "load_digits", "load_mnist",
    "DataError", "DataNotFoundError",
    "read_cifar_batch", "read_idx", "torchvision_installed",
]

"""The points table of the assignment (KIT-SPEC): one row per ``./run.py unittest`` name."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    name: str        # ./run.py unittest <name>
    number: str      # section number in the assignment text
    title: str
    points: float
    is_gate: bool = False  # a training gate (accuracy / time) rather than unit checks


SECTIONS = (
    Section('sgd', '1.4.1', 'SGD', 0.5),
    Section('momentum', '1.4.2', 'SGDMomentum', 0.5),
    Section('relu', '2.1.1', 'ReLU', 1.0),
    Section('softmax', '2.1.2', 'Softmax', 1.5),
    Section('dense', '2.1.3', 'Dense', 2.0),
    Section('crossentropy', '2.2.1', 'CrossEntropy', 1.0),
    Section('mnist', '2.3', 'MNIST', 2.0, is_gate=True),
    Section('convolve', '3.3.2', 'convolve', 1.0),
    Section('conv2d', '4.1.1', 'Conv2D', 2.0),
    Section('pooling2d', '4.1.2', 'Pooling2D', 1.5),
    Section('batchnorm', '4.1.3', 'BatchNorm', 2.0),
    Section('flatten', '4.1.4', 'Flatten', 1.0),
    Section('dropout', '4.1.5', 'Dropout', 1.0),
    Section('cifar10', '4.2', 'CIFAR-10', 3.0, is_gate=True),
)

BY_NAME = {section.name: section for section in SECTIONS}
UNIT_SECTIONS = tuple(section for section in SECTIONS if not section.is_gate)
GATE_SECTIONS = tuple(section for section in SECTIONS if section.is_gate)
TOTAL_POINTS = sum(section.points for section in SECTIONS)

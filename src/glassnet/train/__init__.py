"""Training: ``fit``, ``evaluate``, ``predict``, metrics, callbacks and ``History``."""

from glassnet.train.callbacks import (
    Callback,
    EarlyStopping,
    FitState,
    LambdaCallback,
    ModelCheckpoint,
)
from glassnet.train.history import History
from glassnet.train.loop import TrainingDiverged, evaluate, fit, predict
from glassnet.train.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    format_confusion_matrix,
)
from glassnet.train.models import cnn, mlp

__all__ = [
    "Callback",
    "EarlyStopping",
    "FitState",
    "History",
    "LambdaCallback",
    "ModelCheckpoint",
    "TrainingDiverged",
    "accuracy",
    "classification_report",
    "cnn",
    "confusion_matrix",
    "evaluate",
    "fit",
    "format_confusion_matrix",
    "mlp",
    "predict",
]

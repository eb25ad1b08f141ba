"""Emotion from the face and body: MediaPipe detection, mesh and pose, landmark action units, head pose,
micro-expressions, per-person baselines, and the FER2013 mini-Xception expression classifier.

Importing this package loads no model; the models, shared by every perceiver of the process, load on the first
frame that needs them.
"""

from empathic.perception.face.action_units import ACTION_UNITS, AU_CODES, ActionUnit
from empathic.perception.face.baseline import NeutralBaseline
from empathic.perception.face.body import BodyPerceiver
from empathic.perception.face.head_pose import HeadPose
from empathic.perception.face.micro import MicroExpressionDetector
from empathic.perception.face.perceiver import FacePerceiver, FaceReading

__all__ = [
    "ACTION_UNITS",
    "AU_CODES",
    "ActionUnit",
    "BodyPerceiver",
    "FacePerceiver",
    "FaceReading",
    "HeadPose",
    "MicroExpressionDetector",
    "NeutralBaseline",
]

"""The face perceiver: detection, tracking, mesh, action units, head pose, expression and micro-expressions.

Per frame: find every face, follow the user's, mesh it, read action units against the person's baseline, classify
the aligned crop, and fuse the two. Frames it cannot read (no face, dark, blurred, hidden) give an estimate with
confidence 0 and the reason. Models load on the first frame, so a session without video never pays for them.

The models (detector, mesh, classifier) are shared by every perceiver of the process (:func:`shared_face_models`);
a perceiver holds only its person's state: the tracked face, the baseline, the micro-expression levels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from empathic.perception.estimates import Cue, Episode, ModalityEstimate
from empathic.perception.face import evidence
from empathic.perception.face.action_units import ACTION_UNITS, intensities, measure
from empathic.perception.face.baseline import NeutralBaseline
from empathic.perception.face.detection import FaceDetector
from empathic.perception.face.expression import ExpressionClassifier, aligned_crop
from empathic.perception.face.head_pose import HeadPose, gaze_aversion, head_pose, iris_offset
from empathic.perception.face.landmarks import FaceMesher, Landmarks
from empathic.perception.face.micro import MicroExpressionDetector
from empathic.perception.face.quality import face_problem, frame_problem
from empathic.perception.face.tracking import PrimaryFaceTracker, Tracked
from empathic.perception.labels import valence_arousal
from empathic.perception.observations import Observation, VideoFrame
from empathic.perception.perceiver import BlockingPerceiver, PerceiverCapabilities
from empathic.perception.registry import ModelRegistry

MIN_FACE_PX = 32  # narrower faces hold too few pixels for the 64x64 classifier
CUE_THRESHOLD = 0.3
FORGET_AFTER_S = 10.0  # a face absent this long may be someone else: calibrate again


@dataclass(frozen=True, slots=True, eq=False)
class FaceReading:
    """Everything read from the user's face on one frame, for callers that want more than the estimate."""

    t: float
    landmarks: Landmarks
    action_units: dict[str, float]
    pose: HeadPose
    gaze_aversion: float
    others: int
    expression: dict[str, float]


@dataclass(frozen=True, slots=True, eq=False)
class FaceModels:
    """The face models one perceiver uses; they keep nothing about any person, so many perceivers share them."""

    detector: FaceDetector
    mesher: FaceMesher
    classifier: ExpressionClassifier

    @classmethod
    def load(cls, registry: ModelRegistry | None = None) -> FaceModels:
        """Fresh models (each loads on its first call); the mesher is static, as sharing requires."""
        return cls(FaceDetector(), FaceMesher(static=True), ExpressionClassifier(registry))

    def warm(self, frame: np.ndarray) -> None:
        """Load every model now by reading ``frame`` (RGB)."""
        self.detector.detect(frame)
        self.mesher.mesh_image(frame)
        self.classifier.classify([np.zeros((64, 64), np.uint8)])

    def close(self) -> None:
        """Release the MediaPipe graphs (models of one's own; the shared ones live as long as the process)."""
        self.detector.close()
        self.mesher.close()


@functools.cache
def shared_face_models() -> FaceModels:
    """The process's face models from the default registry, shared by every perceiver built without one."""
    return FaceModels.load()


def to_grey_rgb(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if image.ndim == 2:
        return image, cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), np.ascontiguousarray(image)


class FacePerceiver(BlockingPerceiver):
    """Reads the user's face in each video frame.

    ``zooms`` are the crop scales the classifier averages (more is steadier and slower); ``fusion_weight`` is how
    strongly action units reweight the classifier (0: classifier alone). The detector runs on every
    ``detect_every``-th frame, or whenever the face was lost; in between the mesh follows the face it found.
    ``models`` default to the process's shared ones (or fresh ones when a ``registry`` is given).
    """

    name = "face-mesh-xception"

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        *,
        baseline_s: float = 3.0,
        zooms: tuple[float, ...] = (1.0,),
        fusion_weight: float = evidence.DEFAULT_WEIGHT,
        detect_every: int = 3,
        max_rate_hz: float = 0.0,
        models: FaceModels | None = None,
    ) -> None:
        self.capabilities = PerceiverCapabilities("face", (VideoFrame,), max_rate_hz=max_rate_hz)
        if models is None:
            models = shared_face_models() if registry is None else FaceModels.load(registry)
        self.models = models
        self.detector, self.mesher, self.classifier = models.detector, models.mesher, models.classifier
        self.tracker = PrimaryFaceTracker()
        self.baseline = NeutralBaseline(baseline_s)
        self.micro = MicroExpressionDetector()
        self.zooms = zooms
        self.fusion_weight = fusion_weight
        self.detect_every = max(1, detect_every)
        self.last: FaceReading | None = None
        self._last_face_t: float | None = None
        self._since_detect = 0

    def reset_baseline(self) -> None:
        """Forget the person's neutral face; calibration restarts on the next frames."""
        self.baseline.reset()
        self.micro.reset()

    def calibrate(self, duration_s: float | None = None) -> None:
        """Calibrate explicitly from the next face, e.g. after asking the user to look at the camera at rest."""
        self.baseline.calibrate(duration_s)
        self.micro.reset()

    def predict(self, obs: Observation) -> ModalityEstimate | None:
        if not isinstance(obs, VideoFrame):
            return None
        t = obs.t
        grey, rgb = to_grey_rgb(obs.image)
        problem = frame_problem(grey)
        if problem:
            return self._unknown(t, problem)
        tracked = self._track(rgb, obs.size)
        if tracked is None:
            return self._unknown(t, "no face in view")
        if tracked.switched or (self._last_face_t is not None and t - self._last_face_t > FORGET_AFTER_S):
            self.reset_baseline()
        self._last_face_t = t
        if tracked.primary.w < MIN_FACE_PX:
            return self._unknown(t, f"face too small ({tracked.primary.w:.0f} px wide)")
        lm = self.mesher.mesh(rgb, tracked.primary.rect)
        if lm is None:
            return self._unknown(t, "face hidden or turned away (no landmarks)")
        crop = aligned_crop(grey, lm)
        problem = face_problem(crop)
        if problem:
            return self._unknown(t, problem)
        return self._read(t, grey, lm, crop, tracked.others)

    def _track(self, rgb: np.ndarray, size: tuple[int, int]) -> Tracked | None:
        self._since_detect += 1
        if self.last is None or self._since_detect >= self.detect_every:
            self._since_detect = 0
            return self.tracker.choose(self.detector.detect(rgb), size)
        box = self.last.landmarks.box()
        self.tracker.follow(box)
        return Tracked(box, self.last.others, switched=False)

    def _unknown(self, t: float, reason: str) -> ModalityEstimate:
        self.micro.reset()
        self.last = None
        return ModalityEstimate.unknown("face", t, reason, self.name)

    def _read(self, t: float, grey: np.ndarray, lm: Landmarks, crop: np.ndarray, others: int) -> ModalityEstimate:
        pose = head_pose(lm)
        measures = measure(lm)
        calibrated = self.baseline.calibrated
        self.baseline.add(t, measures, pose)
        if self.baseline.calibrated != calibrated:  # the units' zero moved: their levels and noise start afresh
            self.micro.reset()
        aus = intensities(measures, self.baseline.neutral)
        aversion = gaze_aversion(pose, iris_offset(lm), self.baseline.pose)
        crops = [crop] + [aligned_crop(grey, lm, z) for z in self.zooms if z != 1.0]
        expression = self.classifier.classify(crops)
        probs = evidence.fuse(expression, aus, self.fusion_weight)
        episodes = self.micro.update(t, aus)
        self.last = FaceReading(t, lm, aus, pose, aversion, others, expression)
        valence, arousal = valence_arousal(probs)
        # a turned head shows less of the face: trust the reading less
        confidence = max(probs.values()) * (1.0 - 0.6 * aversion)
        return ModalityEstimate(
            modality="face",
            t=t,
            probs=probs,
            valence=max(-1.0, min(1.0, valence)),
            arousal=max(-1.0, min(1.0, arousal)),
            confidence=max(0.05, min(1.0, confidence)),
            cues=_cues(aus, aversion, others, episodes),
            complex_states=evidence.complex_states(aus, aversion),
            source=self.name,
            episodes=episodes,
        )

    def close(self) -> None:
        """Forget the person (tracked face, baseline, last reading); the shared models stay loaded for others."""
        self.tracker.reset()
        self.reset_baseline()
        self.last = None
        self._last_face_t = None


def _cues(aus: dict[str, float], aversion: float, others: int, episodes: tuple[Episode, ...]) -> tuple[Cue, ...]:
    cues = [
        Cue(au.name, round(aus[au.code], 3), "face", supports=evidence.supported_by(au.code))
        for au in ACTION_UNITS
        if aus[au.code] >= CUE_THRESHOLD
    ]
    if aversion >= CUE_THRESHOLD:
        cues.append(Cue("gaze_aversion", round(aversion, 3), "face", supports=("contemplation", "boredom")))
    if others:
        cues.append(Cue("others_in_view", min(1.0, others / 3), "face", text=f"{others} other face(s) in view"))
    for ep in episodes:
        cues.append(Cue("micro_expression", ep.intensity, "face", text="+".join(ep.labels)))
    return tuple(cues)

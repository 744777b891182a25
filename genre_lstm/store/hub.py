"""Where a checkpoint comes from: a folder, the Hugging Face hub, or the repository's checkpoints/.

The hub is used only when asked: a repo id given as the checkpoint, or $GENRE_LSTM_HUB_ORG set for
the shipped genres. Downloads are pinned to a revision, limited to our file types, time out
quickly, are cached by huggingface_hub and honour HF_HUB_OFFLINE. When the hub cannot be reached a
shipped genre falls back to checkpoints/ (logged once); with nowhere to load from the error names
both the repo and the folder. Loaded checkpoints are cached, so each loads once per process.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from ..environment import CHECKPOINTS, HUB_ORG
from ..errors import CheckpointError, HubError, InvalidParameterError
from .genres import GENRES, get_genre
from .layout import HUB_PATTERNS

log = logging.getLogger(__name__)
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
HUB_TIMEOUT_S = 10

_cache: dict[str, object] = {}
_cache_lock = threading.Lock()
_warned: set[str] = set()


def is_repo_id(text: str) -> bool:
    """True for an OWNER/NAME hub id (checked before any network use; no '..', no URLs)."""
    return bool(REPO_ID.match(text)) and ".." not in text and not text.endswith((".git", "."))


def download_checkpoint(repo_id: str, revision: str = "main") -> Path:
    """Fetch (or reuse the cached copy of) a hub checkpoint repo."""
    if not is_repo_id(repo_id):
        raise InvalidParameterError(f"{repo_id!r} is not a hub repo id of the form OWNER/NAME")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
    )

    try:
        folder = snapshot_download(repo_id, revision=revision, repo_type="model",
                                   allow_patterns=HUB_PATTERNS, etag_timeout=HUB_TIMEOUT_S)
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as error:
        raise HubError(f"hub repo {repo_id} is not in the local cache and the hub cannot be reached "
                       f"(offline or HF_HUB_OFFLINE=1): connect once, or use a local checkpoint folder") from error
    except Exception as error:  # the hub's errors, and its HTTP library's own (httpx2.ConnectError offline)
        raise HubError(f"cannot download {repo_id}@{revision} from the hub: {_reason(error)}") from error
    return Path(folder)


def resolve_checkpoint(spec: str) -> Path:
    """A genre id, a checkpoint folder, or an OWNER/NAME hub repo -> a local folder to load."""
    if spec in GENRES:
        genre = get_genre(spec)
        local = genre.local_dir()
        if HUB_ORG.get():
            repo = genre.hub_repo()
            try:
                return download_checkpoint(repo, genre.hub_revision)
            except HubError as error:
                if not genre.installed():
                    raise HubError(f"{error}; and no local copy at {local}") from error
                if repo not in _warned:
                    _warned.add(repo)
                    log.warning("hub repo %s unavailable (%s); using %s", repo, error, local)
        if not genre.installed():
            raise CheckpointError(f"no checkpoint for genre {spec!r}: {local} does not exist "
                                  f"(point {CHECKPOINTS.name} at a folder of checkpoints, set {HUB_ORG.name} to "
                                  f"load {genre.hub_repo()} from the hub, or train it: genre-lstm train --genre {spec})")
        return local
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    if is_repo_id(spec):
        return download_checkpoint(spec)
    raise CheckpointError(f"{spec!r} is neither a genre ({', '.join(GENRES)}), a checkpoint folder, "
                          f"nor a hub repo id OWNER/NAME")


def get_checkpoint(spec: str):
    """Load a checkpoint once per process and share it (models are only read at inference)."""
    from .checkpoint import load_checkpoint

    folder = resolve_checkpoint(spec).resolve()
    key = str(folder)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = load_checkpoint(folder)
        return _cache[key]


def push_checkpoint(folder: str | Path, repo_id: str, *, token: str | None = None, private: bool = False) -> str:
    """Upload a checkpoint folder to the hub with our model card (token from HF login if None)."""
    if not is_repo_id(repo_id):
        raise InvalidParameterError(f"{repo_id!r} is not a hub repo id of the form OWNER/NAME")
    from huggingface_hub import HfApi

    from .checkpoint import load_checkpoint

    load_checkpoint(folder)  # refuse to publish a broken folder
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                 allow_patterns=HUB_PATTERNS, commit_message="Upload genre-lstm checkpoint")
    except Exception as error:  # the hub's errors, and its HTTP library's own (httpx2.ConnectError offline)
        raise HubError(f"cannot upload to {repo_id}: {_reason(error)}") from error
    return str(getattr(info, "commit_url", repo_id))


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0][:200] if text else type(error).__name__)

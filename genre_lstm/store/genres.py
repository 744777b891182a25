"""The shipped genres: ids, what each is trained on, how it sounds by default, where it lives."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

from ..environment import CHECKPOINTS, HUB_ORG
from ..errors import UnknownGenreError
from .layout import is_complete

DEFAULT_HUB_ORG = "genre-lstm"
MUSIC21_TERMS = ("encodings distributed with music21's corpus, with its encoders' permission, for use within "
                 "each work's own terms (music21/corpus/license.txt)")
FREEDOOM_TERMS = ("the Freedoom project's soundtrack, BSD 3-clause (Freedoom licence, "
                  "/usr/share/doc/freedoom/copyright in Debian's freedoom package)")
ESSEN_TERMS = ("Essen folk-song database (EsAC) in Seymour Schlien's ABC encoding, distributed with music21 for "
               "non-commercial use (music21/corpus/essenFolksong/license.txt)")


def named_parts(*parts: tuple[str, int]) -> list[dict]:
    """A genre's parts, (name as its scores name it, General MIDI program) each, as TrainSettings.parts."""
    return [{"name": name, "program": program} for name, program in parts]


CHOIR, VIOLIN, VIOLA, CELLO = 52, 40, 41, 42  # General MIDI programs
OVERDRIVEN_GUITAR = 29


@dataclass(frozen=True)
class Genre:
    id: str
    name: str
    collection: str  # a key of corpus.COLLECTIONS
    source: str  # human-readable source in music21's corpus
    program: int  # General MIDI program played by default
    tempo_bpm: float
    train: dict = field(default_factory=dict)  # TrainSettings fields that differ from the defaults
    temperature: float = 1.0  # default sampling temperature
    key_bias: float = 0.0  # default pull towards the seed's pitch classes (request.FIELD["key_bias"])
    register_margin: int = 0  # default reach beyond each part's seed register (request.FIELD["register_margin"])
    grid_bias: float = 0.0  # default pull towards the seed's rhythmic grid (request.FIELD["grid_bias"])
    hub_revision: str = "main"
    _: KW_ONLY
    licence: str  # the checkpoint's licence as the hub spells it (the card's `license:`), set by its music's terms
    music_licence: str  # the terms of the music it is trained on, in words (model card, DATA.md)
    datasets: tuple[str, ...] = ("music21-corpus",)  # the card's `datasets:` (a Debian package: "debian-<name>")

    def hub_repo(self, org: str | None = None) -> str:
        return f"{org or HUB_ORG.get() or DEFAULT_HUB_ORG}/{self.id}"

    def local_dir(self) -> Path:
        return checkpoints_root() / self.id

    def installed(self) -> bool:
        """A complete checkpoint is in checkpoints/ (a folder being trained into is not)."""
        return is_complete(self.local_dir())


GENRES: dict[str, Genre] = {g.id: g for g in (
    Genre("baroque-chorale", "Baroque chorale", "bach-chorales",
          "J. S. Bach's four-part chorale settings (music21 corpus 'bach')", 19, 76,
          {"transpose": list(range(-3, 4)), "epochs": 12,
           "parts": named_parts(*((voice, CHOIR) for voice in ("Soprano", "Alto", "Tenor", "Bass"))),
           "model": {"pitch_features": True, "top_line_features": True}}, key_bias=1.0,
          licence="mit", music_licence=f"the chorales are in the public domain (Bach died in 1750); {MUSIC21_TERMS}"),
    Genre("renaissance-polyphony", "Renaissance polyphony", "palestrina",
          "Palestrina's masses and motets (music21 corpus 'palestrina')", 52, 72,
          {"epochs": 20, "model": {"pitch_features": True},
           "parts": named_parts(*((voice, CHOIR) for voice in ("Soprano", "Soprano 2", "Alto", "Alto 2", "Tenor",
                                                                 "Tenor 2", "Bass")))},
          licence="mit", music_licence=f"the music is in the public domain (Palestrina died in 1594); {MUSIC21_TERMS}"),
    Genre("irish-fiddle", "Irish fiddle", "oneills1850",
          "O'Neill's Music of Ireland, 1850 tunes (music21 corpus 'oneills1850')", 40, 132,
          {"epochs": 24, "model": {"pitch_features": True}},
          licence="mit", music_licence=f"the tunes are in the public domain (printed 1903); {MUSIC21_TERMS}"),
    Genre("chinese-folk", "Chinese folk song", "essen-chinese",
          "Essen folk-song collection, Han Chinese songs (essenFolksong/han1, han2)", 75, 88,
          {"epochs": 40, "model": {"pitch_features": True, "range_conditioning": True}},
          licence="mit", music_licence=ESSEN_TERMS),
    Genre("german-folk", "German folk song", "essen-german",
          "Essen folk-song collection, German songs (altdeu, erk, boehme, fink, ballad, kinder, zuccal, dva)",
          21, 100, {"epochs": 20}, licence="mit", music_licence=ESSEN_TERMS),
    Genre("classical-quartet", "Classical string quartet", "quartets",
          "String quartets by Haydn, Mozart and Beethoven (music21 corpus)", 48, 100,
          {"transpose": list(range(-3, 4)), "epochs": 14, "model": {"pitch_features": True, "window": 128},
           "parts": named_parts(("Violin I", VIOLIN), ("Violin II", VIOLIN), ("Viola", VIOLA), ("Cello", CELLO))},
          key_bias=1.0, grid_bias=4.0,
          licence="mit", music_licence=f"the quartets are in the public domain (Haydn, Mozart, Beethoven); {MUSIC21_TERMS}"),
    Genre("american-fiddle", "American fiddle", "ryans-mammoth",
          "Ryan's Mammoth Collection, 1883 fiddle tunes (music21 corpus 'ryansMammoth')", 40, 120,
          {"epochs": 40, "model": {"pitch_features": True}}, temperature=0.9,
          licence="mit", music_licence=f"the tunes are in the public domain (printed 1883); {MUSIC21_TERMS}"),
    Genre("scottish-fiddle", "Scottish fiddle", "airds-airs",
          "Aird's Selection of Scotch, English, Irish and Foreign Airs, 1778-1803 (music21 corpus 'airdsAirs')",
          40, 144, {"epochs": 40, "model": {"pitch_features": True}}, temperature=0.85,
          licence="mit", music_licence=f"the tunes are in the public domain (printed 1778-1803); {MUSIC21_TERMS}"),
    Genre("rock-metal", "Rock and metal (Freedoom)", "freedoom",
          "The Freedoom soundtrack: 66 songs, MIDI lumps of Debian's freedoom WADs (setup.sh --music)",
          OVERDRIVEN_GUITAR, 140,
          {"transpose": list(range(-5, 7)), "epochs": 16, "max_parts": 5, "model": {"pitch_features": True, "dropout": 0.3}},
          temperature=0.8, key_bias=4.0, register_margin=3, grid_bias=4.0, licence="bsd-3-clause", music_licence=FREEDOOM_TERMS, datasets=("debian-freedoom",)),
)}


def checkpoints_root() -> Path:
    """$GENRE_LSTM_CHECKPOINTS, else the checkpoints inside the installed package (a wheel carries
    them as genre_lstm/checkpoints), else checkpoints/ of a source checkout."""
    chosen = CHECKPOINTS.get()
    if chosen:
        return Path(chosen)
    package = Path(__file__).resolve().parents[1]
    inside = package / "checkpoints"
    return inside if inside.is_dir() else package.parent / "checkpoints"


def get_genre(genre_id: str) -> Genre:
    try:
        return GENRES[genre_id]
    except KeyError:
        raise UnknownGenreError(f"unknown genre {genre_id!r}; choose one of {', '.join(GENRES)}") from None


def representation_note(genre: Genre, metric_position: bool = False, parts: list | None = None,
                        previous_in_part: bool = False) -> str:
    """How the genre's music becomes steps, and why (for its model card); ``metric_position``: the
    checkpoint was trained with metric positions and long rhythm classes; ``parts``: the parts the
    checkpoint plays (None or one: it plays one line, whatever parts the genre trains now);
    ``previous_in_part``: its token scores see each part's latest pitch."""
    if parts and len(parts) > 1:
        source = ("read from the scores' own parts (matched by name, then by General MIDI role; other instruments "
                  "dropped)" if genre.train.get("parts") else
                  "the General MIDI roles most of the files have (drums on channel 10 a role of their own; a track "
                  "goes to the part of its role, other instruments dropped), each playing its role's commonest program")
        note = (f"- Parts: {', '.join(part.name for part in parts)}, {source}. A part's notes that start together "
                "form one step, steps run by onset and then part (a zero gap between parts sounding together), and "
                "the network samples each step's part first, then its pitches, duration and gap given the part. "
                "Tokens are the pitch sets of single parts, so almost every held-out step has one.")
        if previous_in_part:
            note += (" The token scores also see the latest pitch the sampled part played (however many other "
                     "parts sounded since), so each part's line moves as it does in the music; a part is sampled "
                     "only inside the range it played in training.")
    else:
        note = ("- Reduction: all parts are merged; the notes that start together form one step (their pitch "
                "set), and notes still sounding from earlier steps are not repeated (music21's chordify would "
                "re-strike them and multiply the steps). A step's duration is its longest note.")
    shifts = genre.train.get("transpose")
    if shifts:
        note += (f"\n- Augmentation: the training pieces are also transposed by {min(shifts):+d} to {max(shifts):+d} "
                 "semitones, so chords are learned in every key and the vocabulary of the most frequent pitch "
                 "sets covers more of the held-out music.")
    if genre.train.get("model", {}).get("pitch_features"):
        note += ("\n- Pitch features: each pitch-set token is also seen and scored through its pitches (MIDI "
                 "pitches, pitch classes and the bass's class, a fixed table built from the vocabulary): the "
                 "network adds a projection of the sounding pitches to its input, and a score per pitch, summed "
                 "over each token's pitches, to its token logits. Chords sharing notes or a key then share what "
                 "is learned (EVALUATION.md gives the figures with and without).")
    if metric_position:
        note += ("\n- Metric position: each step keeps where it falls in its bar (grid units from the bar line) and its "
                 "bar's time signature, read from the score's measures (a pickup measure counted from where its "
                 "full bar would start); the network sees the position and meter of the step it predicts, "
                 "generation carries them on from the seed, and written MIDI files carry the time signature and "
                 "start each piece at its true place in the bar. Durations and gaps run to four whole notes "
                 "(held and tied notes), every eighth note beyond a whole note.")
    if genre.train.get("model", {}).get("range_conditioning"):
        note += ("\n- Range conditioning: the network sees the piece's lowest and highest pitch at every step (in "
                 "generation, the seed's), so a long continuation keeps the seed's register. Without a seed, each "
                 "variation is asked for the register of a training piece drawn at random (the network never saw "
                 "a piece without one).")
    if genre.train.get("model", {}).get("top_line_features"):
        note += ("\n- Top-line features: each token's highest pitch is one more feature of its own, so the melody's "
                 "next note gets a score of its own instead of being learned chord by chord.")
    return note

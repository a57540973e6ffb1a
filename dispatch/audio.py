"""A resident's voice message made playable in a browser: WeChat's AMR (or Speex) copied to MP3 with ffmpeg.

The original file is kept as it came; the MP3 is kept beside it under the same name (`ab/123.amr` →
`ab/123.mp3`), made when the media-fetch job saves the voice or, failing that, the first time a page shows
it. MP3 because every browser staff use plays it, WeChat's own on iPhones included. ffmpeg comes from
Debian (`apt-get install ffmpeg`); without it the page says so and offers the original for download.
"""
import logging
import os
import random
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

PLAYABLE = "mp3"
PLAYABLE_TYPE = "audio/mpeg"
# What WeChat sends (the media job names the file by the message's Format) and what each is served as.
ORIGINAL_TYPES = {"amr": "audio/amr", "speex": "audio/speex", "mp3": PLAYABLE_TYPE}
TIMEOUT_SECONDS = 30  # WeChat voices last at most 60 s; converting one takes well under a second
NO_FFMPEG = "语音无法在网页播放：服务器未安装 ffmpeg，可下载原始文件"
NOT_CONVERTED = "语音无法在网页播放：这段录音的格式无法转换，可下载原始文件"
# Mono, 22.05 kHz, 48 kbit/s: a 60-second voice is about 360 KB, and MPEG-2 layer III plays everywhere.
MP3_ARGS = ("-vn", "-ac", "1", "-ar", "22050", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3")


@dataclass(frozen=True)
class Voice:
    """What a page shows of a ticket's voice: the original to download, and the MP3 to play or why there is none."""

    original: str
    playable: str | None = None
    problem: str | None = None


def playable_key(key):
    """The key of a voice's MP3 copy (the original's own key when it is an MP3 already)."""
    return key.rsplit(".", 1)[0] + "." + PLAYABLE


def originals_of(key):
    """The keys a voice file served under this key may have been saved as (itself, or the original of an MP3)."""
    stem, _, ext = key.rpartition(".")
    return [key] if ext != PLAYABLE else [f"{stem}.{original}" for original in ORIGINAL_TYPES]


def content_type(key):
    """The content type a voice file is served with."""
    return ORIGINAL_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


def find_ffmpeg(name):
    """The ffmpeg program to run (a name looked up on PATH, or a path), or None when it is not installed."""
    return shutil.which(name) if name else None


def convert_to_mp3(ffmpeg, source, target):
    """Write an MP3 of the audio file `source` at `target`; False (and a log line) when ffmpeg could not."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")  # never serve a half-written file
    command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), *MP3_ARGS,
               str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("voice %s: ffmpeg could not run: %s", source.name, exc)
        partial.unlink(missing_ok=True)
        return False
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        error = done.stderr.decode("utf-8", "replace").strip()[-300:]
        log.warning("voice %s: ffmpeg could not convert it (exit %s): %s", source.name, done.returncode, error)
        partial.unlink(missing_ok=True)
        return False
    os.replace(partial, target)
    return True


def make_playable(store, key, ffmpeg_name):
    """The voice under `key` with its MP3 copy made now if it has none and ffmpeg is installed."""
    playable = playable_key(key)
    if store.path(playable) is not None:
        return Voice(key, playable)
    source = store.path(key)
    if source is None:
        log.warning("voice %s: the original file is missing", key)
        return Voice(key, problem=NOT_CONVERTED)
    ffmpeg = find_ffmpeg(ffmpeg_name)
    if ffmpeg is None:
        log.warning("voice %s cannot be played in the browser: ffmpeg is not installed (apt-get install ffmpeg)",
                    key)
        return Voice(key, problem=NO_FFMPEG)
    if convert_to_mp3(ffmpeg, source, store.place(playable)):
        return Voice(key, playable)
    return Voice(key, problem=NOT_CONVERTED)


# AMR-NB at 12.2 kbit/s: a one-byte frame header (mode 7, quality bit set), then 31 bytes for 20 ms of speech.
AMR_MAGIC = b"#!AMR\n"
AMR_FRAME_HEADER = b"\x3c"
AMR_FRAME_BYTES = 31
AMR_FRAMES_PER_SECOND = 50


def sample_amr(seconds=1.0, seed=0):
    """A real AMR-NB file of `seconds` (what WeChat sends) for the demo's simulator and the tests.

    Debian's ffmpeg decodes AMR but cannot encode it, so the frames are written here: every 244-bit frame
    is valid speech data to the decoder, and arbitrary bits decode to a murmur.
    """
    bits = random.Random(seed)
    frames = (AMR_FRAME_HEADER + bits.randbytes(AMR_FRAME_BYTES) for _ in range(int(seconds * AMR_FRAMES_PER_SECOND)))
    return AMR_MAGIC + b"".join(frames)
